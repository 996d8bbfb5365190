"""Regular 2-D convolution, NHWC input, OHWI filter, per-output-channel int8 weights."""
import numpy as np

from . import _common as c

C_FUNCTION = "mcu_conv2d_s8"
C_PARAMS_TYPE = "mcu_conv2d_params_t"


def output_shape(attrs, in_shapes):
    return (1, *c.window_output_hw(in_shapes[0][1:3], attrs), attrs["weight"].shape[0])


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * int(np.prod(attrs["weight"].shape[1:]))


def float_ref(attrs, x):
    w = attrs["weight"]
    cols = c.windows(c.to_nhwc(x), attrs, 0.0)  # (N, OH, OW, KH, KW, C)
    y = cols.reshape(cols.shape[:3] + (-1,)).astype(np.float32) @ w.reshape(w.shape[0], -1).T.astype(np.float32)
    return c.from_nhwc(c.float_clamp(y + attrs["bias"], attrs))


def prepare(attrs, ins, out):
    x = ins[0]
    w_q, bias, w_scales = c.quantize_weights_and_bias(attrs, 0, x.scale)
    c.check_int32_accumulator(int(np.prod(w_q.shape[1:])), bias)
    mult, shift = c.output_multipliers(x.scale, w_scales, out.scale)
    act_min, act_max = c.act_range(attrs, out.scale, out.zero_point)
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = out.shape
    return dict(
        in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
        kernel_h=attrs["kernel"][0], kernel_w=attrs["kernel"][1],
        stride_h=attrs["strides"][0], stride_w=attrs["strides"][1],
        dilation_h=attrs["dilations"][0], dilation_w=attrs["dilations"][1],
        pad_top=attrs["pads"][0], pad_left=attrs["pads"][1],
        input_zp=x.zero_point, output_zp=out.zero_point, act_min=act_min, act_max=act_max,
        filter=w_q, bias=bias, out_mult=mult, out_shift=shift,
        depth_multiplier=1)


def overlap_limit(p, index, x, out):
    return c.row_overlap_limit(p, p["in_c"], p["out_c"])


def int_ref(p, x):
    x = c.to_nhwc(x).astype(np.int64) - p["input_zp"]
    cols = c.windows(x, c.window_attrs(p), 0)  # padding contributes (x - zp) = 0, as TFLM skips the tap
    w = p["filter"].reshape(p["out_c"], -1).astype(np.float64)
    # float64 products and sums of int8 values are exact far beyond any kernel size we accept
    acc = (cols.reshape(cols.shape[:3] + (-1,)).astype(np.float64) @ w.T).astype(np.int64) + p["bias"]
    return c.from_nhwc(c.requantize(acc, p))
