"""-x (TFLite NEG). The converter writes it in float32 between a DEQUANTIZE and a QUANTIZE in int8 files (TFLM's NEG
has no int8 kernel): the float kernel runs it there, exactly. In a model we quantize (a float .tflite) its int8
form is a table (mcu_lut_s8) of -(x - input_zp) requantized to the output's own scale (TFLite's double rounding)
plus its zero point. An ONNX Neg is a scale_mul by -1 (ops/mul.py), folded into the layer before it or a mul."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "float32": ("mcu_neg_f32", "mcu_unary_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise


def float_ref(attrs, x):
    return np.negative(x).astype(np.float32)


def prepare(attrs, ins, out):
    if out.dtype == "float32":
        return dict(size=out.size)
    mult, shift = fp.quantize_multiplier(float(np.float32(ins[0].scale)) / float(np.float32(out.scale)))
    c.check_shifts([shift])
    y = fp.multiply_by_quantized_multiplier(ins[0].zero_point - np.arange(-128, 128), mult, shift) + out.zero_point
    return dict(size=out.size, table=c.table_by_byte(np.clip(y, -128, 127)))


int_ref = c.lut_ref


TFLITE = {"NEG": c.tflite_unary("neg")}
