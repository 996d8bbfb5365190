"""ELU / SELU: TFLM's int8 lookup table (every input value against TFLM over scales and zero points), C vs
twin, the table within one step of the float function, ONNX Elu and Selu through the tool."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, dequantize, ftensor, qtensor, run_single_node
from unary import ALL_INT8, check_own_quant_equals_tflm, conv_then, random_quants

from mcu_codegen.ops import elu

QUANTS = [((0.05, -128), (0.04, 127)), ((0.02, 0), (0.05, -128)), ((0.1, 127), (0.03, 0)), ((0.05, 3), (0.05, 3)),
          ((1e-3, 7), (2e-3, -20)), ((0.5, -10), (0.1, -100)), ((0.03, 60), (0.01, 30))]
ATTRS = [{}, {"alpha": 0.5}, {"alpha": 1.6732632, "gamma": 1.0507010}]


@pytest.mark.parametrize("attrs,op", [({}, "Elu"), ({"alpha": 0.5}, "Elu"), ({}, "Selu")])
def test_float_ref_matches_onnxruntime(attrs, op):
    x = np.random.default_rng(0).normal(0, 3, (1, 3, 5, 7)).astype(np.float32)
    if op == "Selu":
        attrs = {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875}
    want = run_single_node(op, [x], attrs)
    np.testing.assert_allclose(elu.float_ref(attrs, x[None])[0], want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("attrs", ATTRS)
@pytest.mark.parametrize("quant", QUANTS)
def test_c_equals_int_ref_and_within_one_step(run_kernel, quant, attrs):
    x, out = qtensor(ALL_INT8.shape, *quant[0]), qtensor(ALL_INT8.shape, *quant[1])
    got = c_equals_int_ref(run_kernel, elu, elu.prepare(attrs, [x], out), [ALL_INT8], out)
    want = np.clip(elu.float_ref(attrs, dequantize(ALL_INT8, x)[None])[0], (-128 - out.zero_point) * out.scale,
                   (127 - out.zero_point) * out.scale)
    assert np.abs(dequantize(got, out) - want).max() / out.scale <= 0.5 + 1e-3


def test_c_float32(run_kernel):
    x = np.random.default_rng(1).normal(0, 3, (1, 9, 31)).astype(np.float32)
    attrs = {"alpha": 0.7, "gamma": 1.2}
    got = run_kernel(elu, elu.prepare(attrs, [ftensor(x.shape)], ftensor(x.shape)), [x], x.shape, np.float32)
    np.testing.assert_allclose(got, elu.float_ref(attrs, x[None])[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("quant", QUANTS + random_quants(seed=12))
def test_int8_equals_tflm(run_kernel, quant):
    levels = check_own_quant_equals_tflm(run_kernel, elu, {}, tflite.BuiltinOperator.ELU, quant,
                                         through_tool=quant == QUANTS[0])
    print(f"ELU {quant}: all 256 inputs equal to TFLM ({levels} levels)")


@pytest.mark.parametrize("op", ["Elu", "Selu"])
def test_onnx_through_the_tool(tmp_path, op):
    from helpers import through_the_tool
    x = np.random.default_rng(3).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(conv_then(op), x, tmp_path, ("int8", "float32"))
    assert ops == ["transpose", "conv2d", "elu", "transpose"], ops
