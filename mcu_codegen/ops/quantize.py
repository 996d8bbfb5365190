"""float32 model input -> int8 (the C code quantizes at the edge when --io float32)."""
import numpy as np

from .. import fixedpoint as fp

C_FUNCTION = "mcu_quantize_f32_s8"
C_PARAMS_TYPE = "mcu_quantize_params_t"


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return x


def prepare(attrs, ins, out):
    return dict(size=out.size, scale=np.float32(out.scale), zero_point=out.zero_point)


def overlap_limit(p, index, x, out):
    return 0  # 4-byte element i is read before 1-byte element i is written


def int_ref(p, x):
    # float32 division and rounding exactly as the C kernel: clamp, truncate, compare the exact fraction
    q = np.asarray(x, dtype=np.float32) / np.float32(p["scale"])
    q = np.where(q > -1000.0, q, np.float32(-1000.0))  # NaN lands here, as in C
    q = np.where(q < 1000.0, q, np.float32(1000.0))
    rounded = fp.round_half_away(q).astype(np.int64)  # exact on float32 values, as C's truncate-and-compare
    return np.clip(rounded + p["zero_point"], -128, 127).astype(np.int8)
