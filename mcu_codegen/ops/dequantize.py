"""int8 -> float32 model output (the C code dequantizes at the edge when --io float32)."""
import numpy as np

from . import quantize

C_FUNCTION = "mcu_dequantize_s8_f32"
C_PARAMS_TYPE = "mcu_quantize_params_t"
output_shape = quantize.output_shape
macs = quantize.macs
float_ref = quantize.float_ref


def prepare(attrs, ins, out):
    return dict(size=out.size, scale=np.float32(ins[0].scale), zero_point=ins[0].zero_point)


def overlap_limit(p, index, x, out):
    return -3 * p["size"]  # 4-byte outputs must stay below the 1-byte inputs not yet read


def int_ref(p, x):
    return (x.astype(np.int64) - p["zero_point"]).astype(np.float32) * np.float32(p["scale"])
