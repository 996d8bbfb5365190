"""UNIDIRECTIONAL_SEQUENCE_LSTM: one-operator int8 .tflite files (built with the TFLite schema) run by TFLM's
interpreter, reset before each sample (every call is one sequence from the zero state, as the tool's default),
equal to the twin and to the C kernel bit for bit over edge shapes; the refusals of what TFLM does not run."""
import zlib

import numpy as np
import pytest
import tflite
import tflite16 as t16
from tflite16 import T

from mcu_codegen.ops import lstm

# input indices of the operator's 24: the 8 weights and 4 biases, the hidden and cell state; the rest absent
INPUTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]


def lstm_model(rng, batch=1, steps=3, n_in=5, units=6, time_major=False, cell_clip=0.0, x_q=(0.05, 3),
               h_q=(2 / 256, -5), cell_log2=-11, bias_range=3000, extra=None, dtype="int8", out_q=None,
               float_weights=None):
    """A one-operator LSTM file: int8 input / hidden / output, int8 weights of one scale each, int32 biases at
    x_scale * w_scale, int16 cell state at 2^cell_log2; or (dtype float32) all float32, random weights, or
    float_weights: (4 input weight matrices, 4 recurrent ones, 4 biases) for i, f, c, o.
    extra: {input index: tensor} added (a peephole...)."""
    x_shape = (steps, batch, n_in) if time_major else (batch, steps, n_in)
    y_shape = x_shape[:2] + (units,)
    if dtype == "float32":
        tensors = [t16.float_t(x_shape)]
        shapes = [(units, n_in if j < 4 else units) for j in range(8)]
        w_in, w_rec, b = float_weights or ([rng.normal(0, 0.5, s) for s in shapes[:4]],
                                           [rng.normal(0, 0.5, s) for s in shapes[4:]],
                                           [rng.normal(0, 0.5, units) for _ in range(4)])
        tensors += [t16.float_t(shape, w) for shape, w in zip(shapes, list(w_in) + list(w_rec))]
        tensors += [t16.float_t((units,), v) for v in b]
        tensors += [dict(t16.float_t((batch, units)), variable=True) for _ in range(2)]
    elif dtype == "int16":  # 16x8: symmetric int16 activations, int64 biases
        x_q, h_q = (x_q[0] / 64, 0), (h_q[0] / 128, 0)
        tensors = [t16.activation_t(x_shape, x_q[0])]
        w_scales = [float(rng.uniform(0.004, 0.03)) for _ in range(8)]
        tensors += [t16.weights_t(rng.integers(-127, 128, (units, n_in if j < 4 else units)), [w_scales[j]], 0)
                    for j in range(8)]
        tensors += [t16.bias_t(rng.integers(-64 * bias_range, 64 * bias_range + 1, units), x_q[0], [w_scales[j]])
                    for j in range(4)]
        tensors.append(dict(t16.activation_t((batch, units), h_q[0]), variable=True))
        tensors.append(dict(t16.activation_t((batch, units), 2.0 ** cell_log2), variable=True))
    else:
        tensors = [t16.int8_t(x_shape, *x_q)]
        w_scales = []
        for j in range(8):
            w_scales.append(float(rng.uniform(0.004, 0.03)))
            w = rng.integers(-127, 128, (units, n_in if j < 4 else units)).astype(np.int8)
            tensors.append(dict(shape=w.shape, type=T.INT8, scales=[w_scales[-1]], data=w))
        for j in range(4):
            b = rng.integers(-bias_range, bias_range + 1, units).astype(np.int32)
            tensors.append(dict(shape=(units,), type=T.INT32, scales=[x_q[0] * w_scales[j]], data=b))
        tensors.append(dict(t16.int8_t((batch, units), *h_q), variable=True))
        tensors.append(dict(shape=(batch, units), type=T.INT16, scales=[2.0 ** cell_log2], zps=[0], variable=True))
    ins = list(INPUTS)
    for j, t in (extra or {}).items():
        ins[j] = len(tensors)
        tensors.append(t)
    tensors.append(t16.float_t(y_shape) if dtype == "float32" else t16.activation_t(y_shape, h_q[0])
                   if dtype == "int16" else t16.int8_t(y_shape, *(out_q or h_q)))

    def options(b):
        tflite.UnidirectionalSequenceLSTMOptionsStart(b)
        tflite.UnidirectionalSequenceLSTMOptionsAddFusedActivationFunction(b, tflite.ActivationFunctionType.TANH)
        tflite.UnidirectionalSequenceLSTMOptionsAddCellClip(b, cell_clip)
        tflite.UnidirectionalSequenceLSTMOptionsAddTimeMajor(b, time_major)
        return tflite.UnidirectionalSequenceLSTMOptionsEnd(b)
    out = len(tensors) - 1
    model = t16.ops_model([(tflite.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM,
                            tflite.BuiltinOptions.UnidirectionalSequenceLSTMOptions, options, ins, [out])],
                          tensors, [0], [out])
    return model, x_shape


def run_tflm_reset(model, xs):
    return t16.run_tflm(model, [xs], reset=True)


CASES = {
    "base": dict(),
    "units_not_multiple_of_4_input_size_1": dict(units=7, n_in=1, steps=4),
    "batch_2": dict(batch=2, steps=5, units=3),
    "time_major_batch_2": dict(time_major=True, batch=2, steps=4),
    "time_major_batch_1": dict(time_major=True, steps=2, units=9, n_in=3),
    "cell_clip": dict(cell_clip=0.4, steps=6),
    "cell_scale_2^-15": dict(cell_log2=-15, steps=4),
    "cell_scale_2^-8": dict(cell_log2=-8, steps=4),
    "zero_points_-128": dict(x_q=(0.03, -128), h_q=(1 / 256, -128)),
    "zero_points_127": dict(x_q=(0.03, 127), h_q=(1 / 128, 127)),  # h >= 0 saturates: few distinct outputs
    "input_zero_point_127": dict(x_q=(0.03, 127)),
    "one_step": dict(steps=1, units=1, n_in=2),
    "long_sequence": dict(steps=25, units=5, n_in=4, bias_range=20000),
    "output_quantization_not_the_hidden_states": dict(out_q=(0.05, 9)),  # TFLM copies h's bytes all the same
}


def seed(case):
    """A case's own seed (adding a case changes no other's data)."""
    return zlib.crc32(case.encode())


@pytest.mark.parametrize("case", CASES)
def test_int8_equals_tflm(run_kernel, tmp_path, case):
    rng = np.random.default_rng(seed(case))
    model, x_shape = lstm_model(rng, **CASES[case])
    xs = rng.integers(-128, 128, (6,) + x_shape).astype(np.int8)
    want = t16.recurrent_op_equals_tflm(run_kernel, lstm, model, xs, tmp_path)
    distinct = 2 if case == "zero_points_127" else min(8, want.size // 2)
    assert len(set(want.reshape(-1).tolist())) > distinct, "the case saturates: it tests nothing"


def test_through_the_tool_equals_tflm():
    """The generated C (the node's state in its arena scratch) compiled and run: TFLM's outputs, and the same
    outputs on a second run (each call starts from the zero state)."""
    rng = np.random.default_rng(40)
    model, x_shape = lstm_model(rng, batch=2, steps=6, units=5, n_in=3)
    xs = rng.integers(-128, 128, (5,) + x_shape).astype(np.int8)
    want = run_tflm_reset(model, xs)
    got = t16.run_imported(model, [xs], "int8")
    np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_int_ref_close_to_float_ref():
    """The twin within a few hidden-state steps of the float LSTM on the dequantized weights."""
    rng = np.random.default_rng(41)
    model, x_shape = lstm_model(rng, steps=8, units=6, n_in=4, bias_range=500)
    import tempfile
    with tempfile.TemporaryDirectory() as work:
        conv = t16.converted(model, work)
    node = conv.graph.nodes[0]
    a = node.attrs
    x_t = conv.graph.tensors[node.inputs[0]]
    xs = rng.integers(-128, 128, (4,) + x_shape).astype(np.int8)
    attrs = dict(a, input_weights=a["input_weights"] * a["input_scales"][:, None, None],
                 recurrent_weights=a["recurrent_weights"] * a["recurrent_scales"][:, None, None],
                 bias=a["bias"] * (float(x_t.scale) * a["input_scales"])[:, None])
    want = lstm.float_ref(attrs, (xs.astype(np.float32) - x_t.zero_point) * x_t.scale)
    got = (lstm.int_ref(node.params, xs) - a["hidden_zp"]) * a["hidden_scale"]
    assert np.abs(got - want).max() <= 3 * a["hidden_scale"]


PEEPHOLE = dict(shape=(6,), type=T.INT16, scales=[0.01], zps=[0], data=np.ones(6, np.int16))


@pytest.mark.parametrize("extra, cell_log2, message", [
    ({10: PEEPHOLE}, -11, "peephole"),
    ({20: PEEPHOLE}, -11, "layer norm"),
    ({}, -11.5, "not a power of two"),
])
def test_refusals_name_the_operator(tmp_path, extra, cell_log2, message):
    from mcu_codegen.ir import ConversionError
    model, _ = lstm_model(np.random.default_rng(3), extra=extra, cell_log2=cell_log2)
    with pytest.raises(ConversionError, match=f"operator 0 \\(UNIDIRECTIONAL_SEQUENCE_LSTM\\).*{message}"):
        t16.converted(model, tmp_path)


@pytest.mark.parametrize("case", ["base", "time_major_batch_2", "cell_clip", "units_not_multiple_of_4_input_size_1"])
def test_float32_close_to_tflm(run_kernel, tmp_path, case):
    """float32: the float reference within float32 rounding of TFLM's float kernel (both sum in their own order
    and take their own exp / tanh), and the C kernel within the same of the reference."""
    rng = np.random.default_rng(50 + seed(case))
    kw = {k: v for k, v in CASES[case].items() if k not in ("x_q", "h_q", "cell_log2", "bias_range")}
    model, x_shape = lstm_model(rng, dtype="float32", **kw)
    xs = rng.normal(0, 1, (4,) + x_shape).astype(np.float32)
    want = t16.recurrent_op_equals_tflm(run_kernel, lstm, model, xs, tmp_path, mode="float32", atol=2e-6)
    assert np.abs(want).max() > 0.3  # the gates leave their linear range


def test_float_lstm_quantized_by_the_tool(run_kernel, tmp_path):
    """A float LSTM file calibrated into int8 (TFLite's per-matrix weight scales, the cell state calibrated): the
    C kernel equals the twin, and the twin is within 35 dB of TFLM's float LSTM."""
    import mcu_codegen
    rng = np.random.default_rng(60)
    model, x_shape = lstm_model(rng, dtype="float32", batch=1, steps=8, units=6, n_in=4)
    xs = rng.normal(0, 1, (32,) + x_shape).astype(np.float32)
    path = tmp_path / "lstm.tflite"
    path.write_bytes(model)
    conv = mcu_codegen.Converter.from_tflite(path)
    conv.representative_dataset = [[xs]]
    conv.inference_input_type = conv.inference_output_type = "float32"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = conv.convert()
    node = next(n for n in m.graph.nodes if n.op == "lstm")
    x_t, y_t = (m.graph.tensors[t] for t in (node.inputs[0], node.outputs[0]))
    q = np.clip(np.round(xs / x_t.scale) + x_t.zero_point, -128, 127).astype(np.int8)
    twin = lstm.int_ref(node.params, q)
    c = np.stack([run_kernel(lstm, node.params, [x], y_t.shape, np.int8) for x in q])
    np.testing.assert_array_equal(c, twin)
    want = run_tflm_reset(model, xs)
    got = (twin.reshape(want.shape) - y_t.zero_point) * float(y_t.scale)
    assert 10 * np.log10(np.sum(want ** 2) / np.sum((want - got) ** 2)) > 35


@pytest.mark.parametrize("cell_max, log2", [(0.0, -15), (0.99996, -15), (1.0, -14), (29.83, -10), (32767.0, 0),
                                            (1e6, 0)])
def test_calibrated_cell_scale(cell_max, log2):
    """The finest power of two of TFLM's 2^-15 .. 2^0 whose int16 grid holds the calibrated max |c|."""
    assert lstm.calibrated_cell_log2(cell_max) == log2


@pytest.mark.parametrize("mode, cell_clip, cell_log2", [("int8", 0.0, -10), ("int16x8", 0.0, -10),
                                                        ("int8", 12.0, -11)])
def test_float_lstm_cell_state_calibrated(mode, cell_clip, cell_log2):
    """The cell state's scale comes from calibration (max |c| of the float run): an LSTM whose cell counts the
    steps (input, forget and output gates open, c += tanh(3 x)) reaches |c| = 30 after 30 steps of +1, then
    falls by 1 a step over 20 steps of -1. At a fixed 2^-11 (|c| < 16) it saturated and h at the last step came
    out 0 instead of 1; calibrated (2^-10; with a cell clip of 12, 2^-11): C == twin and the
    last steps' h within 2 int8 steps (int16: 2^-6 of the int8 step) of TFLM's float LSTM."""
    import warnings

    import mcu_codegen
    steps = 50
    one = [[0.0]]
    model, x_shape = lstm_model(None, steps=steps, n_in=1, units=1, dtype="float32", cell_clip=cell_clip,
                                float_weights=([one, one, [[3.0]], one], [one] * 4, [[10.0], [10.0], [0.0], [10.0]]))
    x = np.concatenate([np.ones(30), -np.ones(20)]).astype(np.float32).reshape((1,) + x_shape)
    xs = np.concatenate([x, -x, 0.5 * x])
    import tempfile
    with tempfile.TemporaryDirectory() as work:
        path = f"{work}/lstm.tflite"
        open(path, "wb").write(model)
        conv = mcu_codegen.Converter.from_tflite(path)
    conv.mode, conv.representative_dataset = mode, [[xs]]
    conv.inference_input_type = conv.inference_output_type = "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = conv.convert()
    node = next(n for n in m.graph.nodes if n.op == "lstm")
    assert node.attrs["cell_abs_max"] == pytest.approx(cell_clip or 30 * np.tanh(3.0), rel=1e-3)
    assert (node.params["tanh_mult"], node.params["tanh_shift"]) == lstm.tanh_rescale(cell_log2)
    name = m.report["inputs"][0]["name"]
    (got,), (ref,) = m.build().run({name: xs}).values(), m.reference({name: xs}).values()
    np.testing.assert_array_equal(got, ref)
    want = run_tflm_reset(model, xs).reshape(got.shape)
    y_t = m.graph.tensors[node.outputs[0]]
    assert np.abs(want[:, 0, -1]).min() > 0.7  # the cell at the end is still far from 0: tanh(c) near +-1
    tolerance = 2 * float(y_t.scale) if mode == "int8" else 1e-3
    np.testing.assert_allclose(got[:, 0, -5:], want[:, 0, -5:], atol=tolerance)


@pytest.mark.parametrize("case", ["base", "batch_2", "time_major_batch_2", "cell_clip", "cell_scale_2^-15",
                                  "units_not_multiple_of_4_input_size_1", "long_sequence"])
def test_int16x8_equals_tflm(run_kernel, tmp_path, case):
    """16x8 (int16 activations and hidden state, int64 biases, TFLM's EvalLstm of int16): twin and C == TFLM."""
    rng = np.random.default_rng(70 + seed(case))
    kw = {k: v for k, v in CASES[case].items() if k not in ("x_q", "h_q")}
    model, x_shape = lstm_model(rng, dtype="int16", **kw)
    xs = rng.integers(-32768, 32768, (5,) + x_shape).astype(np.int16)
    want = t16.recurrent_op_equals_tflm(run_kernel, lstm, model, xs, tmp_path)
    assert len(set(want.reshape(-1).tolist())) > min(8, want.size // 2)


@pytest.mark.parametrize("mode, floor_db", [("int16x8", 55), ("float32", 120)])
def test_converter_float_file_in_the_other_modes(mode, floor_db):
    """The converter's float Keras LSTM file (tests/models) in 16x8 (C == twin bit for bit; 58.2 dB measured
    against TFLM's float LSTM) and float32 (C within float rounding: 144 dB measured)."""
    import warnings

    import exporter_models as em
    path = em.MODELS / "keras_lstm_native_float.tflite"
    calibration, evaluation = em.halves(em.data(path))
    conv = em.converter(path)
    conv.mode, conv.representative_dataset = mode, [calibration]
    conv.inference_input_type = conv.inference_output_type = "float32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = conv.convert()
    assert [n.op for n in model.graph.nodes].count("lstm") == 2
    feeds = dict(zip([m["name"] for m in model.report["inputs"]], evaluation.values()))
    (got,), (ref,) = model.build().run(feeds).values(), model.reference(feeds).values()
    if mode == "int16x8":
        np.testing.assert_array_equal(got, ref)
    (want,) = em.float_reference(path, evaluation)
    assert em.sqnr_db(want, got.reshape(want.shape)) >= floor_db


EMULATED = ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"]


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("mode", ["int8", "int16x8", "edges"])
def test_emulated_cores_equal_host_build(board, mode, tmp_path):
    """The converter's int8 LSTM file (int8), its float twin in 16x8 (int64 accumulators: libgcc's 64-bit
    multiply on the M0+) and a one-operator int8 file of 7 units and 5 inputs, batch 2, time major (the DSP
    form's dot products with a remainder on both sides) on every emulated core (the portable form on the M0+,
    the DSP one on the others): the host build's outputs bit for bit (the host's equal TFLM's: the tests
    above, test_exporter_models)."""
    import warnings

    import exporter_models as em

    from mcu_codegen import boards, target
    if mode == "edges":
        path = tmp_path / "edges.tflite"
        path.write_bytes(lstm_model(np.random.default_rng(8), batch=2, steps=3, n_in=5, units=7, time_major=True)[0])
    else:
        path = em.MODELS / ("keras_lstm_native_int8.tflite" if mode == "int8" else "keras_lstm_native_float.tflite")
    conv = em.converter(path)
    if mode == "int16x8":
        conv.mode, conv.representative_dataset = mode, [em.halves(em.data(path))[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = conv.convert()
    project = model.save(str(tmp_path / "project"))
    meta = model.report["inputs"][0]
    lo, hi = (-128, 128) if meta["dtype"] == "int8" else (-32768, 32768)
    x = np.random.default_rng(5).integers(lo, hi, (6,) + tuple(meta["shape"])).astype(meta["dtype"])
    feeds = {meta["name"]: x}
    got, _ = target.run_on_board(project, model.report, boards.load(board), feeds)
    host = model.build().run(feeds)
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])


STATEFUL = {"base": dict(), "batch_2_time_major": dict(time_major=True, batch=2, steps=2, units=5),
            "zero_points_-128": dict(x_q=(0.03, -128), h_q=(1 / 256, -128)), "cell_clip": dict(cell_clip=0.4),
            "int16x8": dict(dtype="int16", batch=2), "float32": dict(dtype="float32", batch=2)}


@pytest.mark.parametrize("case", STATEFUL)
def test_stateful_invokes_equal_tflm_without_reset(tmp_path, case):
    """--stateful: 8 sequences in turn, TFLM never reset (its h and c variable tensors persist), equal to the
    generated C and the twins bit for bit (float32: within rounding); h and c are persistent tensors (h at its
    zero point after reset_state), the scratch only one step's gates."""
    rng = np.random.default_rng(90 + seed(case))
    model, x_shape = lstm_model(rng, **STATEFUL[case])
    dtype = STATEFUL[case].get("dtype", "int8")
    if dtype == "float32":
        xs = rng.normal(0, 1, (8,) + x_shape).astype(np.float32)
        want, m = t16.stateful_op_equals_tflm(model, xs, tmp_path, mode="float32", atol=1e-5)
    else:
        lo, hi = (-128, 128) if dtype == "int8" else (-32768, 32768)
        xs = rng.integers(lo, hi, (8,) + x_shape).astype(dtype)
        want, m = t16.stateful_op_equals_tflm(model, xs, tmp_path)
        assert len(set(want.reshape(-1).tolist())) > 8
    units, batch = want.shape[-1], STATEFUL[case].get("batch", 1)
    h, cell = m.report["state"]
    assert (h["dtype"], cell["dtype"], cell["zero_point"]) == (dtype, "float32" if dtype == "float32" else "int16", 0)
    assert h["size"] == batch * units * {"int8": 1, "int16": 2, "float32": 4}[dtype]
    if dtype == "int8":
        assert h["zero_point"] == STATEFUL[case].get("h_q", (0, -5))[1]
    (node,) = m.graph.nodes
    assert node.scratch == 4 * units * (4 if dtype == "float32" else 2)


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_stateful_on_emulated_cores_equals_tflm(board, tmp_path):
    """--stateful on every emulated core (the portable form on the M0+, the DSP one on the others: 7 units, 5
    inputs, remainders on both sides): the harness resets the state once, then runs the samples in turn; TFLM
    never reset, bit for bit."""
    from mcu_codegen import boards, target
    model, x_shape = lstm_model(np.random.default_rng(8), batch=2, steps=3, n_in=5, units=7, time_major=True)
    xs = np.random.default_rng(9).integers(-128, 128, (6,) + x_shape).astype(np.int8)
    m = t16.converted(model, tmp_path, stateful=True)
    got, _ = target.run_on_board(m.save(str(tmp_path / "project")), m.report, boards.load(board),
                                 {m.report["inputs"][0]["name"]: xs})
    np.testing.assert_array_equal(got[m.report["outputs"][0]["name"]].reshape((6,) + x_shape[:2] + (7,)),
                                  t16.run_tflm(model, [xs]))


def test_stateful_refuses_a_float_lstm_the_tool_quantizes():
    """A float LSTM file quantized by the tool chooses its state's scales inside the node: with --stateful it is
    refused in one line naming the node (float32 runs it: test_stateful_invokes_equal_tflm_without_reset)."""
    import exporter_models as em

    from mcu_codegen.ir import ConversionError
    path = em.MODELS / "keras_lstm_native_float.tflite"
    conv = em.converter(path)
    conv.stateful, conv.representative_dataset = True, [em.halves(em.data(path))[0]]
    with pytest.raises(ConversionError, match=r"\(lstm\): --stateful: a float LSTM quantized by the tool"):
        conv.convert()
