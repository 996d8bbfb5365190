"""(x1 - x2)^2, element-wise, broadcast as TFLite does (TFLite SQUARED_DIFFERENCE: the variance of a Keras
LayerNormalization). int8: TFLM's arithmetic, ADD's structure with a left shift of 7: both inputs scaled to a
common grid (each by its scale / (2 max scale), in double, as multipliers below one), the difference squared
in int32 (at most 255^2 2^14) and requantized by (2 max scale)^2 / (2^14 output_scale). Or float. TFLM's int16
form is not built here (a 16x8 model runs it with --float-fallback)."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import add

KERNELS = {"int8": ("mcu_squared_difference_s8", "mcu_add_params_t"),
           "float32": ("mcu_squared_difference_f32", "mcu_add_f32_params_t")}
output_shape, macs, overlap_limit = add.output_shape, add.macs, add.overlap_limit
LEFT_SHIFT = 7  # TFLM's: 255^2 * 2^(2 * 7) stays inside int32


def float_ref(attrs, a, b):
    a, b = c.aligned_pair(a, b)
    d = a.astype(np.float32) - b.astype(np.float32)
    return (d * d).astype(np.float32)


def prepare(attrs, ins, out):
    geometry = c.broadcast_fields(ins[0].shape, ins[1].shape, out.shape)
    if out.dtype == "float32":
        return dict(size=out.size, act_min=np.float32(0), act_max=np.float32(c.FLOAT_MAX), subtract=1, **geometry)
    s1, s2, so = (float(np.float32(t.scale)) for t in (ins[0], ins[1], out))
    twice_max = 2 * max(s1, s2)
    m1, sh1 = fp.quantize_multiplier(s1 / twice_max)
    m2, sh2 = fp.quantize_multiplier(s2 / twice_max)
    mo, sho = fp.quantize_multiplier(twice_max * twice_max / ((1 << 2 * LEFT_SHIFT) * so))
    c.check_shifts([sh1, sh2, sho])
    return dict(size=out.size, input1_zp=ins[0].zero_point, input2_zp=ins[1].zero_point, output_zp=out.zero_point,
                left_shift=LEFT_SHIFT, input1_mult=m1, input1_shift=sh1, input2_mult=m2, input2_shift=sh2,
                output_mult=mo, output_shift=sho, act_min=-128, act_max=127, subtract=1, **geometry)


def int_ref(p, a, b):
    a, b = c.aligned_pair(a, b)
    mbqm = fp.multiply_by_quantized_multiplier
    s1 = mbqm((a.astype(np.int64) - p["input1_zp"]) << p["left_shift"], p["input1_mult"], p["input1_shift"])
    s2 = mbqm((b.astype(np.int64) - p["input2_zp"]) << p["left_shift"], p["input2_mult"], p["input2_shift"])
    y = mbqm((s1 - s2) * (s1 - s2), p["output_mult"], p["output_shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"])


def tflite_squared_difference(imp, k, op):
    imp.emit(k, "squared_difference", imp.operands(k, (op.Inputs(0), op.Inputs(1))), [op.Outputs(0)])


TFLITE = {"SQUARED_DIFFERENCE": tflite_squared_difference}
