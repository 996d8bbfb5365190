"""Logistic (sigmoid) with TFLite's int8 LOGISTIC arithmetic, or float. TFLite fixes the output quantization
(1/256, zero point -128; int16: 2^-15, 0). int8: x - zp is rescaled to gemmlowp's 4-integer-bit fixed point by
a multiplier from input_scale * 2^27; beyond +-range_radius the output saturates. int16: TFLite's interpolated
sigmoid table (fixedpoint.logistic_s16). tanh.py shares this prepare."""
import math

import numpy as np

from .. import fixedpoint as fp
from .. import stable
from ..ir import ConversionError
from . import _common as c

KERNELS = {"int8": ("mcu_logistic_s8", "mcu_logistic_params_t"),
           "int16": ("mcu_logistic_s16", "mcu_logistic_s16_params_t"),
           "float32": ("mcu_logistic_f32", "mcu_unary_f32_params_t")}
OUTPUT_QUANT = {"int8": (1.0 / 256, -128), "int16": (1.0 / 32768, 0)}
INPUT_INTEGER_BITS = 4


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return stable.sigmoid(x).astype(np.float32)


def prepare(attrs, ins, out, pot_shifts=(0,)):
    """TFLM's Prepare for LOGISTIC and TANH. int8: the multiplier and left shift of input_scale * 2^27 (frexp,
    rounded half away from zero) and the input radius floor(15 * 2^27 / 2^shift). int16: see prepare_s16."""
    x = ins[0]
    if x.dtype == "float32":
        return dict(size=out.size)
    if x.dtype == "int16":
        return prepare_s16(x, out, pot_shifts)
    q, shift = math.frexp(float(np.float32(x.scale)) * (1 << (31 - INPUT_INTEGER_BITS)))
    mult = int(fp.round_half_away(q * (1 << 31)))
    if mult >= 1 << 31 or not -31 <= shift <= 30:
        raise ConversionError(f"input scale {float(x.scale)} out of the range of TFLite's int8 arithmetic")
    radius = math.floor(math.ldexp(((1 << INPUT_INTEGER_BITS) - 1) * (1 << (31 - INPUT_INTEGER_BITS)), -shift))
    return dict(size=out.size, input_zp=x.zero_point, input_mult=mult, input_left_shift=shift,
                input_range_radius=min(radius, fp.INT32_MAX))


def prepare_s16(x, out, pot_shifts):
    """The int16 input rescaling to the table's 3 / 4 * 2^-12 grid: a scale 2^k whose shift 12 + k is one of
    pot_shifts multiplies by 3 << shift; any other, by int(scale * 3 * 4096 * 2^shift) with the smallest shift
    that brings it above 2^14 (TFLM's loop). TFLM decides "a power of two" from a float log2 within 1e-3."""
    scale = float(np.float32(x.scale))
    log2 = float(stable.log(scale) / stable.log(2.0))
    rounded = int(fp.round_half_away(log2))
    if abs(log2 - rounded) < 1e-3 and 12 + rounded in pot_shifts:
        mult, shift = 3 << (12 + rounded), 0
    else:
        m, shift = scale * 4096.0 * 3.0, 0
        while m <= 32767.0 / 2.0 and shift <= 30:
            m, shift = m * 2.0, shift + 1
        mult = int(m)
        if mult > 32767:
            raise ConversionError(f"input scale {scale} is too large for TFLite's int16 arithmetic")
    return dict(size=out.size, input_mult=mult, input_left_shift=shift, table=fp.SIGMOID_TABLE_U16)


def overlap_limit(p, index, x, out):
    return c.elementwise_overlap_limit(x, out)


def q4_input(p, x):
    """(x - zp, its 4-integer-bit fixed-point value) as the kernels compute them."""
    d = x.astype(np.int64) - p["input_zp"]
    return d, fp.multiply_by_quantized_multiplier(d, p["input_mult"], p["input_left_shift"])


def int_ref(p, x):
    if "table" in p:
        return fp.logistic_s16(x, p["input_mult"], p["input_left_shift"])
    d, q4 = q4_input(p, x)
    y = np.clip(fp.rounding_divide_by_pot(fp.logistic_q4(q4), 23) - 128, -128, 127)
    return np.where(d <= -p["input_range_radius"], -128, np.where(d >= p["input_range_radius"], 127, y))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_sigmoid(imp, node, a):
    imp.emit("logistic", [imp.x(node)], [imp.output(node)], node)


def tflite_logistic(imp, k, op):
    imp.emit(k, "logistic", [op.Inputs(0)], [op.Outputs(0)])


ONNX = {"Sigmoid": onnx_sigmoid}
TFLITE = {"LOGISTIC": tflite_logistic}
