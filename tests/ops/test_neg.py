"""NEG: float (the converter's DEQUANTIZE -> NEG -> QUANTIZE in an int8 file, against TFLM through the tool); the
int8 table of a model we quantize within half a step of -x; C vs twin."""
import numpy as np
import tflite
from helpers import c_equals_int_ref, dequantize, ftensor, qtensor
from tflite16 import float_t, int8_t, ops_model, run_imported, run_tflm
from unary import ALL_INT8

from mcu_codegen.ops import neg


def test_dequantize_neg_quantize_equals_tflm():
    code = tflite.BuiltinOperator
    shape = ALL_INT8.shape
    tensors = [int8_t(shape, 0.00418, 11), float_t(shape), float_t(shape), int8_t(shape, 0.00418, -12)]
    model = ops_model([(code.DEQUANTIZE, 0, None, [0], [1]), (code.NEG, 0, None, [1], [2]),
                       (code.QUANTIZE, 0, None, [2], [3])], tensors, [0], [3])
    want = run_tflm(model, [ALL_INT8[None]])[0]
    np.testing.assert_array_equal(run_imported(model, [ALL_INT8[None]], "int8")[0], want)
    np.testing.assert_array_equal(want.astype(np.int64), np.clip(-(ALL_INT8.astype(np.int64) - 11) - 12, -128, 127))


def test_int8_table(run_kernel):
    for (s_in, zp_in), (s_out, zp_out) in [((0.05, 3), (0.05, -3)), ((0.02, -128), (0.03, 100)), ((0.1, 127), (0.2, 0))]:
        x, out = qtensor(ALL_INT8.shape, s_in, zp_in), qtensor(ALL_INT8.shape, s_out, zp_out)
        got = c_equals_int_ref(run_kernel, neg, neg.prepare({}, [x], out), [ALL_INT8], out)
        want = np.clip(-dequantize(ALL_INT8, x), (-128 - zp_out) * s_out, (127 - zp_out) * s_out)
        assert np.abs(dequantize(got, out) - want).max() / s_out <= 0.5 + 1e-4


def test_c_float32(run_kernel):
    x = np.random.default_rng(1).normal(0, 3, (1, 9, 31)).astype(np.float32)
    got = run_kernel(neg, neg.prepare({}, [ftensor(x.shape)], ftensor(x.shape)), [x], x.shape, np.float32)
    np.testing.assert_array_equal(got, -x)
