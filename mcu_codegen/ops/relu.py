"""A standalone activation clamp (Relu, Relu6, Clip with no producer to fuse into; TFLite RELU and RELU6,
as TFLM has them, RELU_N1_TO_1 and RELU_0_TO_1 as TFLite has them; QUANTIZE int8 -> int8 without a clamp)
with TFLM's int8 / int16 RELU arithmetic: the input requantized to the output's scale (32-bit multiplier,
double rounding) and clamped to the bounds quantized in the output's scale; or float."""
import numpy as np
import tflite

from .. import fixedpoint as fp
from . import _common as c

KERNELS = {"int8": ("mcu_relu_s8", "mcu_relu_params_t"), "int16": ("mcu_relu_s16", "mcu_relu_params_t"),
           "float32": ("mcu_relu_f32", "mcu_relu_f32_params_t")}


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return c.float_clamp(x, attrs)


def prepare(attrs, ins, out):
    act_min, act_max = c.act_range(attrs, out)
    if out.dtype == "float32":
        return dict(size=out.size, act_min=act_min, act_max=act_max)
    mult, shift = fp.quantize_multiplier(float(np.float32(ins[0].scale)) / float(np.float32(out.scale)))
    c.check_shifts([shift])
    return dict(size=out.size, input_zp=ins[0].zero_point, output_zp=out.zero_point, mult=mult, shift=shift,
                act_min=act_min, act_max=act_max)


def overlap_limit(p, index, x, out):
    return c.elementwise_overlap_limit(x, out)


def int_ref(p, x):
    y = fp.multiply_by_quantized_multiplier(x.astype(np.int64) - p["input_zp"], p["mult"], p["shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"])


# -- import (ONNX Relu and Clip: a clamp that passes fuse into its producer, or make a relu) ----------------------
def tflite_relu(imp, k, op):
    code = imp.code(op)
    B = tflite.BuiltinOperator
    act = {B.RELU: (0.0, np.inf), B.RELU6: (0.0, 6.0), B.RELU_N1_TO_1: (-1.0, 1.0), B.RELU_0_TO_1: (0.0, 1.0)}[code]
    if code == B.RELU6 and not imp.float_model:  # TFLM clamps RELU6 in the input's scale and ignores the output's
        (s_in, z_in), (s_out, z_out) = imp.quant(op.Inputs(0)), imp.quant(op.Outputs(0))
        if s_in is None or s_out is None or (np.float32(s_in[0]), z_in[0]) != (np.float32(s_out[0]), z_out[0]):
            imp.fail(k, "an output quantization unlike the input's is not supported (TFLM computes RELU6 in the "
                        "input's)")
    imp.emit(k, "relu", [op.Inputs(0)], [op.Outputs(0)], act=act)


# TFLM has no RELU_N1_TO_1 or RELU_0_TO_1 kernel: those two follow TFLite's (QuantizedReluX, as its RELU: the output's
# quantization)
TFLITE = {"RELU": tflite_relu, "RELU6": tflite_relu, "RELU_N1_TO_1": tflite_relu, "RELU_0_TO_1": tflite_relu}
