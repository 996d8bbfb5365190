"""GELU: the int8 table equal to TFLite's (its GELU kernel; TFLM has none) over all 256 inputs at many scales, exact
and approximate; C vs twin; the float reference against onnxruntime's Gelu (opset 20) and the C float kernel."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, dequantize, ftensor, qtensor, run_single_node
from tflite16 import int8_t, one_op_model, run_imported, run_litert
from unary import ALL_INT8, random_quants

from mcu_codegen.ops import gelu

QUANTS = [((0.02687, 6), (0.0134, -115)), ((0.05, -128), (0.04, 127)), ((0.1, 0), (0.05, -100)),
          ((1e-3, 7), (2e-3, -20)), ((0.5, -10), (0.3, -128))]


def gelu_file(quant, approximate):
    def options(b):
        tflite.GeluOptionsStart(b)
        tflite.GeluOptionsAddApproximate(b, approximate)
        return tflite.GeluOptionsEnd(b)
    return one_op_model(tflite.BuiltinOperator.GELU, tflite.BuiltinOptions.GeluOptions, options,
                        [int8_t(ALL_INT8.shape, *quant[0]), int8_t(ALL_INT8.shape, *quant[1])], 1)


@pytest.mark.parametrize("approximate", [False, True])
def test_float_ref_matches_onnxruntime(approximate):
    x = np.random.default_rng(0).normal(0, 3, (1, 3, 5, 7)).astype(np.float32)
    want = run_single_node("Gelu", [x], {"approximate": "tanh" if approximate else "none"}, opset=20)
    # onnxruntime evaluates the tanh form in float32 (a few 1e-7 off near 0); the exact form to the last bits
    np.testing.assert_allclose(gelu.float_ref({"approximate": approximate}, x[None])[0], want, rtol=1e-6,
                               atol=1e-6 if approximate else 1e-7)


@pytest.mark.parametrize("approximate", [False, True])
def test_c_float32(run_kernel, approximate):
    x = np.random.default_rng(1).normal(0, 3, (1, 9, 31)).astype(np.float32)
    attrs = {"approximate": approximate}
    got = run_kernel(gelu, gelu.prepare(attrs, [ftensor(x.shape)], ftensor(x.shape)), [x], x.shape, np.float32)
    np.testing.assert_allclose(got, gelu.float_ref(attrs, x[None])[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("quant", QUANTS + random_quants(n=30, seed=16))
def test_int8_table_equals_tflite(run_kernel, quant, approximate):
    """Every int8 input through TFLite's GELU, our twin (the table) and our C kernel: equal bit for bit; the table
    within half a step of the float function."""
    model = gelu_file(quant, approximate)
    want = run_litert(model, ALL_INT8[None])[0]
    x, out = qtensor(ALL_INT8.shape, *quant[0]), qtensor(ALL_INT8.shape, *quant[1])
    attrs = {"approximate": approximate}
    got = c_equals_int_ref(run_kernel, gelu, gelu.prepare(attrs, [x], out), [ALL_INT8], out)
    np.testing.assert_array_equal(got, want)
    exact = gelu.float_ref(attrs, dequantize(ALL_INT8, x)[None].astype(np.float64))[0]
    exact = np.clip(exact, (-128 - out.zero_point) * out.scale, (127 - out.zero_point) * out.scale)
    assert np.abs(dequantize(got, out) - exact).max() / out.scale <= 0.5 + 1e-3
    if quant == QUANTS[0]:
        np.testing.assert_array_equal(run_imported(model, [ALL_INT8[None]], "int8")[0], want)


def test_no_int16_kernel():
    from mcu_codegen.ir import ConversionError
    from mcu_codegen.ops import kernel
    with pytest.raises(ConversionError, match="no int16 kernel"):
        kernel(gelu, "int16", "int16")
