"""PRELU with a constant slope broadcast against the input: TFLM's int8 arithmetic, C vs twin over zero points
-128 / 0 / 127, TFLM on one-operator int8 files (alpha per channel, per pixel, scalar, full), ONNX PRelu
after an NCHW conv through the tool (the slope transposed with the layout)."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, c_float_within_rounding, dequantize, qtensor, rand_int8, run_single_node, typed
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import prelu

SHAPE = (1, 5, 7, 6)
ALPHA_SHAPES = [(1, 1, 6), (6,), (1,), SHAPE[1:], (5, 1, 1), (1, 7, 1)]
QUANTS = [((0.05, -128), (0.04, 127), (0.01, 0)), ((0.02, 0), (0.05, -128), (0.02, -128)),
          ((0.1, 127), (0.03, 0), (0.004, 127)), ((0.05, 3), (0.05, 3), (0.03, -5))]


def _alpha(shape, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 1.2, shape).astype(np.float32)


@pytest.mark.parametrize("alpha_shape", [(6, 1, 1), (1,), (6, 5, 7)])
def test_float_ref_matches_onnxruntime(alpha_shape):
    x = np.random.default_rng(1).normal(0, 2, (1, 6, 5, 7)).astype(np.float32)
    alpha = _alpha(alpha_shape)
    want = run_single_node("PRelu", [x], initializers={"slope": alpha})
    np.testing.assert_array_equal(prelu.float_ref({"alpha": alpha}, x[None])[0].reshape(want.shape), want)


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("alpha_shape", ALPHA_SHAPES)
def test_c_equals_int_ref_and_close_to_float(run_kernel, alpha_shape, quant):
    rng = np.random.default_rng(2)
    alpha = _alpha(alpha_shape)
    x, out = qtensor(SHAPE, *quant[0]), qtensor(SHAPE, *quant[1])
    p = prelu.prepare({"alpha": alpha}, [x], out)
    alpha_step = float(prelu.quantized_alpha({"alpha": alpha})[1])
    for data in (rand_int8(rng, SHAPE), np.full(SHAPE, -128, np.int8), np.full(SHAPE, 127, np.int8)):
        got = c_equals_int_ref(run_kernel, prelu, p, [data], out)
        want = np.clip(prelu.float_ref({"alpha": alpha}, dequantize(data, x)[None])[0],
                       (-128 - out.zero_point) * out.scale, (127 - out.zero_point) * out.scale)
        # one output step, plus x times half a step of alpha's own 8-bit grid
        bound = 1.0 + np.abs(dequantize(data, x)) * alpha_step / 2 / out.scale
        assert np.all(np.abs(dequantize(got, out) - want) / out.scale <= bound + 1e-4)


@pytest.mark.parametrize("alpha_shape", ALPHA_SHAPES)
def test_c_float32_within_rounding(run_kernel, alpha_shape):
    x = np.random.default_rng(3).normal(0, 2, SHAPE).astype(np.float32)
    c_float_within_rounding(run_kernel, prelu, {"alpha": _alpha(alpha_shape)}, [x], 1)


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("alpha_shape", ALPHA_SHAPES)
def test_int8_equals_tflm(run_kernel, alpha_shape, quant):
    rng = np.random.default_rng(4)
    alpha_q = rand_int8(rng, alpha_shape)
    model = one_op_model(tflite.BuiltinOperator.PRELU, 0, lambda b: None,
                         [int8_t(SHAPE, *quant[0]), dict(int8_t(alpha_shape, *quant[2]), data=alpha_q),
                          int8_t(SHAPE, *quant[1])], 1)
    data = rand_int8(rng, (10,) + SHAPE)
    data[0], data[1] = -128, 127
    want = run_tflm(model, [data])
    x, out = qtensor(SHAPE, *quant[0]), qtensor(SHAPE, *quant[1])
    attrs = dict(alpha=alpha_q, alpha_q=alpha_q, alpha_scale=np.float32(quant[2][0]), alpha_zp=quant[2][1])
    p = prelu.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(prelu.int_ref(p, data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(prelu, p, [d], SHAPE, np.int8) for d in data])
    np.testing.assert_array_equal(got, want)
    if alpha_shape == ALPHA_SHAPES[0]:
        np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)
    print(f"PRELU alpha {alpha_shape} {quant}: {want.size} outputs equal to TFLM")


def test_onnx_through_the_tool_and_16x8_refused(tmp_path):
    from helpers import check_mode_refused, onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(5)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "s": _alpha((4, 1, 1))}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("PRelu", ["c", "s"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "float32"))
    assert ops == ["transpose", "conv2d", "prelu", "transpose"], ops
    check_mode_refused(tmp_path / "model.onnx", x, "int16x8", r"node 'y' \(prelu\): no int16 kernel")
