import numpy as np
import pytest
from helpers import (NCHW_TO_NHWC, NHWC_TO_NCHW, c_equals_int_ref, c_float_within_rounding, dequantize, qtensor,
                     rand_int8, rand_int16, run_single_node, stensor)

from mcu_codegen.ops import avg_pool

CASES = [((8, 8), 3, (2, 2), (2, 2), (0, 0, 0, 0)), ((7, 9), 2, (3, 3), (2, 2), (1, 1, 1, 1)),
         ((5, 6), 4, (3, 2), (1, 2), (0, 1, 2, 0)), ((25, 5), 16, (25, 5), (25, 5), (0, 0, 0, 0))]


def attrs_for(case, act=None):
    return dict(kernel=case[2], strides=case[3], pads=case[4], act=act)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    x = np.random.default_rng(0).normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    want = run_single_node("AveragePool", [x.transpose(NHWC_TO_NCHW)],
                           dict(kernel_shape=case[2], strides=case[3], pads=list(case[4])))
    got = avg_pool.float_ref(attrs_for(case), x[None])[0]
    np.testing.assert_allclose(got, want.transpose(NCHW_TO_NHWC), rtol=1e-5, atol=1e-6)


def test_global_average_pool_matches_onnxruntime():
    x = np.random.default_rng(0).normal(0, 1, (1, 6, 5, 7)).astype(np.float32)
    want = run_single_node("GlobalAveragePool", [x.transpose(NHWC_TO_NCHW)])
    got = avg_pool.float_ref(dict(kernel=(6, 5), strides=(1, 1), pads=(0, 0, 0, 0)), x[None])[0]
    np.testing.assert_allclose(got, want.transpose(NCHW_TO_NHWC), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zp", [-128, 0, 127])
def test_c_equals_int_ref(run_kernel, case, zp):
    rng = np.random.default_rng(1)
    a = attrs_for(case, act=(0.0, np.inf) if zp == 0 else None)
    x = qtensor((1,) + case[0] + (case[1],), 0.05, zp)
    out = qtensor(avg_pool.output_shape(a, [x.shape]), 0.05, zp)
    c_equals_int_ref(run_kernel, avg_pool, avg_pool.prepare(a, [x], out), [rand_int8(rng, x.shape)], out)


def test_rounding_is_half_away_from_zero():
    """TFLM: (sum +- n/2) / n truncating: -2.5 -> -3, 2.5 -> 3, -1.5 -> -2, 1.5 -> 2."""
    x = qtensor((1, 1, 2, 4), 1.0, 0)
    a = dict(kernel=(1, 2), strides=(1, 2), pads=(0, 0, 0, 0))
    out = qtensor((1, 1, 1, 4), 1.0, 0)
    data = np.array([[[[-2, 2, -1, 1], [-3, 3, -2, 2]]]], np.int8)
    got = avg_pool.int_ref(avg_pool.prepare(a, [x], out), data[None])[0]
    assert got.ravel().tolist() == [-3, 3, -2, 2]
    assert np.abs(dequantize(got, out) - data.mean(axis=2)).max() <= 0.5


@pytest.mark.parametrize("case", CASES)
def test_c_equals_int_ref_16x8(run_kernel, case):
    rng = np.random.default_rng(3)
    a = attrs_for(case)
    x = stensor((1,) + case[0] + (case[1],), 1e-4)
    out = stensor(avg_pool.output_shape(a, [x.shape]), 1e-4)
    data = rand_int16(rng, x.shape)
    data.flat[:2] = (-32768, 32767)
    got = c_equals_int_ref(run_kernel, avg_pool, avg_pool.prepare(a, [x], out), [data], out)
    want = avg_pool.float_ref(a, data[None].astype(np.float32))[0]
    assert np.abs(got - want).max() <= 0.5  # the mean, rounded


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    x = np.random.default_rng(5).normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    c_float_within_rounding(run_kernel, avg_pool, attrs_for(case, act=(0.0, 6.0)), [x], case[2][0] * case[2][1] + 1)


@pytest.mark.parametrize("op", ["AveragePool", "MaxPool"])
def test_pads_as_large_as_the_kernel_are_refused_naming_the_node(tmp_path, op):
    """A window wholly in the padding holds no input (the average would divide by zero): ONNX forbids it."""
    import onnx
    from helpers import onnx_model
    from onnx import helper

    import mcu_codegen
    from mcu_codegen.ir import ConversionError
    node = helper.make_node(op, ["x"], ["y"], name="pool", kernel_shape=[2, 2], pads=[2, 0, 0, 0])
    onnx.save(onnx_model([node], [("x", [1, 3, 4, 4])], [("y", [1, 3, 5, 3])]), tmp_path / "m.onnx")
    with pytest.raises(ConversionError, match=r"node 'pool'.*pads \[2, 0, 0, 0\] not smaller than the kernel \[2, 2\]"):
        mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
