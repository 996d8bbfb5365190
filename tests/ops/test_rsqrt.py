"""RSQRT: the int8 table of TFLM's integer inverse square root, equal to TFLM over every non-negative input at many
scales; C vs twin; fixedpoint.inv_sqrt_quantized_multiplier_exp within its rounding of 1 / sqrt(v); float."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, ftensor, qtensor
from tflite16 import int8_t, one_op_model, run_imported, run_tflm
from unary import random_quants

from mcu_codegen import fixedpoint as fp
from mcu_codegen.ops import rsqrt

QUANTS = [((0.01944, -128), (0.008291, -128)), ((0.0256, -128), (0.005473, -128)), ((0.05, 0), (0.1, -100)),
          ((1e-4, -120), (0.5, 3)), ((2.0, -128), (0.002, 0))]


def test_inv_sqrt_multiplier_close_to_exact():
    for v in list(range(2, 300)) + [2 ** 20 + 3, 2 ** 27 + 1, 2 ** 29 - 1]:
        mult, shift = fp.inv_sqrt_quantized_multiplier_exp(v)
        assert abs(mult * 2.0 ** shift / 2 ** 31 * np.sqrt(v) - 1) < 2e-6, v  # v = 2: 1.2e-6 after 5 steps from 1


@pytest.mark.parametrize("quant", QUANTS + random_quants(n=24, seed=17))
def test_int8_equals_tflm(run_kernel, quant):
    """The inputs at or above the zero point (TFLM refuses the others at run time) through TFLM, our twin and
    our C kernel: equal bit for bit."""
    (s_in, zp_in), out_q = quant
    x_all = np.arange(zp_in, 128, dtype=np.int8).reshape(1, 1, -1)
    model = one_op_model(tflite.BuiltinOperator.RSQRT, 0, lambda b: None,
                         [int8_t(x_all.shape, s_in, zp_in), int8_t(x_all.shape, *out_q)], 1)
    want = run_tflm(model, [x_all[None]])[0]
    x, out = qtensor(x_all.shape, s_in, zp_in), qtensor(x_all.shape, *out_q)
    got = c_equals_int_ref(run_kernel, rsqrt, rsqrt.prepare({}, [x], out), [x_all], out)
    np.testing.assert_array_equal(got, want)
    if quant == QUANTS[0]:
        np.testing.assert_array_equal(run_imported(model, [x_all[None]], "int8")[0], want)


def test_c_float32(run_kernel):
    x = np.random.default_rng(1).uniform(1e-3, 9, (1, 9, 31)).astype(np.float32)
    got = run_kernel(rsqrt, rsqrt.prepare({}, [ftensor(x.shape)], ftensor(x.shape)), [x], x.shape, np.float32)
    np.testing.assert_allclose(got, rsqrt.float_ref({}, x[None])[0], rtol=2e-7)


@pytest.mark.parametrize("scales", [(1e-4, 1e-2), (3e-5, 0.05), (1e-3, 1e-3)])
def test_int16_equals_tflm(run_kernel, scales):
    """16x8: every non-negative int16 input through TFLM's RSQRT, our twin and our C kernel."""
    from helpers import stensor
    from tflite16 import activation_t
    x_all = np.arange(0, 32768, dtype=np.int16).reshape(1, 128, 256)
    model = one_op_model(tflite.BuiltinOperator.RSQRT, 0, lambda b: None,
                         [activation_t(x_all.shape, scales[0]), activation_t(x_all.shape, scales[1])], 1)
    want = run_tflm(model, [x_all[None]])[0]
    x, out = stensor(x_all.shape, scales[0]), stensor(x_all.shape, scales[1])
    got = c_equals_int_ref(run_kernel, rsqrt, rsqrt.prepare({}, [x], out), [x_all], out)
    np.testing.assert_array_equal(got, want)
    if scales == (1e-4, 1e-2):
        np.testing.assert_array_equal(run_imported(model, [x_all[None]], "int16")[0], want)
