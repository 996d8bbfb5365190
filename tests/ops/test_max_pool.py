import numpy as np
import pytest
from helpers import (NCHW_TO_NHWC, NHWC_TO_NCHW, c_equals_int_ref, c_float_within_rounding, qtensor, rand_int8,
                     rand_int16, run_single_node, stensor)

from mcu_codegen.ops import max_pool

# (in_hw, channels, kernel, strides, pads)
CASES = [((8, 8), 3, (2, 2), (2, 2), (0, 0, 0, 0)), ((7, 9), 2, (3, 3), (2, 2), (1, 1, 1, 1)),
         ((5, 6), 4, (3, 2), (1, 2), (0, 1, 2, 0)), ((4, 4), 1, (4, 4), (1, 1), (0, 0, 0, 0))]


def attrs_for(case, act=None):
    return dict(kernel=case[2], strides=case[3], pads=case[4], act=act)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    x = np.random.default_rng(0).normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    want = run_single_node("MaxPool", [x.transpose(NHWC_TO_NCHW)],
                           dict(kernel_shape=case[2], strides=case[3], pads=list(case[4])))
    np.testing.assert_array_equal(max_pool.float_ref(attrs_for(case), x[None])[0], want.transpose(NCHW_TO_NHWC))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zp", [-128, 0, 127])
def test_c_equals_int_ref(run_kernel, case, zp):
    rng = np.random.default_rng(1)
    a = attrs_for(case, act=(0.0, 1.0) if zp == 0 else None)
    x = qtensor((1,) + case[0] + (case[1],), 0.05, zp)
    out = qtensor(max_pool.output_shape(a, [x.shape]), 0.05, zp)
    c_equals_int_ref(run_kernel, max_pool, max_pool.prepare(a, [x], out), [rand_int8(rng, x.shape)], out)


@pytest.mark.parametrize("case", CASES)
def test_c_equals_int_ref_16x8(run_kernel, case):
    rng = np.random.default_rng(3)
    for act in (None, (0.0, 1.0)):
        a = attrs_for(case, act=act)
        x = stensor((1,) + case[0] + (case[1],), 1e-4)
        out = stensor(max_pool.output_shape(a, [x.shape]), 1e-4)
        data = rand_int16(rng, x.shape)
        data.flat[:2] = (-32768, 32767)
        c_equals_int_ref(run_kernel, max_pool, max_pool.prepare(a, [x], out), [data], out)


@pytest.mark.parametrize("case", CASES)
def test_c_float32_equals_float_ref(run_kernel, case):
    x = np.random.default_rng(5).normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    c_float_within_rounding(run_kernel, max_pool, attrs_for(case, act=(-0.5, 6.0)), [x], 0)
