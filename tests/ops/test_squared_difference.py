"""SQUARED_DIFFERENCE: (x1 - x2)^2 broadcast; int8 against TFLM on one-operator files; C vs twin; float."""
import binary
import numpy as np
import pytest
import tflite
from helpers import c_float_within_rounding, qtensor, rand_int8, typed
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import squared_difference as sd

SHAPES = [((1, 49, 32), (1, 49, 1)), ((1, 5, 7, 6), (1, 5, 7, 6)), ((1, 1, 6), (1, 4, 6)), ((2, 3, 4), (4,))]
QUANTS = [((0.04174, -5), (0.00418, 11), (0.128, -128)), ((0.05, 127), (0.02, -128), (0.3, -128)),
          ((0.01, 0), (0.01, 0), (1e-3, -128))]


@pytest.mark.parametrize("quants", QUANTS)
@pytest.mark.parametrize("shapes", SHAPES)
def test_int8_equals_tflm(run_kernel, shapes, quants):
    rng = np.random.default_rng(0)
    out_shape = sd.output_shape({}, shapes)
    model = one_op_model(tflite.BuiltinOperator.SQUARED_DIFFERENCE, 0, lambda b: None,
                         [int8_t(shapes[0], *quants[0]), int8_t(shapes[1], *quants[1]), int8_t(out_shape, *quants[2])],
                         2)
    a, b = rand_int8(rng, (8,) + shapes[0]), rand_int8(rng, (8,) + shapes[1])
    a[0], b[0], a[1], b[1] = -128, 127, 127, -128
    want = run_tflm(model, [a, b]).reshape((8,) + out_shape)
    x1, x2, out = qtensor(shapes[0], *quants[0]), qtensor(shapes[1], *quants[1]), qtensor(out_shape, *quants[2])
    p = sd.prepare({}, [x1, x2], out)
    np.testing.assert_array_equal(typed(sd.int_ref(p, a, b), out).reshape(want.shape), want)
    got = np.stack([run_kernel(sd, p, [a[i], b[i]], out_shape, np.int8) for i in range(8)])
    np.testing.assert_array_equal(got, want)
    if shapes == SHAPES[0] and quants == QUANTS[0]:
        np.testing.assert_array_equal(run_imported(model, [a, b], "int8").reshape(want.shape), want)


@pytest.mark.parametrize("shapes", binary.BROADCASTS[:6])
def test_c_float32_within_rounding(run_kernel, shapes):
    rng = np.random.default_rng(8)
    c_float_within_rounding(run_kernel, sd, {}, [rng.normal(0, 1, s).astype(np.float32) for s in shapes], 1)
