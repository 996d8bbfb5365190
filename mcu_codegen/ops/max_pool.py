"""Max pooling over NHWC (int8, int16 or float); output shares the input's scale and zero point (as TFLite)."""
import numpy as np

from . import _common as c

KERNELS = {"int8": ("mcu_max_pool_s8", "mcu_pool_params_t"), "int16": ("mcu_max_pool_s16", "mcu_pool_params_t"),
           "float32": ("mcu_max_pool_f32", "mcu_pool_f32_params_t")}
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return (1, *c.window_output_hw(in_shapes[0][1:3], attrs), in_shapes[0][3])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return c.from_nhwc(c.float_clamp(c.windows(c.to_nhwc(x), attrs, -np.inf).max(axis=(3, 4)), attrs))


def prepare(attrs, ins, out):
    act_min, act_max = c.act_range(attrs, out)
    return dict(c.window_params(attrs, ins[0], out), channels=ins[0].shape[3], act_min=act_min, act_max=act_max)


def overlap_limit(p, index, x, out):
    return c.row_overlap_limit(p, x, out, p["channels"], p["channels"])


def int_ref(p, x):
    y = c.windows(c.to_nhwc(x).astype(np.int64), c.window_attrs(p), -(1 << 40)).max(axis=(3, 4))  # padding never wins
    return c.from_nhwc(np.clip(y, p["act_min"], p["act_max"]))


# -- import ----------------------------------------------------------------------------------------------------
ONNX = {"MaxPool": lambda imp, node, a: imp.pool(node, a, "max_pool")}
TFLITE = {"MAX_POOL_2D": lambda imp, k, op: imp.pool(k, op, "max_pool")}
