"""int8 <-> int16 between layers of different precision (mixed precision, --int16-layers), with TFLite's
QUANTIZE-as-requantize arithmetic: out = requant(in - input_zp) + output_zp, clamped to the output type."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import quantize

KERNELS = {"int8": ("mcu_requantize_s8_s16", "mcu_requantize_params_t"),
           "int16": ("mcu_requantize_s16_s8", "mcu_requantize_params_t")}
output_shape = quantize.output_shape
macs = quantize.macs
float_ref = quantize.float_ref


def prepare(attrs, ins, out):
    mult, shift = fp.quantize_multiplier(float(np.float32(ins[0].scale)) / float(np.float32(out.scale)))
    c.check_shifts([shift])
    out_min, out_max = c.QRANGE[out.dtype]
    return dict(size=out.size, input_zp=ins[0].zero_point, output_zp=out.zero_point, mult=mult, shift=shift,
                out_min=out_min, out_max=out_max)


def overlap_limit(p, index, x, out):
    return c.elementwise_overlap_limit(x, out)


def int_ref(p, x):
    y = fp.multiply_by_quantized_multiplier(x.astype(np.int64) - p["input_zp"], p["mult"], p["shift"])
    return np.clip(y + p["output_zp"], p["out_min"], p["out_max"])
