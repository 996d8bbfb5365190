"""Tanh with TFLite's int8 TANH arithmetic (logistic.py's input rescaling, gemmlowp's tanh), its int16 one
(the sigmoid table: tanh x = 2 sigmoid(2x) - 1), or float. TFLite fixes the output quantization (1/128, zero
point 0; int16: 2^-15, 0)."""
import numpy as np

from .. import fixedpoint as fp
from .. import stable
from . import logistic

KERNELS = {"int8": ("mcu_tanh_s8", "mcu_logistic_params_t"),
           "int16": ("mcu_tanh_s16", "mcu_logistic_s16_params_t"),
           "float32": ("mcu_tanh_f32", "mcu_unary_f32_params_t")}
OUTPUT_QUANT = {"int8": (1.0 / 128, 0), "int16": (1.0 / 32768, 0)}
output_shape, macs, overlap_limit = logistic.output_shape, logistic.macs, logistic.overlap_limit


def prepare(attrs, ins, out):
    return logistic.prepare(attrs, ins, out, pot_shifts=(0, 1))  # TFLM's TANH takes scales 2^-12 and 2^-11


def float_ref(attrs, x):
    return stable.tanh(x).astype(np.float32)


def int_ref(p, x):
    if "table" in p:
        return fp.tanh_s16(x, p["input_mult"], p["input_left_shift"])
    d, q4 = logistic.q4_input(p, x)
    y = np.clip(fp.rounding_divide_by_pot(fp.tanh_q4(q4), 24), -128, 127)
    return np.where(d <= -p["input_range_radius"], -128, np.where(d >= p["input_range_radius"], 127, y))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_tanh(imp, node, a):
    imp.emit("tanh", [imp.x(node)], [imp.output(node)], node)


def tflite_tanh(imp, k, op):
    imp.emit(k, "tanh", [op.Inputs(0)], [op.Outputs(0)])


ONNX = {"Tanh": onnx_tanh}
TFLITE = {"TANH": tflite_tanh}
