"""1 / sqrt(x) (TFLite RSQRT; ONNX Sqrt then Reciprocal, fused by onnx_passes). int8: TFLM's integer arithmetic,
one table over the 256 input values computed here as its Eval computes each one: v = x - input_zp,
GetInvSqrtQuantizedMultiplierExp(v) (fixedpoint.inv_sqrt_quantized_multiplier_exp), that multiplier applied
to 1 with 20 more bits, requantized by 1 / (sqrt(input_scale) * output_scale) (in double, as TFLM), plus the
output zero point; v = 0 gives 127. TFLM refuses a v < 0 at run time (RSQRT of a negative number): the table
gives 127 there too. int16 (16x8): the same arithmetic per element in
C (mcu_rsqrt_s16), no table. Or float."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "int16": ("mcu_rsqrt_s16", "mcu_rsqrt_params_t"),
           "float32": ("mcu_rsqrt_f32", "mcu_unary_f32_params_t")}
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
    real = 1.0 / (np.sqrt(float(np.float32(x.scale))) * float(np.float32(out.scale)))  # in double, as TFLM
    mult, shift = fp.quantize_multiplier(real)
    q_min, q_max = c.QRANGE[out.dtype]
    p = dict(size=out.size, input_zp=x.zero_point, output_zp=out.zero_point, mult=mult, shift=shift, q_min=q_min,
             q_max=q_max)
    if out.dtype == "int8":  # every input value computed once: a table (mcu_lut_s8)
        return dict(size=out.size, table=c.table_by_byte(_rsqrt(p, np.arange(-128, 128))))
    return p


def _rsqrt(p, q):
    """TFLM's RsqrtEvalQuantized on the values q (the twin of mcu_rsqrt_s16, and the int8 table's entries)."""
    v = np.asarray(q, np.int64) - p["input_zp"]
    inv_mult, inv_shift = fp.inv_sqrt_quantized_multiplier_exp(np.maximum(v, 1))
    data = fp.multiply_by_quantized_multiplier(1, inv_mult, inv_shift + SHIFT)
    y = fp.multiply_by_quantized_multiplier(data, p["mult"], p["shift"] - SHIFT) + p["output_zp"]
    return np.where(v <= 0, p["q_max"], np.clip(y, p["q_min"], p["q_max"]))


def int_ref(p, x):
    return c.lut_ref(p, x) if "table" in p else _rsqrt(p, x)


def onnx_rsqrt(imp, node, a):
    imp.emit("rsqrt", [imp.x(node)], [imp.output(node)], node)


ONNX = {"Rsqrt": onnx_rsqrt}  # onnx_passes.fuse: Sqrt -> Reciprocal, and a Div by a Sqrt
TFLITE = {"RSQRT": c.tflite_unary("rsqrt")}
