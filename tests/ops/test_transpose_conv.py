"""TRANSPOSE_CONV / ConvTranspose: the float reference against onnxruntime; C (a gather) against the twin (TFLM's
scatter) bit for bit in int8 (zero points -128 / 0 / 127), 16x8 and float32; TFLM on one-operator int8 and 16x8
files with and without bias, SAME and VALID, strides 1 and 2; ONNX through the tool."""
import numpy as np
import pytest
import tflite
from helpers import (c_equals_int_ref, c_float_within_rounding, dequantize, qtensor, rand_int8, rand_int16,
                     run_single_node, stensor, typed)
from binary import ACT
from tflite16 import T, activation_t, const_t, int8_t, one_op_model, run_imported, run_tflm, weights_t

from mcu_codegen.ops import transpose_conv
from mcu_codegen.ops._common import same_pads

# (input H, W, in channels, out channels, kernel, stride, pads (top, left, bottom, right), extra (output_padding))
CASES = [((4, 4), 3, 5, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)), ((4, 4), 3, 5, (3, 3), (2, 2), (0, 0, 0, 0), (0, 0)),
         ((5, 3), 2, 4, (3, 3), (1, 1), (1, 1, 1, 1), (0, 0)), ((3, 5), 4, 3, (2, 2), (2, 2), (0, 0, 0, 0), (0, 0)),
         ((4, 4), 2, 3, (4, 4), (2, 2), (1, 1, 1, 1), (0, 0)), ((3, 4), 3, 2, (5, 3), (3, 2), (2, 1, 0, 1), (1, 1)),
         ((1, 1), 8, 4, (3, 3), (2, 2), (0, 0, 0, 0), (0, 0)), ((6, 2), 1, 1, (1, 3), (2, 1), (0, 1, 0, 1), (0, 0))]


def _attrs(case, seed=0):
    (h, w), ic, oc, k, s, pads, extra = case
    rng = np.random.default_rng(seed)
    out_hw = tuple(si * (n - 1) + e + ki - pb - pe
                   for n, si, e, ki, pb, pe in zip((h, w), s, extra, k, pads[:2], pads[2:]))  # ONNX's formula
    return dict(weight=rng.normal(0, 0.5, (oc,) + k + (ic,)).astype(np.float32),
                bias=rng.normal(0, 0.2, oc).astype(np.float32), strides=s, pads=pads, out_hw=out_hw)


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_onnxruntime(case):
    a = _attrs(case)
    (h, w), ic = case[0], case[1]
    x = np.random.default_rng(1).normal(0, 1, (1, ic, h, w)).astype(np.float32)
    want = run_single_node("ConvTranspose", [x], {"strides": list(a["strides"]), "pads": list(a["pads"]),
                                                  "output_padding": list(case[6])},
                           {"w": a["weight"].transpose(3, 0, 1, 2), "b": a["bias"]})
    got = transpose_conv.float_ref(a, x.transpose(0, 2, 3, 1)[None])[0]
    np.testing.assert_allclose(got, want.transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("zps", [(-128, 127), (0, -128), (127, 0), (5, -3)])
@pytest.mark.parametrize("case", CASES)
def test_c_equals_int_ref(run_kernel, case, zps):
    rng = np.random.default_rng(2)
    a = dict(_attrs(case), act=(0.0, 6.0) if zps[1] == -128 else None)
    shape = (1,) + case[0] + (case[1],)
    x, out = qtensor(shape, 0.04, zps[0]), qtensor(transpose_conv.output_shape(a, [shape]), 0.05, zps[1])
    p = transpose_conv.prepare(a, [x], out)
    for data in (rand_int8(rng, shape), np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)):
        c_equals_int_ref(run_kernel, transpose_conv, p, [data], out)
    x16, out16 = stensor(shape, 1e-4), stensor(out.shape, 3e-4)
    p16 = transpose_conv.prepare(dict(a, act=None), [x16], out16)
    c_equals_int_ref(run_kernel, transpose_conv, p16, [rand_int16(rng, shape)], out16)


def test_int_ref_within_one_step_of_float():
    a = _attrs(CASES[0])
    shape = (1, 4, 4, 3)
    x, out = qtensor(shape, 0.04, 3), qtensor(transpose_conv.output_shape(a, [shape]), 0.05, -2)
    xq = rand_int8(np.random.default_rng(3), shape)
    want = transpose_conv.float_ref(a, dequantize(xq, x)[None])[0]
    got = dequantize(transpose_conv.int_ref(transpose_conv.prepare(a, [x], out), xq[None])[0], out)
    assert np.abs(got - np.clip(want, -126 * 0.05, 129 * 0.05)).max() / 0.05 <= 1.5  # + the weights' 8-bit grid


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    a = _attrs(case)
    x = np.random.default_rng(4).normal(0, 1, (1,) + case[0] + (case[1],)).astype(np.float32)
    c_float_within_rounding(run_kernel, transpose_conv, a, [x], int(np.prod(a["weight"].shape[1:])))


# TFLite cases: (input H, W, in channels, out channels, kernel, stride, padding, output H, W)
TFLITE_CASES = [((4, 4), 3, 5, (3, 3), (2, 2), "SAME", (8, 8)), ((4, 4), 3, 5, (3, 3), (2, 2), "VALID", (9, 9)),
                ((5, 3), 2, 4, (3, 3), (1, 1), "SAME", (5, 3)), ((3, 5), 4, 3, (2, 2), (2, 2), "SAME", (6, 10)),
                ((4, 3), 2, 3, (4, 4), (2, 2), "SAME", (7, 5)), ((3, 4), 3, 2, (5, 3), (2, 1), "VALID", (9, 6))]


def _tflite_model(case, with_bias, dtype, rng, act=None):
    (h, w), ic, oc, k, s, padding, out_hw = case
    weights = rand_int8(rng, (oc,) + k + (ic,))
    w_scales = rng.uniform(0.002, 0.01, oc)
    in_q, out_q = (0.05, 4), (0.2, -7)
    if dtype == "int8":
        x_t, out_t = int8_t((1, h, w, ic), *in_q), int8_t((1,) + out_hw + (oc,), *out_q)
        bias = rng.integers(-3000, 3000, oc).astype(np.int32)
        bias_t = dict(shape=bias.shape, type=T.INT32, scales=[in_q[0] * s for s in w_scales], data=bias)
    else:
        in_q, out_q = (1e-3, 0), (4e-3, 0)
        x_t, out_t = activation_t((1, h, w, ic), in_q[0]), activation_t((1,) + out_hw + (oc,), out_q[0])
        bias = rng.integers(-60000, 60000, oc).astype(np.int64)
        bias_t = dict(shape=bias.shape, type=T.INT64, scales=[in_q[0] * s for s in w_scales], data=bias)

    def options(b):
        tflite.TransposeConvOptionsStart(b)
        tflite.TransposeConvOptionsAddPadding(b, getattr(tflite.Padding, padding))
        tflite.TransposeConvOptionsAddStrideH(b, s[0])
        tflite.TransposeConvOptionsAddStrideW(b, s[1])
        tflite.TransposeConvOptionsAddFusedActivationFunction(b, ACT[act])
        return tflite.TransposeConvOptionsEnd(b)
    tensors = [const_t([1, *out_hw, oc]), weights_t(weights, w_scales, 0), x_t] + ([bias_t] if with_bias else [])
    model = one_op_model(tflite.BuiltinOperator.TRANSPOSE_CONV, tflite.BuiltinOptions.TransposeConvOptions, options,
                         tensors + [out_t], 1, graph_inputs=[2])
    pads = (0, 0, 0, 0) if padding == "VALID" else same_pads(out_hw, k, s, (1, 1))
    attrs = dict(weight=weights, weight_scales=w_scales.astype(np.float32), strides=s, pads=pads, out_hw=out_hw,
                 bias=bias if with_bias else np.zeros(oc, bias.dtype), act=act)
    make = qtensor if dtype == "int8" else (lambda shape, scale, zp: stensor(shape, scale))
    return model, attrs, make((1, h, w, ic), *in_q), make((1,) + out_hw + (oc,), *out_q)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("with_bias,act", [(True, None), (False, None), (True, (0.0, 6.0))])
@pytest.mark.parametrize("case", TFLITE_CASES)
def test_equals_tflm(run_kernel, case, with_bias, act, dtype):
    """A fused RELU6 too (TFLM clamps the requantized outputs to it)."""
    rng = np.random.default_rng(5)
    model, attrs, x, out = _tflite_model(case, with_bias, dtype, rng, act)
    data = (rand_int8 if dtype == "int8" else rand_int16)(rng, (8,) + x.shape)
    data[0], data[1] = np.iinfo(data.dtype).min, np.iinfo(data.dtype).max
    want = run_tflm(model, [data])
    p = transpose_conv.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(transpose_conv.int_ref(p, data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(transpose_conv, p, [d], out.shape, want.dtype) for d in data])
    np.testing.assert_array_equal(got.reshape(want.shape), want)
    if case == TFLITE_CASES[0]:
        np.testing.assert_array_equal(run_imported(model, [data], dtype).reshape(want.shape), want)
    print(f"TRANSPOSE_CONV {dtype} {case} bias {with_bias} act {act}: {want.size} outputs equal to TFLM "
          f"({len(np.unique(want))} levels)")


@pytest.mark.parametrize("attrs", [{"auto_pad": "SAME_UPPER"}, {"auto_pad": "SAME_LOWER"}, {"output_shape": [6, 6]},
                                   {"output_shape": [7, 5], "output_padding": [0, 0]}, {"auto_pad": "VALID"}])
def test_onnx_auto_pad_and_output_shape_match_onnxruntime(tmp_path, attrs):
    """The padding ONNX leaves to auto_pad / output_shape (an odd total: the extra pixel after for SAME_UPPER,
    before otherwise): the imported float graph equals onnxruntime, the int8 C the reference."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(7)
    nodes = [helper.make_node("ConvTranspose", ["x", "t"], ["y"], strides=[2, 2], kernel_shape=[3, 3], **attrs)]
    out = [1, 2] + (attrs.get("output_shape") or ([7, 7] if attrs.get("auto_pad") == "VALID" else [6, 6]))
    inits = {"t": rng.normal(0, 0.5, (3, 2, 3, 3)).astype(np.float32)}
    model = onnx_model(nodes, [("x", [1, 3, 3, 3])], [("y", out)], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 3, 3)).astype(np.float32)
    assert "transpose_conv" in through_the_tool(model, x, tmp_path, ("int8",))


def test_onnx_through_the_tool(tmp_path):
    """Conv, ReLU, ConvTranspose stride 2 with pads and output_padding (a decoder's upsampling), its bias and a
    following Relu fused: every mode, the layout transposes only at the edges."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(6)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "t": rng.normal(0, 0.4, (4, 2, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 2).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("ConvTranspose", ["r", "t", "b"], ["d"], strides=[2, 2], pads=[1, 1, 1, 1],
                              output_padding=[1, 1]),
             helper.make_node("Relu", ["d"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 2, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "int16x8", "float32"))
    assert ops == ["transpose", "conv2d", "transpose_conv", "transpose"], ops


def test_onnx_grouped_conv_transpose_is_one_clear_error(tmp_path):
    import mcu_codegen
    from helpers import onnx_model
    from onnx import helper, save
    node = helper.make_node("ConvTranspose", ["x", "t"], ["y"], name="up", group=2, strides=[2, 2])
    inits = {"t": np.ones((4, 2, 2, 2), np.float32)}
    save(onnx_model([node], [("x", [1, 4, 3, 3])], [("y", [1, 4, 6, 6])], inits, 13), tmp_path / "m.onnx")
    match = r"node 'up' \(ConvTranspose\): only group 1 without dilation"
    with pytest.raises(mcu_codegen.ConversionError, match=match):
        mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
