"""Element-wise exp(x), float32 only: no integer kernel. In an int8 or 16x8 model it runs with --float-fallback,
between a dequantize and a quantize (quantize.py); without that flag it is refused with the other nodes that
have no integer kernel."""
import numpy as np

from .. import stable
from . import _common as c
from . import quantize

KERNELS = {"float32": ("mcu_exp_f32", "mcu_unary_f32_params_t")}
output_shape, macs = quantize.output_shape, quantize.macs  # element-wise, no MACs


def float_ref(attrs, x):
    return stable.exp(x).astype(np.float32)


def prepare(attrs, ins, out):
    return dict(size=out.size)


def overlap_limit(p, index, x, out):
    return c.elementwise_overlap_limit(x, out)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_exp(imp, node, a):
    imp.emit("exp", [imp.x(node)], [imp.output(node)], node)


def tflite_exp(imp, k, op):
    imp.emit(k, "exp", [op.Inputs(0)], [op.Outputs(0)])


ONNX = {"Exp": onnx_exp}
TFLITE = {"EXP": tflite_exp}
