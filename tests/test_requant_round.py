"""The short requantization (fixedpoint.requant_round_constants) is a per-layer choice: a layer it cannot be
proven for (an accumulator bound reaching 2^30 through a huge bias, a multiplier above 1/2: shift >= 0) carries
no out_round and its faster forms take the exact form; either way they equal the twin bit for bit."""
import numpy as np
import pytest
from helpers import c_equals_int_ref, portable_forms, qtensor, rand_int8

from mcu_codegen.ops import conv2d, depthwise_conv2d, fully_connected


def conv_attrs(rng, out_c, kernel, in_c, huge_bias):
    w = rng.normal(0, 0.3, (out_c,) + kernel + (in_c,)).astype(np.float32)
    bias = rng.normal(0, 0.5, out_c).astype(np.float32)
    if huge_bias:  # channel 1's int32 bias just above 2^30 (input scale 0.04, weights per channel over 127)
        bias[1] = np.float32(1.05 * 2.0 ** 30 * 0.04 * np.abs(w[1]).max() / 127)
    return dict(weight=w, bias=bias, kernel=kernel, strides=(1, 1), dilations=(1, 1), pads=(1, 1, 1, 1), act=None)


@pytest.mark.parametrize("mod", [conv2d, depthwise_conv2d])
@pytest.mark.parametrize("huge_bias, out_scale", [(False, 0.05), (True, 0.05), (False, 1e-5)])
def test_windowed_forms_take_the_form_their_layer_proves(run_kernel, mod, huge_bias, out_scale):
    rng = np.random.default_rng(3)
    x = qtensor((1, 6, 5, 4), 0.04, -128)
    if mod is conv2d:
        a = conv_attrs(rng, 6, (3, 3), 4, huge_bias)
    else:  # depthwise weights (kh, kw, out_c)
        a = conv_attrs(rng, 4, (3, 3), 1, huge_bias)
        a = dict(a, weight=np.ascontiguousarray(a["weight"][..., 0].transpose(1, 2, 0)), depth_multiplier=1)
    out = qtensor(mod.output_shape(a, [x.shape]), out_scale * (2.0 ** 22 if huge_bias else 1), 3)
    p = mod.prepare(a, [x], out)
    assert ("out_round" in p) == (not huge_bias and out_scale > 1e-4)
    data = rand_int8(rng, x.shape)
    data.flat[0], data.flat[-1] = -128, 127
    for function in portable_forms(mod, p)[1:]:
        c_equals_int_ref(run_kernel, mod, p, [data], out, function)


@pytest.mark.parametrize("out_scale", [0.05, 1e-5])
def test_fully_connected_takes_the_form_its_layer_proves(run_kernel, out_scale):
    rng = np.random.default_rng(4)
    x = qtensor((3, 21), 0.04, 7)
    a = dict(weight=rng.normal(0, 0.3, (9, 21)).astype(np.float32), bias=rng.normal(0, 0.5, 9).astype(np.float32),
             act=None)
    out = qtensor((3, 9), out_scale, -5)
    p = fully_connected.prepare(a, [x], out)
    assert ("out_round" in p) == (out_scale > 1e-4)
    data = rand_int8(rng, x.shape)
    c_equals_int_ref(run_kernel, fully_connected, p, [data], out, portable_forms(fully_connected, p)[1])
