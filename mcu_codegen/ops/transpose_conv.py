"""Transposed 2-D convolution (TFLite TRANSPOSE_CONV, ONNX ConvTranspose with group 1), NHWC input, OHWI filter,
per-output-channel int8 weights (int8 and 16x8), or float; conv2d's params structs. TFLM scatters each input
pixel times the filter into an int32 (16x8: int64) scratch map at (iy * stride - pad + ky, ix * stride - pad +
kx), adds the bias and requantizes per channel. Integer sums do not depend on their order, so the kernels
gather instead, without the scratch: output (oy, ox) sums the taps ky = (oy + pad_top) mod stride_h + j *
stride_h, iy = (oy + pad_top) div stride_h - j inside the input (likewise x), of (x - input_zp) * w."""
import numpy as np
import tflite

from .. import stable
from . import _common as c
from . import conv2d

KERNELS = {"int8": ("mcu_transpose_conv_s8", "mcu_conv2d_params_t"),
           "int16": ("mcu_transpose_conv_s16", "mcu_conv2d_s16_params_t"),
           "float32": ("mcu_transpose_conv_f32", "mcu_conv2d_f32_params_t")}


def output_shape(attrs, in_shapes):
    return (1, *attrs["out_hw"], attrs["weight"].shape[0])


def macs(attrs, in_shapes, out_shape):
    """Every input pixel times the whole filter (TFLM's scatter; taps that land outside the output included)."""
    return int(np.prod(in_shapes[0][1:3])) * int(np.prod(attrs["weight"].shape))


def _scatter(x, w, strides, pads, out_hw, matmul):
    """(N, H, W, IC) x [OC, KH, KW, IC] -> (N, OH, OW, OC): each input pixel times each tap added at its place
    (tap order ky, kx: the sums are exact for integers, and the one order of the float reference)."""
    n, in_h, in_w, _ = x.shape
    oc, kh, kw, _ = w.shape
    (sh, sw), (top, left) = strides, pads
    full_h = max((in_h - 1) * sh + kh, top + out_hw[0])
    full_w = max((in_w - 1) * sw + kw, left + out_hw[1])
    full = np.zeros((n, full_h, full_w, oc), np.float64)
    for ky in range(kh):
        for kx in range(kw):
            full[:, ky:ky + (in_h - 1) * sh + 1:sh, kx:kx + (in_w - 1) * sw + 1:sw] += matmul(x, w[:, ky, kx].T)
    return full[:, top:top + out_hw[0], left:left + out_hw[1]]


def float_ref(attrs, x):
    y = _scatter(c.to_nhwc(x), attrs["weight"], attrs["strides"], attrs["pads"][:2], attrs["out_hw"], stable.matmul)
    return c.from_nhwc(c.float_clamp((y + attrs["bias"]).astype(np.float32), attrs))


def prepare(attrs, ins, out):
    x = ins[0]
    attrs = dict(attrs, kernel=attrs["weight"].shape[1:3], dilations=(1, 1))
    p = dict(c.window_params(attrs, x, out), in_c=x.shape[3], out_c=out.shape[3], dilation_h=1, dilation_w=1,
             depth_multiplier=1)
    kh, kw = attrs["kernel"]
    taps = -(-kh // p["stride_h"]) * -(-kw // p["stride_w"]) * x.shape[3]  # the most any output sums
    # no zero-point folding: outputs near the edges sum fewer taps than others
    return conv2d.filter_params(attrs, x, out, p, taps, fold=False)


def int_ref(p, x):
    x = c.to_nhwc(x).astype(np.float64) - p.get("input_zp", 0)
    w = p["filter"].astype(np.float64)
    # float64 products and sums are exact below 2^53 (check_accumulator bounds them far lower)
    acc = _scatter(x, w, (p["stride_h"], p["stride_w"]), (p["pad_top"], p["pad_left"]), (p["out_h"], p["out_w"]),
                   lambda a, b: a @ b)
    return c.from_nhwc(c.requantize(acc.astype(np.int64) + p["bias"], p))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_conv_transpose(imp, node, a):
    """ConvTranspose, group 1, no dilation: the output size from shape inference, the top / left padding from
    explicit pads, or VALID, or for auto_pad SAME_UPPER / SAME_LOWER and output_shape the spec's total padding
    stride * (in - 1) + output_padding + kernel - out split with the odd pixel after (SAME_UPPER) or before (the
    others), as onnxruntime computes it."""
    w = imp.const(node, node.input[1], "the weight").astype(np.float32)  # [IC, OC, KH, KW]
    if w.ndim != 4:
        imp.fail(node, "only 2-D transposed convolutions are supported")
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", (1, 1))):
        imp.fail(node, "only group 1 without dilation is supported")
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail(node, "output shape unknown")
    x, strides = imp.x(node), tuple(a.get("strides", (1, 1)))
    if auto in ("SAME_UPPER", "SAME_LOWER") or "output_shape" in a:
        extra = tuple(a.get("output_padding", (0, 0)))
        total = [s * (n - 1) + e + k - o for s, n, e, k, o in
                 zip(strides, imp.graph.tensors[x].shape[2:], extra, w.shape[2:], out_shape[2:])]
        if min(total) < 0:
            imp.fail(node, f"an output of {list(out_shape[2:])} is larger than the transposed convolution makes")
        begin = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
        pads = (begin[0], begin[1], total[0] - begin[0], total[1] - begin[1])
    else:
        pads = tuple(a.get("pads", (0, 0, 0, 0))) if auto != "VALID" else (0, 0, 0, 0)
    if len(pads) != 4:
        imp.fail(node, "only 2-D padding is supported")
    bias = (imp.const(node, node.input[2], "the bias").astype(np.float32) if len(node.input) > 2 and node.input[2]
            else np.zeros(w.shape[1], np.float32))
    imp.nhwc(node, "transpose_conv", x, out_shape, weight=w.transpose(1, 2, 3, 0), bias=bias, strides=strides,
             pads=pads, out_hw=tuple(out_shape[2:]))


def tflite_transpose_conv(imp, k, op):
    """Inputs: the output shape (a constant, or SHAPE -> STRIDED_SLICE -> PACK of an open batch, which the
    importer evaluates on the static shapes; failing that the output tensor's static shape), the OHWI weights, the
    input, the bias (optional). TFLite's padding is that of a convolution from the output back to the input (the
    smaller half first)."""
    o = imp.options(op, "TransposeConvOptions")
    w, scales, bias = imp.weights(k, op, 0, bias_index=3)
    shape = imp.const(op.Inputs(0))
    if shape is None:
        out = imp.sg.Tensors(op.Outputs(0))
        shape = out.ShapeAsNumpy() if out.ShapeLength() else None
    if shape is None or shape.size != 4 or min(shape[1:]) < 1:
        imp.fail(k, "the output shape must be a constant of 4 values, or the output tensor's static shape")
    out_hw, kernel, strides = tuple(int(d) for d in shape[1:3]), tuple(int(d) for d in w.shape[1:3]), (o.StrideH(),
                                                                                                      o.StrideW())
    pads = (0, 0, 0, 0) if o.Padding() == tflite.Padding.VALID else c.same_pads(out_hw, kernel, strides, (1, 1))
    imp.emit(k, "transpose_conv", [op.Inputs(2)], [op.Outputs(0)], weight=w, weight_scales=scales, bias=bias,
             strides=strides, pads=pads, out_hw=out_hw, act=imp.activation_of(o))


ONNX = {"ConvTranspose": onnx_conv_transpose}
TFLITE = {"TRANSPOSE_CONV": tflite_transpose_conv}
