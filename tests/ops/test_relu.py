"""A standalone RELU / RELU6 / clamp: TFLM's RELU arithmetic (requantize, clamp), C vs twin bit for bit, TFLM on
one-operator int8 files, and ONNX Relu / Clip that have no producer to fuse into, through the tool."""
import numpy as np
import pytest
import tflite
from helpers import (c_equals_int_ref, c_float_within_rounding, dequantize, onnx_model, qtensor, rand_int8,
                     rand_int16, run_single_node, stensor, typed)
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import relu

ACTS = [(0.0, np.inf), (0.0, 6.0), (-1.0, 1.0), (-0.5, 2.5)]
QUANTS = [((0.05, -128), (0.05, -128)), ((0.05, 3), (0.03, -128)), ((0.1, 127), (0.02, 0)), ((0.02, 0), (0.1, 5))]


def test_float_ref_matches_onnxruntime():
    x = np.random.default_rng(0).normal(0, 4, (1, 3, 5, 7)).astype(np.float32)
    np.testing.assert_array_equal(relu.float_ref({"act": (0.0, np.inf)}, x[None])[0], run_single_node("Relu", [x]))
    clip = run_single_node("Clip", [x], initializers={"lo": np.array(0.0, np.float32), "hi": np.array(6.0, np.float32)})
    np.testing.assert_array_equal(relu.float_ref({"act": (0.0, 6.0)}, x[None])[0], clip)


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("act", ACTS)
def test_c_equals_int_ref_and_within_one_step(run_kernel, act, quant):
    data = np.arange(-128, 128, dtype=np.int8).reshape(1, 4, 64)
    x, out = qtensor(data.shape, *quant[0]), qtensor(data.shape, *quant[1])
    p = relu.prepare({"act": act}, [x], out)
    got = c_equals_int_ref(run_kernel, relu, p, [data], out)
    want = np.clip(dequantize(data, x), max(act[0], (-128 - out.zero_point) * out.scale),
                   min(act[1], (127 - out.zero_point) * out.scale))
    assert np.abs(dequantize(got, out) - want).max() / out.scale <= 1.0
    s = relu.prepare({"act": act}, [stensor(data.shape, 1e-3)], stensor(data.shape, 7e-4))
    c_equals_int_ref(run_kernel, relu, s, [rand_int16(np.random.default_rng(1), data.shape)], stensor(data.shape, 7e-4))


def test_c_float32_within_rounding(run_kernel):
    x = np.random.default_rng(2).normal(0, 4, (1, 9, 31)).astype(np.float32)
    c_float_within_rounding(run_kernel, relu, {"act": (0.0, 6.0)}, [x], 0)


CODES = {(0.0, np.inf): tflite.BuiltinOperator.RELU, (0.0, 6.0): tflite.BuiltinOperator.RELU6}


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("act", ACTS[:2])
def test_int8_equals_tflm(run_kernel, act, quant):
    if act != (0.0, np.inf) and quant[0] != quant[1]:
        quant = (quant[0], quant[0])  # RELU6: TFLM computes in the input's quantization
    data = np.arange(-128, 128, dtype=np.int8).reshape(1, 4, 64)
    model = one_op_model(CODES[act], 0, lambda b: None, [int8_t(data.shape, *quant[0]), int8_t(data.shape, *quant[1])], 1)
    want = run_tflm(model, [data[None]])[0]
    x, out = qtensor(data.shape, *quant[0]), qtensor(data.shape, *quant[1])
    p = relu.prepare({"act": act}, [x], out)
    np.testing.assert_array_equal(typed(relu.int_ref(p, data[None])[0], out), want)
    np.testing.assert_array_equal(run_kernel(relu, p, [data], out.shape, np.int8), want)
    np.testing.assert_array_equal(run_imported(model, [data[None]], "int8")[0], want)
    print(f"{'RELU' if act[1] == np.inf else 'RELU6'} {quant}: all 256 inputs equal to TFLM")


def test_relu6_with_another_output_quantization_is_one_clear_error(tmp_path):
    import mcu_codegen
    model = one_op_model(tflite.BuiltinOperator.RELU6, 0, lambda b: None,
                         [int8_t((1, 8), 0.05, 0), int8_t((1, 8), 0.03, -128)], 1)
    (tmp_path / "r.tflite").write_bytes(model)
    with pytest.raises(mcu_codegen.ConversionError, match="operator 0 \\(RELU6\\): an output quantization unlike the input's"):
        mcu_codegen.Converter.from_tflite(tmp_path / "r.tflite")


@pytest.mark.parametrize("op", ["Relu", "Clip"])
def test_onnx_activation_of_a_graph_input_and_of_a_shared_tensor(tmp_path, op):
    """Relu / Clip straight on the input, and on a conv output that an Add reads too: no producer to fuse."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(3)
    inits = {"w": rng.normal(0, 0.5, (3, 3, 3, 3)).astype(np.float32), "lo": np.array(-0.5, np.float32),
             "hi": np.array(1.5, np.float32)}
    bounds = ["lo", "hi"] if op == "Clip" else []
    nodes = [helper.make_node(op, ["x"] + bounds, ["r"]),
             helper.make_node("Conv", ["r", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c"] + bounds, ["a"]), helper.make_node("Add", ["a", "c"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 3, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert ops.count("relu") == 2, ops


@pytest.mark.parametrize("scales", [(1e-3, 1e-3), (1e-3, 4e-4), (3e-4, 1e-3)])
@pytest.mark.parametrize("act", ACTS[:2])
def test_16x8_equals_tflm(run_kernel, act, scales):
    from tflite16 import activation_t
    if act == (0.0, 6.0):
        scales = (scales[0], scales[0])  # RELU6: TFLM computes in the input's quantization
    data = np.arange(-32768, 32768, dtype=np.int16).reshape(1, 256, 256)
    model = one_op_model(CODES[act], 0, lambda b: None, [activation_t(data.shape, scales[0]),
                                                        activation_t(data.shape, scales[1])], 1)
    want = run_tflm(model, [data[None]])[0]
    x, out = stensor(data.shape, scales[0]), stensor(data.shape, scales[1])
    p = relu.prepare({"act": act}, [x], out)
    np.testing.assert_array_equal(typed(relu.int_ref(p, data[None])[0], out), want)
    np.testing.assert_array_equal(run_kernel(relu, p, [data], out.shape, np.int16), want)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("quant", QUANTS)
def test_quantize_to_the_same_type_equals_tflm(run_kernel, quant, dtype):
    """TFLite QUANTIZE int8 -> int8 (int16 -> int16): TFLM's Requantize, our relu kernel without a clamp."""
    from unary import check_own_quant_equals_tflm
    quant = quant if dtype == "int8" else [(s / 64, 0) for s, _ in quant]
    levels = check_own_quant_equals_tflm(run_kernel, relu, {"act": None}, tflite.BuiltinOperator.QUANTIZE, quant,
                                         dtype, through_tool=quant[0][0] != quant[1][0])
    print(f"QUANTIZE {dtype} -> {dtype} {quant}: every input equal to TFLM ({levels} levels)")


@pytest.mark.parametrize("code,act", [(tflite.BuiltinOperator.RELU_N1_TO_1, (-1.0, 1.0)),
                                      (tflite.BuiltinOperator.RELU_0_TO_1, (0.0, 1.0))])
def test_relu_n1_to_1_and_0_to_1_through_the_tool(code, act):
    """TFLM has neither: TFLite's arithmetic (RELU's, with the bounds quantized in the output's scale), through
    the whole tool against the twin, and within one step of the float clamp."""
    data = np.arange(-128, 128, dtype=np.int8).reshape(1, 4, 64)
    quant = ((0.02, 3), (0.01, -20))
    model = one_op_model(code, 0, lambda b: None, [int8_t(data.shape, *quant[0]), int8_t(data.shape, *quant[1])], 1)
    x, out = qtensor(data.shape, *quant[0]), qtensor(data.shape, *quant[1])
    want = typed(relu.int_ref(relu.prepare({"act": act}, [x], out), data[None])[0], out)
    np.testing.assert_array_equal(run_imported(model, [data[None]], "int8")[0], want)
    clamped = np.clip(dequantize(data, x), max(act[0], -108 * 0.01), min(act[1], 147 * 0.01))
    assert np.abs(dequantize(want, out) - clamped).max() / out.scale <= 1.0
