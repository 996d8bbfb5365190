"""LEAKY_RELU: TFLM's int8 / int16 arithmetic (identity and alpha multipliers), C vs twin, TFLM on one-operator
files over every input value, ONNX LeakyRelu through the tool."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, c_float_within_rounding, dequantize, qtensor, run_single_node, stensor
from unary import ALL_INT8, check_own_quant_equals_tflm, conv_then, random_quants

from mcu_codegen.ops import leaky_relu

ALPHAS = [0.01, 0.2, 0.0, 1.0, 3.5]
QUANTS = [((0.05, -128), (0.04, 127)), ((0.02, 0), (0.05, -128)), ((0.1, 127), (0.03, 0)), ((0.05, 3), (0.05, 3))]


def test_float_ref_matches_onnxruntime():
    x = np.random.default_rng(0).normal(0, 4, (1, 3, 5, 7)).astype(np.float32)
    want = run_single_node("LeakyRelu", [x], {"alpha": 0.2})
    np.testing.assert_array_equal(leaky_relu.float_ref({"alpha": 0.2}, x[None])[0], want)


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_c_equals_int_ref_and_within_one_step(run_kernel, alpha, quant):
    x, out = qtensor(ALL_INT8.shape, *quant[0]), qtensor(ALL_INT8.shape, *quant[1])
    p = leaky_relu.prepare({"alpha": alpha}, [x], out)
    got = c_equals_int_ref(run_kernel, leaky_relu, p, [ALL_INT8], out)
    real = dequantize(ALL_INT8, x)
    want = np.clip(np.where(real >= 0, real, alpha * real), (-128 - out.zero_point) * out.scale,
                   (127 - out.zero_point) * out.scale)
    assert np.abs(dequantize(got, out) - want).max() / out.scale <= 1.0
    data = np.random.default_rng(1).integers(-32768, 32768, (1, 9, 31)).astype(np.int16)
    x16, out16 = stensor(data.shape, 1e-3), stensor(data.shape, 7e-4)
    c_equals_int_ref(run_kernel, leaky_relu, leaky_relu.prepare({"alpha": alpha}, [x16], out16), [data], out16)


def test_c_float32_within_rounding(run_kernel):
    x = np.random.default_rng(2).normal(0, 4, (1, 9, 31)).astype(np.float32)
    c_float_within_rounding(run_kernel, leaky_relu, {"alpha": 0.3}, [x], 1)


def _options(alpha):
    def options(b):
        tflite.LeakyReluOptionsStart(b)
        tflite.LeakyReluOptionsAddAlpha(b, alpha)
        return tflite.LeakyReluOptionsEnd(b)
    return options


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_int8_equals_tflm(run_kernel, alpha, quant):
    levels = check_own_quant_equals_tflm(run_kernel, leaky_relu, {"alpha": alpha}, tflite.BuiltinOperator.LEAKY_RELU,
                                         quant, "int8", tflite.BuiltinOptions.LeakyReluOptions, _options(alpha),
                                         through_tool=quant == QUANTS[0] and alpha == 0.2)
    print(f"LEAKY_RELU alpha {alpha} {quant}: all 256 inputs equal to TFLM ({levels} levels)")


@pytest.mark.parametrize("quant", random_quants(12, seed=13))
def test_int8_equals_tflm_on_random_quantizations(run_kernel, quant):
    alpha = 0.05 + abs(quant[0][1]) / 100  # 0.05 to 1.33
    check_own_quant_equals_tflm(run_kernel, leaky_relu, {"alpha": alpha}, tflite.BuiltinOperator.LEAKY_RELU,
                                quant, "int8", tflite.BuiltinOptions.LeakyReluOptions, _options(alpha))


@pytest.mark.parametrize("scales", [(1e-3, 1e-3), (1e-3, 4e-4), (3e-4, 1e-3)])
@pytest.mark.parametrize("alpha", [0.01, 0.2, 1.5])
def test_16x8_equals_tflm(run_kernel, alpha, scales):
    levels = check_own_quant_equals_tflm(run_kernel, leaky_relu, {"alpha": alpha}, tflite.BuiltinOperator.LEAKY_RELU,
                                         [(s, 0) for s in scales], "int16", tflite.BuiltinOptions.LeakyReluOptions,
                                         _options(alpha), through_tool=scales == (1e-3, 4e-4) and alpha == 0.2)
    print(f"LEAKY_RELU 16x8 alpha {alpha} {scales}: all 65536 inputs equal to TFLM ({levels} levels)")


def test_negative_alpha_is_one_clear_error():
    from mcu_codegen.ir import ConversionError
    with pytest.raises(ConversionError, match=r"alpha -0.5 < 0 is not supported"):
        leaky_relu.prepare({"alpha": -0.5}, [qtensor((1, 4), 0.05, 0)], qtensor((1, 4), 0.05, 0))


def test_onnx_through_the_tool(tmp_path):
    from helpers import through_the_tool
    x = np.random.default_rng(3).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(conv_then("LeakyRelu"), x, tmp_path, ("int8", "int16x8", "float32"))
    assert "leaky_relu" in ops and "transpose" in ops and ops.count("transpose") == 2, ops
