"""SVDF: one-operator int8 .tflite files (the TFLite schema) run by TFLM's interpreter, reset before each sample
(every call from the zero state, as the tool's default), equal to the twin and the C kernel bit for bit; int16
and int8 activation states, ranks 1 and 2, batch 1 and 2."""
import numpy as np
import pytest
import tflite
import tflite16 as t16
from tflite16 import T

from mcu_codegen.ops import svdf


def svdf_model(rng, batch=1, n_in=6, filters=8, rank=2, memory=5, x_q=(0.05, 4), state_q=(0.01, 0),
               y_q=(0.02, -3), state_type=np.int16, relu=False):
    """A one-operator SVDF file: int8 (the state int16 or int8), or with state_type float32 all float32."""
    act = tflite.ActivationFunctionType.RELU if relu else tflite.ActivationFunctionType.NONE

    def options(b):
        tflite.SVDFOptionsStart(b)
        tflite.SVDFOptionsAddRank(b, rank)
        tflite.SVDFOptionsAddFusedActivationFunction(b, act)
        return tflite.SVDFOptionsEnd(b)
    if state_type == np.float32:
        tensors = [t16.float_t((batch, n_in))] + [
            t16.float_t(shape, rng.normal(0, 0.5, shape)) for shape in ((filters, n_in), (filters, memory),
                                                                       (filters // rank,))]
        tensors += [dict(t16.float_t((batch, filters * memory)), variable=True), t16.float_t((batch, filters // rank))]
        return t16.ops_model([(tflite.BuiltinOperator.SVDF, tflite.BuiltinOptions.SVDFOptions, options,
                               [0, 1, 2, 3, 4], [5])], tensors, [0], [5]), (batch, n_in)
    wide = state_type == np.int16
    wf_scale, wt_scale = float(rng.uniform(0.004, 0.02)), float(rng.uniform(1e-4, 5e-4) if wide else 0.01)
    wt_range = 2000 if wide else 127
    tensors = [t16.int8_t((batch, n_in), *x_q),
               dict(shape=(filters, n_in), type=T.INT8, scales=[wf_scale],
                    data=rng.integers(-127, 128, (filters, n_in)).astype(np.int8)),
               dict(shape=(filters, memory), type=T.INT16 if wide else T.INT8, scales=[wt_scale],
                    data=rng.integers(-wt_range, wt_range + 1, (filters, memory)).astype(state_type)),
               dict(shape=(filters // rank,), type=T.INT32,
                    scales=[float(np.float32(state_q[0]) * np.float32(wt_scale))],
                    data=rng.integers(-20000, 20001, filters // rank).astype(np.int32)),
               dict(shape=(batch, filters * memory), type=T.INT16 if wide else T.INT8, scales=[state_q[0]],
                    zps=[state_q[1]], variable=True),
               t16.int8_t((batch, filters // rank), *y_q)]
    return t16.ops_model([(tflite.BuiltinOperator.SVDF, tflite.BuiltinOptions.SVDFOptions, options,
                           [0, 1, 2, 3, 4], [5])], tensors, [0], [5]), (batch, n_in)


CASES = {"rank_2": dict(), "rank_1_batch_2": dict(rank=1, batch=2, filters=5, memory=3),
         "input_size_1": dict(n_in=1, filters=4, memory=1, rank=1), "zero_points_-128": dict(x_q=(0.03, -128)),
         "int8_state": dict(state_type=np.int8, state_q=(0.05, 7)),
         "zero_point_127": dict(x_q=(0.004, 127), y_q=(0.01, 60))}


@pytest.mark.parametrize("case", CASES)
def test_int8_equals_tflm(run_kernel, tmp_path, case):
    rng = np.random.default_rng(sorted(CASES).index(case))
    model, x_shape = svdf_model(rng, **CASES[case])
    xs = rng.integers(-128, 128, (16,) + x_shape).astype(np.int8)
    want = t16.recurrent_op_equals_tflm(run_kernel, svdf, model, xs, tmp_path)
    assert len(set(want.reshape(-1).tolist())) > min(8, want.size // 2)


def test_through_the_tool_equals_tflm():
    rng = np.random.default_rng(9)
    model, x_shape = svdf_model(rng, batch=2)
    xs = rng.integers(-128, 128, (6,) + x_shape).astype(np.int8)
    np.testing.assert_array_equal(t16.run_imported(model, [xs], "int8").reshape((6,) + (2, 4)),
                                  t16.run_tflm(model, [xs], reset=True))


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"])
def test_emulated_cores_equal_tflm(board, tmp_path):
    from mcu_codegen import boards, target
    rng = np.random.default_rng(11)
    model, x_shape = svdf_model(rng, batch=2, state_type=np.int8, state_q=(0.05, -9))
    xs = rng.integers(-128, 128, (6,) + x_shape).astype(np.int8)
    conv = t16.converted(model, tmp_path)
    project = conv.save(str(tmp_path / "project"))
    name = conv.report["inputs"][0]["name"]
    got, _ = target.run_on_board(project, conv.report, boards.load(board), {name: xs})
    np.testing.assert_array_equal(got[conv.report["outputs"][0]["name"]].reshape((6, 2, 4)),
                                  t16.run_tflm(model, [xs], reset=True))


@pytest.mark.parametrize("kw", [dict(), dict(rank=1, batch=2, filters=3, relu=True)])
def test_float32_close_to_tflm(run_kernel, tmp_path, kw):
    """float32 (TFLM's float SVDF, the fused activation applied): the reference and the C kernel within float32
    rounding of TFLM."""
    rng = np.random.default_rng(20)
    model, x_shape = svdf_model(rng, state_type=np.float32, **kw)
    xs = rng.normal(0, 1, (8,) + x_shape).astype(np.float32)
    want = t16.recurrent_op_equals_tflm(run_kernel, svdf, model, xs, tmp_path, mode="float32", atol=2e-6)
    assert np.abs(want).max() > 0.5


@pytest.mark.parametrize("case", ["int16_state", "int8_state", "int8_state_zero_point_-128", "float32"])
def test_stateful_frames_equal_tflm_without_reset(tmp_path, case):
    """--stateful: 8 frames in turn, TFLM never reset (its variable state persists, every memory slot counts),
    equal to the generated C and the twin bit for bit (float32: within rounding); reset_state (the int8 state's
    zero point) starts both over as TFLM's reset."""
    rng = np.random.default_rng(30 + ["int16_state", "int8_state", "int8_state_zero_point_-128", "float32"].index(case))
    kw = {"int16_state": dict(batch=2), "int8_state": dict(state_type=np.int8, state_q=(0.05, 7)),
          "int8_state_zero_point_-128": dict(state_type=np.int8, state_q=(0.05, -128), x_q=(0.03, 127)),
          "float32": dict(state_type=np.float32, relu=True)}[case]
    model, x_shape = svdf_model(rng, **kw)
    if case == "float32":
        xs = rng.normal(0, 1, (8,) + x_shape).astype(np.float32)
        want, m = t16.stateful_op_equals_tflm(model, xs, tmp_path, mode="float32", atol=2e-6)
    else:
        xs = rng.integers(-128, 128, (8,) + x_shape).astype(np.int8)
        want, m = t16.stateful_op_equals_tflm(model, xs, tmp_path)
        assert len(set(want.reshape(-1).tolist())) > 8
    (state,) = m.report["state"]
    assert state["size"] == 2 * int(np.prod(x_shape[:1])) * 8 * 5 * (2 if case == "float32" else 1)
    assert state["zero_point"] == (kw.get("state_q", (0, 0))[1] if case != "float32" else 0)
    assert not any(b["scratch"] for b in m.report["buffers"])  # the state is the arena's, not a scratch


def test_without_stateful_warns_once_in_one_line(tmp_path, recwarn):
    """The default (every invoke from the zero state) converts, warning that only the newest slot counts."""
    model, _ = svdf_model(np.random.default_rng(5))
    t16.converted(model, tmp_path)
    msgs = [str(w.message) for w in recwarn if "SVDF" in str(w.message)]
    assert len(msgs) == 1 and "--stateful" in msgs[0] and "\n" not in msgs[0]


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"])
def test_stateful_on_emulated_cores_equals_tflm(board, tmp_path):
    """--stateful, an int8 state with a zero point, on every emulated core: the harness resets the state once (the
    zero point, value by value in int16), then runs the frames in turn; TFLM never reset, bit for bit."""
    from mcu_codegen import boards, target
    rng = np.random.default_rng(12)
    model, x_shape = svdf_model(rng, batch=2, state_type=np.int8, state_q=(0.05, -9))
    xs = rng.integers(-128, 128, (8,) + x_shape).astype(np.int8)
    m = t16.converted(model, tmp_path, stateful=True)
    got, _ = target.run_on_board(m.save(str(tmp_path / "project")), m.report, boards.load(board),
                                 {m.report["inputs"][0]["name"]: xs})
    np.testing.assert_array_equal(got[m.report["outputs"][0]["name"]].reshape((8, 2, 4)), t16.run_tflm(model, [xs]))
