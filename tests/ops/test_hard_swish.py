"""HARD_SWISH: TFLite's int8 fixed-point form, C vs twin and TFLM on every input value over input / output
scales whose reluish multiplier shifts either way; ONNX HardSwish, x * HardSigmoid(x) fused, and a lone
HardSigmoid lowered, through the tool."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, c_float_within_rounding, dequantize, onnx_model, qtensor, run_single_node
from unary import ALL_INT8, check_own_quant_equals_tflm, conv_then, random_quants

from mcu_codegen.ops import hard_swish

# (input, output) quantizations: the reluish exponent from -6 (scale 1e-4) to +6 (scale 1.0), zero points at both ends
QUANTS = [((0.05, -128), (0.04, 127)), ((0.02, 0), (0.05, -128)), ((0.1, 127), (0.03, 0)), ((0.05, 3), (0.05, 3)),
          ((1e-4, 0), (1e-4, -50)), ((1.0, 10), (0.5, -100)), ((0.03, -20), (0.2, -128)), ((0.004, 60), (0.003, -1))]


def test_float_ref_matches_onnxruntime():
    x = np.random.default_rng(0).normal(0, 4, (1, 3, 5, 7)).astype(np.float32)
    want = run_single_node("HardSwish", [x], opset=14)
    np.testing.assert_allclose(hard_swish.float_ref({}, x[None])[0], want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("quant", QUANTS)
def test_c_equals_int_ref_and_within_two_steps(run_kernel, quant):
    x, out = qtensor(ALL_INT8.shape, *quant[0]), qtensor(ALL_INT8.shape, *quant[1])
    got = c_equals_int_ref(run_kernel, hard_swish, hard_swish.prepare({}, [x], out), [ALL_INT8], out)
    want = np.clip(hard_swish.float_ref({}, dequantize(ALL_INT8, x)[None])[0], (-128 - out.zero_point) * out.scale,
                   (127 - out.zero_point) * out.scale)
    assert np.abs(dequantize(got, out) - want).max() / out.scale <= 2.0  # int16 intermediates


def test_c_float32_within_rounding(run_kernel):
    x = np.random.default_rng(2).normal(0, 4, (1, 9, 31)).astype(np.float32)
    c_float_within_rounding(run_kernel, hard_swish, {}, [x], 3)


@pytest.mark.parametrize("quant", QUANTS)
def test_int8_equals_tflm(run_kernel, quant):
    levels = check_own_quant_equals_tflm(run_kernel, hard_swish, {}, tflite.BuiltinOperator.HARD_SWISH, quant,
                                         through_tool=quant == QUANTS[0])
    print(f"HARD_SWISH {quant}: all 256 inputs equal to TFLM ({levels} levels)")


def test_onnx_hard_swish_through_the_tool_and_16x8_refused(tmp_path):
    from helpers import check_mode_refused, through_the_tool
    model = conv_then("HardSwish")
    model.opset_import[0].version = 14
    x = np.random.default_rng(3).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "float32"))
    assert ops == ["transpose", "conv2d", "hard_swish", "transpose"], ops
    check_mode_refused(tmp_path / "model.onnx", x, "int16x8", r"node 'y' \(hard_swish\): no int16 kernel")


def test_onnx_x_times_hard_sigmoid_is_hard_swish_and_a_lone_hard_sigmoid_folds(tmp_path):
    """PyTorch's Hardswish at opset 13: HardSigmoid(1/6, 1/2) then Mul by its input -> one hard_swish; a
    HardSigmoid(0.2, 0.5) alone after a conv folds into it (scale and shift) and its clamp."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(4)
    inits = {"w": rng.normal(0, 0.8, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32),
             "w2": rng.normal(0, 0.5, (4, 4, 1, 1)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("HardSigmoid", ["c"], ["h"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["c", "h"], ["s"]),
             helper.make_node("Conv", ["s", "w2"], ["d"], kernel_shape=[1, 1]),
             helper.make_node("HardSigmoid", ["d"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "float32"))
    assert ops == ["transpose", "conv2d", "hard_swish", "conv2d", "transpose"], ops


@pytest.mark.parametrize("quant", random_quants())
def test_int8_equals_tflm_on_random_quantizations(run_kernel, quant):
    check_own_quant_equals_tflm(run_kernel, hard_swish, {}, tflite.BuiltinOperator.HARD_SWISH, quant)


def test_an_output_scale_below_input_scale_over_128_is_refused_as_by_tflm():
    """TFLM's Prepare requires the output multiplier's exponent <= 0: so does ours, with one clear error."""
    from tflite16 import int8_t, one_op_model, run_tflm

    from mcu_codegen.ir import ConversionError
    quant = ((0.5, 0), (0.003, 0))
    with pytest.raises(ConversionError, match="out of the range of TFLite's int8 hard-swish arithmetic"):
        hard_swish.prepare({}, [qtensor((1,), *quant[0])], qtensor((1,), *quant[1]))
    model = one_op_model(tflite.BuiltinOperator.HARD_SWISH, 0, lambda b: None,
                         [int8_t(ALL_INT8.shape, *quant[0]), int8_t(ALL_INT8.shape, *quant[1])], 1)
    with pytest.raises(RuntimeError):
        run_tflm(model, [ALL_INT8[None]])
