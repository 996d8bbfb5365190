"""Tanh with TFLite's int8 TANH arithmetic (logistic.py's input rescaling, gemmlowp's tanh), or float. TFLite
fixes the output quantization (1/128, zero point 0)."""
import numpy as np

from .. import fixedpoint as fp
from .. import stable
from . import logistic

KERNELS = {"int8": ("mcu_tanh_s8", "mcu_logistic_params_t"),
           "float32": ("mcu_tanh_f32", "mcu_unary_f32_params_t")}
OUTPUT_QUANT = {"int8": (1.0 / 128, 0), "int16": (1.0 / 32768, 0)}
output_shape, macs, prepare, overlap_limit = logistic.output_shape, logistic.macs, logistic.prepare, \
    logistic.overlap_limit


def float_ref(attrs, x):
    return stable.tanh(x).astype(np.float32)


def int_ref(p, x):
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
