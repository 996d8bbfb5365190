"""Unrolled Keras recurrent models (tests/models/keras_gru_kws*, made by make_recurrent_models.py) beyond
test_exporter_models.py: the 16x8 and float32 modes on the GRU, and its weights stored once for all 49 steps."""
import re

import numpy as np
import pytest
import tflite

import exporter_models as em
import mcu_codegen

GRU = em.MODELS / "keras_gru_kws.onnx"


def gru(mode):
    conv = mcu_codegen.Converter.from_onnx(GRU)
    conv.mode = mode
    if mode != "float32":
        conv.representative_dataset = [em.halves(em.data(GRU))[0]]
    conv.inference_input_type = conv.inference_output_type = "float32"
    return conv.convert()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["int16x8", "float32"])
def test_gru_modes_c_equals_reference(mode):
    """16x8: the C equals its reference bit for bit and reaches 47 dB against onnxruntime (measured 50.8; int8: 36.7); float32:
    the C within float32 rounding (1e-4 of the output range) of its reference, which equals onnxruntime."""
    model = gru(mode)
    evaluation = em.halves(em.data(GRU))[1]
    got, ref = model.build().run(evaluation), model.reference(evaluation)
    want = em.onnxruntime(GRU, evaluation)[0]
    (name,) = got
    if mode == "int16x8":
        np.testing.assert_array_equal(got[name], ref[name])
        sqnr = em.sqnr_db(want, got[name].reshape(want.shape))
        print(f"GRU 16x8 SQNR {sqnr:.1f} dB vs onnxruntime")
        assert sqnr >= 47  # measured 50.8
    else:
        scale = np.abs(want).max()
        assert np.abs(ref[name].reshape(want.shape) - want).max() <= 1e-4 * scale
        assert np.abs(got[name] - ref[name]).max() <= 1e-4 * scale


def test_gru_weights_are_one_array_for_all_steps():
    """The 49 steps' FULLY_CONNECTED nodes read one recurrent matrix (192 x 64) and one input matrix
    (192 x 10): each is one const array in the C, and the weight bytes do not grow with the steps (the
    requantization arrays of each step's output scale do: the file gives every step its own)."""
    model = em.convert(em.MODELS / "keras_gru_kws_int8.tflite")
    source = model.files["model.c"]
    fcs = [i for i, n in enumerate(model.graph.nodes) if n.op == "fully_connected"]
    assert len(fcs) == 98
    arrays = re.findall(r"static const int8_t (n\d+_weights)\[(\d+)\]", source)
    assert sorted(int(n) for _, n in arrays) == [768, 1920, 12288]
    readers = re.findall(r"\.weights = (n\d+_weights)", source)
    assert len(readers) == 98 and len(set(readers)) == 3


def test_fill_of_a_computed_shape_is_a_constant():
    """An open batch's zero state: SHAPE -> FILL (TFLM refuses a FILL of a computed shape) is a constant node;
    the model equals TFLM's run of the same ADD with that constant in the file."""
    import tflite
    from tflite16 import int8_t, ops_model, run_imported, run_tflm
    B, O = tflite.BuiltinOperator, tflite.BuiltinOptions

    def add_options(b):
        tflite.AddOptionsStart(b)
        return tflite.AddOptionsEnd(b)
    x, zero = int8_t((1, 4, 8), 0.05, -3), dict(int8_t((), 0.02, 5), data=np.array(5, np.int8))
    filled, out = int8_t((1, 4, 8), 0.02, 5), int8_t((1, 4, 8), 0.06, 2)
    computed = ops_model([(B.SHAPE, 0, None, [0], [1]), (B.FILL, 0, None, [1, 2], [3]),
                          (B.ADD, O.AddOptions, add_options, [0, 3], [4])],
                         [x, dict(shape=(3,), type=tflite.TensorType.INT32, scales=[], zps=[]), zero, filled, out],
                         [0], [4])
    folded = ops_model([(B.ADD, O.AddOptions, add_options, [0, 1], [2])],
                       [x, dict(filled, data=np.full((1, 4, 8), 5, np.int8)), out], [0], [2])
    xs = np.random.default_rng(0).integers(-128, 128, (8, 1, 4, 8)).astype(np.int8)
    np.testing.assert_array_equal(run_imported(computed, [xs], "int8"), run_tflm(folded, [xs]))


def test_stateful_native_tflite_lstm_equals_tflm_without_reset():
    """The converter's int8 Keras LSTM file (two UNIDIRECTIONAL_SEQUENCE_LSTM) with --stateful: 8 invokes in
    turn, TFLM never reset, equal to the generated C and the twins bit for bit; four state tensors (h, c of
    each layer) kept in the arena, reset_state puts h at its zero point and c at 0, and the C then runs as a new
    interpreter does."""
    import tflite16 as t16
    path = em.MODELS / "keras_lstm_native_int8.tflite"
    conv = mcu_codegen.Converter.from_tflite(path)
    conv.stateful = True
    m = conv.convert()
    assert sorted(r["dtype"] for r in m.report["state"]) == ["int16", "int16", "int8", "int8"]
    meta = m.report["inputs"][0]
    xs = m.quantize_inputs({meta["name"]: next(iter(em.data(path).values()))[:8]})[meta["name"]]
    xs = xs.reshape((8,) + tuple(meta["shape"]))
    want = t16.run_tflm(path.read_bytes(), [xs])
    host = m.build()
    out = m.report["outputs"][0]["name"]
    for got in (host.run({meta["name"]: xs})[out], m.reference({meta["name"]: xs})[out]):
        np.testing.assert_array_equal(got.reshape(want.shape), want)
    kept = [bytes(host.ffi.buffer(host.arena + r["offset"], r["size"])) for r in m.report["state"]]
    assert all(len(set(k)) > 4 for k in kept)  # h and c of the last step are in the arena for the next invoke
    host.reset_state()
    assert [bytes(host.ffi.buffer(host.arena + r["offset"], r["size"])) for r in m.report["state"]] == \
        [bytes([r["zero_point"] % 256]) * r["size"] for r in m.report["state"]]
    fresh = t16.run_tflm(path.read_bytes(), [xs[1:]])
    np.testing.assert_array_equal(host.run({meta["name"]: xs[1:]})[out].reshape(fresh.shape), fresh)
    # (20 steps forget where they started: this model's outputs are the same with the state kept or not; the
    # one-operator files of tests/ops/test_lstm.py show the state's effect)


def test_stateful_cli_header_and_refusal(tmp_path):
    """`mcu-codegen convert m.tflite --stateful` on an SVDF file: exit 0, no warning, model.h declares
    model_reset_state and MODEL_STATE_SIZE; without --stateful a one-line warning; a model without any recurrent
    state is refused in one line with status 2."""
    import subprocess
    import sys

    import tflite16 as t16
    from ops.test_svdf import svdf_model
    path = tmp_path / "svdf.tflite"
    path.write_bytes(svdf_model(np.random.default_rng(1))[0])

    def convert(*extra, src=path):
        return subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(src), "-o",
                               str(tmp_path / f"out{len(extra)}"), *extra], capture_output=True, text=True)
    done = convert("--stateful")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr
    header = (tmp_path / "out1" / "model.h").read_text()
    assert "void model_reset_state(void *arena);" in header and "#define MODEL_STATE_SIZE 80" in header
    plain = convert()
    lines = [line for line in plain.stderr.splitlines() if "warning" in line]
    assert plain.returncode == 0 and len(lines) == 1 and "only the newest memory slot" in lines[0]
    other = tmp_path / "relu.tflite"
    other.write_bytes(t16.ops_model([(tflite.BuiltinOperator.RELU, 0, None, [0], [1])],
                                    [t16.int8_t((1, 4), 0.1, 0), t16.int8_t((1, 4), 0.1, 0)], [0], [1]))
    refused = convert("--stateful", src=other)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "no recurrent state" in refused.stderr
