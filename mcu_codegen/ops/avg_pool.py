"""Average pooling over NHWC (also GlobalAveragePool), padding not counted; output shares the input's scale
and zero point (as TFLite), so the kernel averages raw int8 values with TFLM's rounding."""
import numpy as np

from ..fixedpoint import INT32_MAX
from ..ir import ConversionError
from . import _common as c
from . import max_pool

KERNELS = {"int8": ("mcu_avg_pool_s8", "mcu_pool_params_t"), "int16": ("mcu_avg_pool_s16", "mcu_pool_params_t"),
           "float32": ("mcu_avg_pool_f32", "mcu_pool_f32_params_t")}
SAME_QUANT_AS_INPUT = True
output_shape = max_pool.output_shape
overlap_limit = max_pool.overlap_limit


def prepare(attrs, ins, out):
    taps = attrs["kernel"][0] * attrs["kernel"][1]
    largest = {"int8": 128, "int16": 32768}.get(out.dtype)  # the window sum, and its rounding term, are int32
    if largest is not None and taps * largest + taps // 2 > INT32_MAX:
        raise ConversionError(f"an average over {taps} values could overflow its int32 sum")
    return max_pool.prepare(attrs, ins, out)


def variants(p, dtype):
    """Helium: sixteen channels per pass in int16 sums, exact for windows of at most 256 int8 taps."""
    if dtype == "int8" and p["kernel_h"] * p["kernel_w"] <= 256:
        return c.isa_forms("mcu_avg_pool_s8", None, "mcu_avg_pool_mve_s8")
    return None


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * attrs["kernel"][0] * attrs["kernel"][1]


def float_ref(attrs, x):
    x = c.to_nhwc(x).astype(np.float32)
    total = c.windows(x, attrs, 0.0).sum(axis=(3, 4), dtype=np.float32)
    counts = c.window_counts(x.shape[1:3], attrs)[None, :, :, None]
    return c.from_nhwc(c.float_clamp(total / counts, attrs))


def int_ref(p, x):
    x = c.to_nhwc(x).astype(np.int64)
    attrs = c.window_attrs(p)
    total = c.windows(x, attrs, 0).sum(axis=(3, 4))
    n = c.window_counts(x.shape[1:3], attrs)[None, :, :, None]
    # TFLM: (sum +- n/2) / n with C's truncating division, i.e. round half away from zero
    avg = np.where(total > 0, (total + n // 2) // n, -((n // 2 - total) // n))
    return c.from_nhwc(np.clip(avg, p["act_min"], p["act_max"]))


# -- import ----------------------------------------------------------------------------------------------------
ONNX = {"AveragePool": lambda imp, node, a: imp.pool(node, a, "avg_pool")}  # GlobalAveragePool: mean.py
TFLITE = {"AVERAGE_POOL_2D": lambda imp, k, op: imp.pool(k, op, "avg_pool")}
