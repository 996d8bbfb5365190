"""Max pooling over NHWC; output shares the input's scale and zero point (as TFLite)."""
import numpy as np

from . import _common as c

C_FUNCTION = "mcu_max_pool_s8"
C_PARAMS_TYPE = "mcu_pool_params_t"
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return (1, *c.window_output_hw(in_shapes[0][1:3], attrs), in_shapes[0][3])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return c.from_nhwc(c.float_clamp(c.windows(c.to_nhwc(x), attrs, -np.inf).max(axis=(3, 4)), attrs))


def prepare(attrs, ins, out):
    _, in_h, in_w, ch = ins[0].shape
    _, out_h, out_w, _ = out.shape
    act_min, act_max = c.act_range(attrs, out.scale, out.zero_point)
    c.check_int32_accumulator(attrs["kernel"][0] * attrs["kernel"][1], [0])  # avg pool sums the window
    return dict(in_h=in_h, in_w=in_w, channels=ch, out_h=out_h, out_w=out_w,
                kernel_h=attrs["kernel"][0], kernel_w=attrs["kernel"][1],
                stride_h=attrs["strides"][0], stride_w=attrs["strides"][1],
                pad_top=attrs["pads"][0], pad_left=attrs["pads"][1], act_min=act_min, act_max=act_max)


def overlap_limit(p, index, x, out):
    return c.row_overlap_limit(p, p["channels"], p["channels"])


def int_ref(p, x):
    y = c.windows(c.to_nhwc(x), c.window_attrs(p), c.INT8_MIN).max(axis=(3, 4))  # padding never wins
    return c.from_nhwc(np.clip(y, p["act_min"], p["act_max"]).astype(np.int8))
