"""ELU and SELU (TFLite ELU; ONNX Elu, Selu): gamma * (x < 0 ? alpha * (e^x - 1) : x), element-wise. int8:
TFLM's 256-entry lookup table, computed here at generation time as its Prepare does, in float32 (the input
value dequantized, transformed, times 1 / output_scale, rounded half away from zero, plus the zero point,
clamped), e^x from stable.exp rounded to float32; TFLite's ELU is alpha = gamma = 1. TFLM has no int16 ELU.
Or float."""
import numpy as np

from .. import stable
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "float32": ("mcu_elu_f32", "mcu_elu_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise


def _transform(attrs, x):
    """The float32 arithmetic of TFLM's transform (x < 0 ? e^x - 1 : x), with ONNX's alpha and gamma."""
    x = np.asarray(x, np.float32)
    alpha, gamma = np.float32(attrs.get("alpha", 1.0)), np.float32(attrs.get("gamma", 1.0))
    negative = stable.exp(np.minimum(x, 0)).astype(np.float32) - np.float32(1)  # (used where x < 0 only)
    if alpha != 1:
        negative = alpha * negative
    y = np.where(x < 0, negative, x).astype(np.float32)
    return (gamma * y).astype(np.float32) if gamma != 1 else y


def float_ref(attrs, x):
    return _transform(attrs, x)


def prepare(attrs, ins, out):
    if out.dtype == "float32":
        return dict(size=out.size, alpha=np.float32(attrs.get("alpha", 1.0)), gamma=np.float32(attrs.get("gamma", 1.0)))
    return dict(size=out.size, table=c.lut_s8(ins[0], out, lambda v: _transform(attrs, v)))


int_ref = c.lut_ref


# -- import ----------------------------------------------------------------------------------------------------
def onnx_elu(imp, node, a):
    imp.emit("elu", [imp.x(node)], [imp.output(node)], node, alpha=float(a.get("alpha", 1.0)))


def onnx_selu(imp, node, a):
    imp.emit("elu", [imp.x(node)], [imp.output(node)], node, alpha=float(a.get("alpha", 1.67326319217681884765625)),
             gamma=float(a.get("gamma", 1.05070102214813232421875)))


ONNX = {"Elu": onnx_elu, "Selu": onnx_selu}
TFLITE = {"ELU": c.tflite_unary("elu")}
