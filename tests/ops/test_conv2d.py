import numpy as np
import pytest
from helpers import (NCHW_TO_NHWC, NHWC_TO_NCHW, c_equals_int_ref, c_float_within_rounding, dequantize,
                     portable_forms, qtensor, quantize_like, rand_int8, rand_int16, run_single_node, s16_close_to_float,
                     stensor, unfolded)

from mcu_codegen.ops import conv2d

# (in_hw, in_c, out_c, kernel, strides, dilations, pads (top, left, bottom, right))
CASES = [
    ((7, 6), 3, 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
    ((9, 5), 2, 5, (3, 2), (2, 1), (1, 1), (0, 1, 2, 0)),     # asymmetric pads
    ((8, 8), 4, 3, (1, 1), (2, 2), (1, 1), (0, 0, 0, 0)),     # 1x1, stride 2
    ((49, 10), 1, 8, (10, 4), (2, 2), (1, 1), (4, 1, 5, 1)),  # kws's first layer
    ((9, 9), 3, 2, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),     # dilation
    ((5, 3), 7, 5, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),     # 1x1 stride 1: the matrix-product forms, odd sizes
    ((4, 4), 16, 2, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((6, 5), 3, 4, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0)),     # no padding: zero point folded, plain kernel
]
ZERO_POINTS = [(-128, 127), (0, 0), (127, -128), (5, -3)]  # (input, output)


def attrs_for(case, rng, act=None):
    in_hw, in_c, out_c, kernel, strides, dilations, pads = case
    w = rng.normal(0, 0.3, (out_c,) + kernel + (in_c,)).astype(np.float32)
    return dict(weight=w, bias=rng.normal(0, 0.5, out_c).astype(np.float32), kernel=kernel, strides=strides,
                dilations=dilations, pads=pads, act=act)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    rng = np.random.default_rng(0)
    a = attrs_for(case, rng)
    x = rng.normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    want = run_single_node("Conv", [x.transpose(NHWC_TO_NCHW)],
                           dict(kernel_shape=case[3], strides=case[4], dilations=case[5], pads=list(case[6])),
                           {"w": a["weight"].transpose(0, 3, 1, 2), "b": a["bias"]})
    np.testing.assert_allclose(conv2d.float_ref(a, x[None])[0], want.transpose(NCHW_TO_NHWC), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zps", ZERO_POINTS)
@pytest.mark.parametrize("out_scale", [0.05, 1e-5])  # 1e-5: multipliers above 1, positive shifts
def test_c_equals_int_ref(run_kernel, case, zps, out_scale):
    rng = np.random.default_rng(1)
    a = attrs_for(case, rng, act=(0.0, 6.0) if zps[1] == 0 else None)
    x = qtensor((1,) + case[0] + (case[1],), 0.04, zps[0])
    out = qtensor(conv2d.output_shape(a, [x.shape]), out_scale, zps[1])
    p = conv2d.prepare(a, [x], out)
    assert (p["out_shift"] > 0).all() if out_scale < 1e-4 else (p["out_shift"] <= 0).all()
    data = rand_int8(rng, x.shape)
    data.flat[0], data.flat[-1] = -128, 127
    for function in portable_forms(conv2d, p):
        c_equals_int_ref(run_kernel, conv2d, p, [data], out, function)
    if p["input_zp"] != x.zero_point:  # folded: the plain kernel computes x - zp from the unfolded bias alike
        c_equals_int_ref(run_kernel, conv2d, unfolded(p, p["filter"], x.zero_point), [data], out)


@pytest.mark.parametrize("case", CASES)
def test_int_ref_close_to_float_ref(case):
    rng = np.random.default_rng(2)
    a = attrs_for(case, rng)
    x = qtensor((1,) + case[0] + (case[1],), 0.02, 3)
    xf = rng.normal(0, 1, x.shape).astype(np.float32)
    xq = quantize_like(xf, x)
    want = conv2d.float_ref(a, dequantize(xq, x)[None])[0]
    out = qtensor(want.shape, (want.max() - want.min()) / 255, -128 - np.round(want.min() / ((want.max() - want.min()) / 255)))
    got = dequantize(conv2d.int_ref(conv2d.prepare(a, [x], out), xq[None])[0], out)
    err = np.abs(got - want) / out.scale
    assert err.max() <= 2.0 and err.mean() < 0.5, (err.max(), err.mean())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("out_scale", [2e-3, 1e-5])  # 1e-5: multipliers above 1 (shift up to 7)
def test_c_equals_int_ref_16x8(run_kernel, case, out_scale):
    rng = np.random.default_rng(3)
    a = attrs_for(case, rng, act=(0.0, 6.0) if out_scale > 1e-4 else None)
    x = stensor((1,) + case[0] + (case[1],), 1e-3)
    out = stensor(conv2d.output_shape(a, [x.shape]), out_scale)
    p = conv2d.prepare(a, [x], out)
    assert p["bias"].dtype == np.int64 and "input_zp" not in p
    data = rand_int16(rng, x.shape)
    data.flat[:2] = (-32768, 32767)
    c_equals_int_ref(run_kernel, conv2d, p, [data], out)


@pytest.mark.parametrize("case", CASES)
def test_int_ref_16x8_close_to_float_ref(case):
    rng = np.random.default_rng(4)
    a = attrs_for(case, rng)
    x, out = stensor((1,) + case[0] + (case[1],), 1e-4), stensor(conv2d.output_shape(a, [(1,) + case[0] + (case[1],)]), 4e-4)
    xq = np.clip(np.round(rng.normal(0, 1, x.shape) / 1e-4), -32768, 32767).astype(np.int16)
    s16_close_to_float(conv2d, a, conv2d.prepare(a, [x], out), xq, x, out)


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    rng = np.random.default_rng(5)
    a = attrs_for(case, rng, act=(0.0, 6.0))
    x = rng.normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    c_float_within_rounding(run_kernel, conv2d, a, [x], int(np.prod(a["weight"].shape[1:])))
