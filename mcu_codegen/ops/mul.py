"""Element-wise product of two activations, broadcast as TFLite / NumPy do, with TFLite's int8 / int16 MUL
arithmetic: (x1 - zp1) * (x2 - zp2) requantized by input1_scale * input2_scale / output_scale; or float.
An ONNX Mul by a constant is a scale_mul, folded by passes into the conv / fully connected layer before it
(tf2onnx's decomposed BatchNorm)."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import add

KERNELS = {"int8": ("mcu_mul_s8", "mcu_mul_params_t"), "int16": ("mcu_mul_s16", "mcu_mul_params_t"),
           "float32": ("mcu_mul_f32", "mcu_add_f32_params_t")}
output_shape, overlap_limit = add.output_shape, add.overlap_limit


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape))


def float_ref(attrs, a, b):
    a, b = c.aligned_pair(a, b)
    return c.float_clamp(a * b, attrs)


def prepare(attrs, ins, out):
    act_min, act_max = c.act_range(attrs, out)
    geometry = c.broadcast_fields(ins[0].shape, ins[1].shape, out.shape)
    if out.dtype == "float32":
        return dict(size=out.size, act_min=act_min, act_max=act_max, subtract=0, **geometry)
    s1, s2, so = (float(np.float32(t.scale)) for t in (ins[0], ins[1], out))
    mult, shift = fp.quantize_multiplier(s1 * s2 / so)
    c.check_shifts([shift])
    return dict(size=out.size, input1_zp=ins[0].zero_point, input2_zp=ins[1].zero_point, output_zp=out.zero_point,
                output_mult=mult, output_shift=shift, act_min=act_min, act_max=act_max, **geometry)


def int_ref(p, a, b):
    a, b = c.aligned_pair(a, b)
    product = (a.astype(np.int64) - p["input1_zp"]) * (b.astype(np.int64) - p["input2_zp"])
    y = fp.multiply_by_quantized_multiplier(product, p["output_mult"], p["output_shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_mul(imp, node, a):
    x, value, _ = imp.constant_operand(node)
    if value is not None:
        imp.emit("scale_mul", [x], [imp.output(node)], node, value=value)
        return
    imp.binary(node, "mul")


def onnx_div(imp, node, a):
    """x / constant is x times the constant's reciprocal (a scale_mul, folded like a Mul), in the float graph
    before quantization; a division by an activation is not supported."""
    x, value, first = imp.constant_operand(node)
    if value is None or first:
        imp.fail(node, "only a division by a constant is supported")
    if not np.all(value != 0):
        imp.fail(node, "division by zero in the constant divisor")
    imp.emit("scale_mul", [x], [imp.output(node)], node, value=(np.float32(1) / value).astype(np.float32))


def onnx_neg(imp, node, a):
    """-x is a Mul by the constant -1 (tf2onnx writes PReLU with one): folded into a layer's weights, or a mul."""
    imp.emit("scale_mul", [imp.x(node)], [imp.output(node)], node, value=np.float32(-1.0))


def tflite_mul(imp, k, op):
    imp.binary(k, op, "mul", imp.options(op, "MulOptions"))


ONNX = {"Mul": onnx_mul, "Div": onnx_div, "Neg": onnx_neg}
TFLITE = {"MUL": tflite_mul}
