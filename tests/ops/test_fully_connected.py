import numpy as np
import pytest
from helpers import (c_equals_int_ref, c_float_within_rounding, dequantize, portable_forms, qtensor, quantize_like,
                     rand_int8, rand_int16, run_single_node, s16_close_to_float, stensor, unfolded)

from mcu_codegen.ops import fully_connected

CASES = [(1, 64, 12), (1, 640, 128), (3, 17, 5), (1, 1, 1), (4, 35, 2), (5, 8, 3)]  # (rows, in, out)


def attrs_for(case, rng, act=None):
    rows, k, n = case
    return dict(weight=rng.normal(0, 0.2, (n, k)).astype(np.float32), bias=rng.normal(0, 1, n).astype(np.float32),
                act=act)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    rng = np.random.default_rng(0)
    a = attrs_for(case, rng)
    x = rng.normal(0, 1, case[:2]).astype(np.float32)
    want = run_single_node("Gemm", [x], dict(transB=1), {"w": a["weight"], "b": a["bias"]})
    np.testing.assert_allclose(fully_connected.float_ref(a, x[None])[0], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zps", [(-128, 127), (0, 0), (127, -128), (89, 96)])
@pytest.mark.parametrize("out_scale", [0.1, 1e-6])
def test_c_equals_int_ref(run_kernel, case, zps, out_scale):
    rng = np.random.default_rng(1)
    a = attrs_for(case, rng, act=(0.0, np.inf) if zps[1] == 0 else None)
    x = qtensor(case[:2], 0.05, zps[0])
    out = qtensor(fully_connected.output_shape(a, [x.shape]), out_scale, zps[1])
    p = fully_connected.prepare(a, [x], out)
    data = rand_int8(rng, x.shape)
    data.flat[0], data.flat[-1] = -128, 127
    for function in portable_forms(fully_connected, p):
        c_equals_int_ref(run_kernel, fully_connected, p, [data], out, function)
    # the plain kernel computes x - zp itself: the same integers from the unfolded bias
    c_equals_int_ref(run_kernel, fully_connected, unfolded(p, p["weights"], zps[0]), [data], out)


def test_near_zero_channel_keeps_its_bias():
    """A channel with weights ~1e-30 (a folded BatchNorm with gamma ~ 0, seen in vww) must still output its bias."""
    a = dict(weight=np.array([[1e-30, -1e-30], [0.5, 0.25]], np.float32), bias=np.array([0.5, 0.0], np.float32))
    x, out = qtensor((1, 2), 0.01, 0), qtensor((1, 2), 0.01, 0)
    y = fully_connected.int_ref(fully_connected.prepare(a, [x], out), np.array([[[10, 20]]], np.int8))
    assert dequantize(y, out)[0, 0, 0] == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("case", CASES[:3])
def test_int_ref_close_to_float_ref(case):
    rng = np.random.default_rng(2)
    a = attrs_for(case, rng)
    x = qtensor(case[:2], 0.02, 0)
    xq = quantize_like(rng.normal(0, 1, x.shape).astype(np.float32), x)
    want = fully_connected.float_ref(a, dequantize(xq, x)[None])[0]
    scale = (max(want.max(), 0) - min(want.min(), 0)) / 255
    out = qtensor(want.shape, scale, -128 - np.round(min(want.min(), 0) / scale))
    got = dequantize(fully_connected.int_ref(fully_connected.prepare(a, [x], out), xq[None])[0], out)
    err = np.abs(got - want) / out.scale
    assert err.max() <= 2.0 and err.mean() < 0.5, (err.max(), err.mean())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("out_scale", [1e-2, 1e-6, 1e-10])  # 1e-10: shifts past TFLite's range (>= 15)
def test_c_equals_int_ref_16x8(run_kernel, case, out_scale):
    rng = np.random.default_rng(3)
    a = attrs_for(case, rng, act=(0.0, np.inf) if out_scale > 1e-4 else None)
    x = stensor(case[:2], 1e-3)
    out = stensor(fully_connected.output_shape(a, [x.shape]), out_scale)
    data = rand_int16(rng, x.shape)
    data.flat[0] = -32768
    p = fully_connected.prepare(a, [x], out)
    got = c_equals_int_ref(run_kernel, fully_connected, p, [data], out)
    if out_scale < 1e-9:
        assert (p["out_shift"] >= 15).all() and set(np.unique(got)) <= {-32768, 0, 32767}  # saturated


@pytest.mark.parametrize("case", CASES)
def test_int_ref_16x8_close_to_float_ref(case):
    rng = np.random.default_rng(4)
    a = attrs_for(case, rng)
    x, out = stensor(case[:2], 1e-4), stensor(fully_connected.output_shape(a, [case[:2]]), 1e-3)
    xq = np.clip(np.round(rng.normal(0, 1, case[:2]) / 1e-4), -32768, 32767).astype(np.int16)
    s16_close_to_float(fully_connected, a, fully_connected.prepare(a, [x], out), xq, x, out)


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    rng = np.random.default_rng(5)
    a = attrs_for(case, rng)
    c_float_within_rounding(run_kernel, fully_connected, a, [rng.normal(0, 1, case[:2]).astype(np.float32)], case[1])
