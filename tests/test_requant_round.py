"""The short requantization (fixedpoint.requant_round_constants) is a per-layer choice: a layer it cannot be
proven for (an accumulator bound reaching 2^30 through a huge bias, a multiplier above 1/2: shift >= 0) carries
no out_round and its faster forms take the exact form; either way they equal the twin bit for bit."""
import numpy as np
import pytest
from helpers import c_equals_int_ref, portable_forms, qtensor, rand_int8

from mcu_codegen import fixedpoint as fp
from mcu_codegen.ops import _common as c
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


def test_dead_channels_are_rewritten_to_the_same_results(run_kernel):
    """Channels of one result over their bound (zero weights with a bias at 2^30, as vww has; a multiplier 0 at
    shift 0; a shift of -31) take a multiplier, shift and bias of the same results in the short form's reach:
    the layer keeps the short form, the twin's outputs do not change, and the C equals them."""
    rng = np.random.default_rng(6)
    x = qtensor((1, 6, 5, 4), 0.04, 9)
    a = conv_attrs(rng, 6, (3, 3), 4, False)
    out = qtensor(conv2d.output_shape(a, [x.shape]), 0.05, -7)
    p = {k: v for k, v in conv2d.prepare(a, [x], out).items() if k != "out_round"}
    p["filter"], p["bias"] = p["filter"].copy(), p["bias"].copy()
    p["filter"][1], p["bias"][1] = 0, 1 << 30  # beyond the short form's 2^30, and a result of 5 + zp below
    p["filter"][2], p["bias"][2] = 0, -(1 << 30) - 5
    p["out_mult"], p["out_shift"] = p["out_mult"].copy(), p["out_shift"].copy()
    p["out_mult"][1:3], p["out_shift"][1:3] = 1320764593, -27
    p["out_mult"][3], p["out_shift"][3] = 0, 0
    p["out_shift"][4] = -31
    p["interior_bias"] = c.fold_input_zero_point(p["filter"], p["bias"], x.zero_point).astype(np.int32)
    assert fp.requant_round_constants(p["out_mult"], p["out_shift"], -7, *c.accumulator_bounds(
        p["filter"], p["bias"], p["input_zp"])) is None
    q = c.with_round_constants(p)
    assert "out_round" in q and (q["out_shift"] <= -1).all()
    data = rand_int8(rng, (64,) + x.shape[1:])
    data[0], data[1] = -128, 127
    np.testing.assert_array_equal(conv2d.int_ref(q, data), conv2d.int_ref(p, data))
    assert (conv2d.int_ref(p, data)[..., 1] == 5 - 7).all()
    for function in portable_forms(conv2d, q)[1:]:
        c_equals_int_ref(run_kernel, conv2d, q, [data[0]], out, function)
        c_equals_int_ref(run_kernel, conv2d, q, [data[2]], out, function)
