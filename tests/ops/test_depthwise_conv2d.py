import numpy as np
import pytest
from helpers import (NCHW_TO_NHWC, NHWC_TO_NCHW, c_equals_int_ref, c_float_within_rounding, dequantize,
                     portable_forms, qtensor, quantize_like, rand_int8, rand_int16, run_single_node, s16_close_to_float,
                     stensor, unfolded)

from mcu_codegen.ops import depthwise_conv2d

# (in_hw, channels, multiplier, kernel, strides, dilations, pads)
CASES = [
    ((25, 5), 8, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
    ((12, 12), 4, 1, (3, 3), (2, 2), (1, 1), (0, 0, 1, 1)),   # TF "SAME" stride 2: pad bottom/right only
    ((7, 9), 3, 2, (3, 5), (1, 2), (1, 1), (1, 2, 1, 2)),     # depth multiplier 2
    ((9, 9), 2, 1, (3, 3), (1, 1), (2, 2), (2, 2, 2, 2)),     # dilation
    ((6, 6), 5, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),     # 1x1 (a standalone BatchNorm)
    ((5, 4), 11, 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),    # channels not a multiple of 4: the last ones alone
    ((7, 3), 6, 1, (3, 3), (2, 2), (1, 1), (0, 0, 0, 0)),     # no padding: zero point folded
]


def attrs_for(case, rng, act=None):
    in_hw, ch, mult, kernel, strides, dilations, pads = case
    return dict(weight=rng.normal(0, 0.5, kernel + (ch * mult,)).astype(np.float32),
                bias=rng.normal(0, 0.5, ch * mult).astype(np.float32), kernel=kernel, strides=strides,
                dilations=dilations, pads=pads, depth_multiplier=mult, act=act)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    rng = np.random.default_rng(0)
    a = attrs_for(case, rng)
    x = rng.normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    w = a["weight"].transpose(2, 0, 1)[:, None]  # (OC, 1, KH, KW)
    want = run_single_node("Conv", [x.transpose(NHWC_TO_NCHW)],
                           dict(kernel_shape=case[3], strides=case[4], dilations=case[5], pads=list(case[6]),
                                group=case[1]), {"w": w, "b": a["bias"]})
    got = depthwise_conv2d.float_ref(a, x[None])[0]
    np.testing.assert_allclose(got, want.transpose(NCHW_TO_NHWC), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("zps", [(-128, 127), (0, 0), (127, -128)])
@pytest.mark.parametrize("out_scale", [0.05, 1e-5])
def test_c_equals_int_ref(run_kernel, case, zps, out_scale):
    rng = np.random.default_rng(1)
    a = attrs_for(case, rng, act=(0.0, np.inf) if zps[1] == 0 else None)
    x = qtensor((1,) + case[0] + (case[1],), 0.04, zps[0])
    out = qtensor(depthwise_conv2d.output_shape(a, [x.shape]), out_scale, zps[1])
    p = depthwise_conv2d.prepare(a, [x], out)
    data = rand_int8(rng, x.shape)
    data.flat[0], data.flat[-1] = -128, 127
    for function in portable_forms(depthwise_conv2d, p):
        c_equals_int_ref(run_kernel, depthwise_conv2d, p, [data], out, function)
    if p["input_zp"] != x.zero_point:  # folded: the plain kernel computes x - zp from the unfolded bias alike
        c_equals_int_ref(run_kernel, depthwise_conv2d, unfolded(p, p["filter"].T, x.zero_point), [data], out)


@pytest.mark.parametrize("case", CASES)
def test_int_ref_close_to_float_ref(case):
    rng = np.random.default_rng(2)
    a = attrs_for(case, rng)
    x = qtensor((1,) + case[0] + (case[1],), 0.02, -7)
    xq = quantize_like(rng.normal(0, 1, x.shape).astype(np.float32), x)
    want = depthwise_conv2d.float_ref(a, dequantize(xq, x)[None])[0]
    scale = (want.max() - min(want.min(), 0)) / 255
    out = qtensor(want.shape, scale, -128 - np.round(min(want.min(), 0) / scale))
    got = dequantize(depthwise_conv2d.int_ref(depthwise_conv2d.prepare(a, [x], out), xq[None])[0], out)
    err = np.abs(got - want) / out.scale
    assert err.max() <= 2.0 and err.mean() < 0.5, (err.max(), err.mean())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("out_scale", [2e-3, 1e-5])
def test_c_equals_int_ref_16x8(run_kernel, case, out_scale):
    rng = np.random.default_rng(3)
    a = attrs_for(case, rng, act=(0.0, 6.0) if out_scale > 1e-4 else None)
    x = stensor((1,) + case[0] + (case[1],), 1e-3)
    out = stensor(depthwise_conv2d.output_shape(a, [x.shape]), out_scale)
    data = rand_int16(rng, x.shape)
    data.flat[:2] = (-32768, 32767)
    c_equals_int_ref(run_kernel, depthwise_conv2d, depthwise_conv2d.prepare(a, [x], out), [data], out)


@pytest.mark.parametrize("case", CASES)
def test_int_ref_16x8_close_to_float_ref(case):
    rng = np.random.default_rng(4)
    a = attrs_for(case, rng)
    shape = (1,) + case[0] + (case[1],)
    x, out = stensor(shape, 1e-4), stensor(depthwise_conv2d.output_shape(a, [shape]), 2e-4)
    xq = np.clip(np.round(rng.normal(0, 1, shape) / 1e-4), -32768, 32767).astype(np.int16)
    s16_close_to_float(depthwise_conv2d, a, depthwise_conv2d.prepare(a, [x], out), xq, x, out, axis=2)


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    rng = np.random.default_rng(5)
    a = attrs_for(case, rng, act=(-1.0, 1.0))
    x = rng.normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    c_float_within_rounding(run_kernel, depthwise_conv2d, a, [x], case[3][0] * case[3][1])
