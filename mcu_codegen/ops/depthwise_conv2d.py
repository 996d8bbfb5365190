"""Depthwise 2-D convolution (ONNX Conv with group == input channels), filter [KH, KW, OC], OC = C * multiplier."""
import numpy as np

from .. import fixedpoint as fp
from .. import stable
from . import _common as c
from . import conv2d

SPEED_PARAMS = conv2d.SPEED_PARAMS
KERNELS = {"int8": ("mcu_depthwise_conv2d_s8", "mcu_conv2d_params_t"),
           "int16": ("mcu_depthwise_conv2d_s16", "mcu_conv2d_s16_params_t"),
           "float32": ("mcu_depthwise_conv2d_f32", "mcu_conv2d_f32_params_t"),
           "hybrid": ("mcu_depthwise_conv2d_hybrid", "mcu_conv2d_hybrid_params_t"),
           "float16": ("mcu_depthwise_conv2d_f16", "mcu_conv2d_f32_params_t")}
MVE_FORMS = ("mcu_depthwise_conv2d_mve_s8", "mcu_depthwise_conv2d_3x3_mve_s8", "mcu_depthwise_conv2d_3x3s2_mve_s8")


def _mve_rows(p):
    """Helium: kernel_h row pointers (4 bytes on Armv8.1-M) and kernel_h input rows, each position's channels
    padded to a multiple of 4 (mcu_depthwise_mve.h)."""
    return p["kernel_h"] * (4 + rows_width(p) * (-(-p["in_c"] // 4) * 4))


DSP_FORMS = ("mcu_depthwise_conv2d_3x3_dsp_s8", "mcu_depthwise_conv2d_3x3s2_dsp_s8")


def _dsp_planar(p):
    """The DSP 3x3 forms' packs (24 bytes per channel) and ring: three input rows of the positions an output row
    spans, int16, each channel's run padded past the row to an even length (mcu_depthwise_planar_dsp.h)."""
    pitch = (rows_width(p) + 2) & ~1
    return 24 * p["in_c"] + 3 * p["in_c"] * pitch * 2


# the int8 copy of the input; the Helium and DSP 3x3 forms' rows; the Thumb-1 form's window
SCRATCH = {"mcu_depthwise_conv2d_hybrid": conv2d.SCRATCH["mcu_conv2d_hybrid"], **dict.fromkeys(MVE_FORMS, _mve_rows),
           **dict.fromkeys(DSP_FORMS, _dsp_planar),
           "mcu_depthwise_conv2d_thumb1_s8": lambda p: p["kernel_h"] * p["kernel_w"] * p["out_c"]}


def rows_width(p):
    """The input positions an output row's windows span, from x = -pad_left."""
    return (p["out_w"] - 1) * p["stride_w"] + (p["kernel_w"] - 1) * p["dilation_w"] + 1


def output_shape(attrs, in_shapes):
    return (1, *c.window_output_hw(in_shapes[0][1:3], attrs), attrs["weight"].shape[2])


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * attrs["kernel"][0] * attrs["kernel"][1]


def _depthwise(cols, w, multiplier):
    """cols (N, OH, OW, KH, KW, C), w (KH, KW, OC) -> (N, OH, OW, OC)."""
    return stable.weighted_sum(np.repeat(cols, multiplier, axis=-1), w, axes=(3, 4))


def float_ref(attrs, x):
    cols = c.windows(c.to_nhwc(x), attrs, 0.0).astype(np.float32)
    y = _depthwise(cols, attrs["weight"].astype(np.float32), attrs["depth_multiplier"])
    return c.from_nhwc(c.float_clamp((y + attrs["bias"]).astype(np.float32), attrs))


def variants(p, dtype):
    """Depth multiplier 1 in int8: four channels per pass (same params and integers: int_ref is their twin)."""
    if dtype == "float16":
        return c.f16_forms(KERNELS[dtype][0])
    if dtype == "int8" and p["depth_multiplier"] == 1:
        # Helium: 3x3 kernels of dilation_w 1 at stride_w 1 or 2 with their steps and height as constants (each
        # its own function, so that a model links only the rows it runs), any other geometry the general form
        three = p["kernel_w"] == 3 and p["dilation_w"] == 1 and p["stride_w"] in (1, 2)
        mve = MVE_FORMS[p["stride_w"]] if three and p["kernel_h"] == 3 else MVE_FORMS[0]
        # DSP: 3x3 kernels of dilation 1 at stride_w 1 or 2 over a ring of rows widened channel by channel
        # (x - input_zp, 0 for padding: the bias as it is)
        ring = three and p["kernel_h"] == 3 and p["dilation_h"] == 1
        dsp = DSP_FORMS[p["stride_w"] - 1] if ring else "mcu_depthwise_conv2d_dsp_s8"
        # Thumb-1: a window gathered in the filter's layout (dilation_w 1: its rows are runs of the input), which
        # needs the zero point folded into a bias for every position (interior_bias; without padding the bias
        # itself)
        folded = p.get("interior_bias") is not None or p["input_zp"] == 0
        thumb1 = "mcu_depthwise_conv2d_thumb1_s8" if p["dilation_w"] == 1 and folded else None
        return c.isa_forms("mcu_depthwise_conv2d_fast_s8", dsp, mve, thumb1)
    return None


def prepare(attrs, ins, out):
    p = conv2d.prepare(dict(attrs, weight=np.ascontiguousarray(attrs["weight"].transpose(2, 0, 1))), ins, out)
    for key in ("filter", "filter_f16"):  # the one that holds the weights (the other is 0)
        if isinstance(p.get(key), np.ndarray):
            p[key] = np.ascontiguousarray(p[key].transpose(1, 2, 0))
    p["depth_multiplier"] = attrs["depth_multiplier"]
    return p


def overlap_limit(p, index, x, out):
    return c.row_overlap_limit(p, x, out, p["in_c"], p["out_c"])


def int_ref(p, x):
    x = c.to_nhwc(x).astype(np.int64) - p.get("input_zp", 0)
    cols = c.windows(x, c.window_attrs(p), 0).astype(np.float64)  # exact: see conv2d.int_ref
    acc = _depthwise(cols, p["filter"].astype(np.float64), p["depth_multiplier"]).astype(np.int64) + p["bias"]
    return c.from_nhwc(c.requantize(acc, p))


def hybrid_ref(p, x):
    """The twin of mcu_depthwise_conv2d_hybrid (see conv2d.hybrid_ref)."""
    d, scale = conv2d.hybrid_input(p, x)
    cols = c.windows(d, c.window_attrs(p), 0).astype(np.float64)
    acc = _depthwise(cols, p["filter"].astype(np.float64), p["depth_multiplier"]).astype(np.int64)  # exact
    return c.from_nhwc(fp.hybrid_rescale(acc, scale[:, None, None], p["weight_scales"], p["bias"], p["act_min"],
                                         p["act_max"]))


# -- import (ONNX Conv with group == channels: conv2d.onnx_conv) -------------------------------------------------
def tflite_depthwise(imp, k, op):
    o = imp.options(op, "DepthwiseConv2DOptions")
    weights = imp.weight_attrs(k, op, 3)
    w = weights["weight"]
    in_c = imp.shape(op.Inputs(0))[3]
    imp.conv(k, op, "depthwise_conv2d", o, dict(weights, weight=w[0]), depth_multiplier=int(w.shape[3] // in_c))


TFLITE = {"DEPTHWISE_CONV_2D": tflite_depthwise}
