import numpy as np
import pytest
from helpers import c_equals_int_ref, c_float_within_rounding, qtensor, rand_int8, rand_int16, run_single_node, stensor

from mcu_codegen.ops import transpose


@pytest.mark.parametrize("shape,perm", [((1, 3, 8, 5), (0, 2, 3, 1)), ((1, 4, 6, 2), (0, 3, 1, 2)),
                                        ((3, 7), (1, 0)), ((2, 3, 4), (2, 0, 1))])
def test_float_ref_matches_onnxruntime_and_c_equals_int_ref(run_kernel, shape, perm):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, shape).astype(np.float32)
    a = {"perm": perm}
    np.testing.assert_array_equal(transpose.float_ref(a, x[None])[0], run_single_node("Transpose", [x], a))
    t = qtensor(shape, 0.1, 0)
    out = qtensor(transpose.output_shape(a, [shape]), 0.1, 0)
    got = c_equals_int_ref(run_kernel, transpose, transpose.prepare(a, [t], out), [rand_int8(rng, shape)], out)
    assert got.shape == out.shape


@pytest.mark.parametrize("shape,perm", [((1, 3, 8, 5), (0, 2, 3, 1)), ((2, 3, 4), (2, 0, 1))])
def test_int16_and_float32_elements_move_whole(run_kernel, shape, perm):
    """One byte-moving kernel for every element type: int16 and float32 elements arrive whole."""
    rng = np.random.default_rng(1)
    a = {"perm": perm}
    t, out = stensor(shape, 1e-3), stensor(transpose.output_shape(a, [shape]), 1e-3)
    c_equals_int_ref(run_kernel, transpose, transpose.prepare(a, [t], out), [rand_int16(rng, shape)], out)
    c_float_within_rounding(run_kernel, transpose, a, [rng.normal(0, 1, shape).astype(np.float32)], 0)
