"""1 / sqrt(x) (TFLite RSQRT; ONNX Sqrt then Reciprocal, fused by onnx_passes). int8: TFLM's integer arithmetic,
one table over the 256 input values computed here as its Eval computes each one: v = x - input_zp,
GetInvSqrtQuantizedMultiplierExp(v) (fixedpoint.inv_sqrt_quantized_multiplier_exp), that multiplier applied
to 1 with 20 more bits, requantized by 1 / (sqrtf(input_scale) * output_scale) (sqrt and product in float32,
the reciprocal in double, as TFLM), plus the output zero point; v = 0 gives 127. TFLM refuses a v < 0 at run time
(RSQRT of a negative number): the table gives 127 there too. TFLM's int16 RSQRT is not built here (a 16x8 model
runs it with --float-fallback). Or float."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "float32": ("mcu_rsqrt_f32", "mcu_unary_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise
SHIFT = 20  # TFLM's kShift: bits that keep 1 / sqrt(v) an integer


def float_ref(attrs, x):
    x = np.asarray(x, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.float32(1) / np.sqrt(x)).astype(np.float32)


def prepare(attrs, ins, out):
    if out.dtype == "float32":
        return dict(size=out.size)
    x = ins[0]
    real = 1.0 / float(np.sqrt(np.float32(x.scale)) * np.float32(out.scale))
    mult, shift = fp.quantize_multiplier(real)
    outputs = []
    for q in range(-128, 128):
        v = q - x.zero_point
        if v <= 0:
            outputs.append(127)
            continue
        inv_mult, inv_shift = fp.inv_sqrt_quantized_multiplier_exp(v)
        data = fp.multiply_by_quantized_multiplier(1, inv_mult, inv_shift + SHIFT)
        y = fp.multiply_by_quantized_multiplier(data, mult, shift - SHIFT) + out.zero_point
        outputs.append(int(np.clip(y, -128, 127)))
    return dict(size=out.size, table=c.table_by_byte(outputs))


int_ref = c.lut_ref


def onnx_rsqrt(imp, node, a):
    imp.emit("rsqrt", [imp.x(node)], [imp.output(node)], node)


ONNX = {"Rsqrt": onnx_rsqrt}  # onnx_passes.fuse: Sqrt -> Reciprocal, and a Div by a Sqrt
TFLITE = {"RSQRT": c.tflite_unary("rsqrt")}
