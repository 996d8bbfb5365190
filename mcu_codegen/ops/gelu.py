"""GELU (TFLite GELU, exact or `approximate`; ONNX Gelu of opset 20 and the Erf pattern x * 0.5 * (1 + Erf(x /
sqrt 2)) that exporters write, fused into one node by onnx_passes): x / 2 (1 + erf(x / sqrt 2)), or the tanh form
x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). int8: TFLite's 256-entry lookup table (its Prepare fills it
with LUTPopulate, _common.lut_s8), the function evaluated in float64 (stable.erf, stable.tanh) and rounded to
float32: equal to TFLite's table over every input value at every scale the tests try. TFLM has no GELU kernel
(TFLite's interpreter is the oracle); TFLite's int16 GELU is not built here (a 16x8 model runs it with
--float-fallback). Or float."""
import numpy as np

from .. import stable
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "float32": ("mcu_gelu_f32", "mcu_gelu_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise


def float_ref(attrs, x):
    x = np.asarray(x, np.float64)
    if attrs.get("approximate"):
        inner = np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)
        return (0.5 * x * (1.0 + stable.tanh(inner))).astype(np.float32)
    return (0.5 * x * (1.0 + stable.erf(x * np.sqrt(0.5)))).astype(np.float32)


def prepare(attrs, ins, out):
    if out.dtype == "float32":
        return dict(size=out.size, approximate=int(bool(attrs.get("approximate"))))
    return dict(size=out.size, table=c.lut_s8(ins[0], out, lambda v: float_ref(attrs, v)))


int_ref = c.lut_ref


# -- import ----------------------------------------------------------------------------------------------------
def onnx_gelu(imp, node, a):
    approximate = a.get("approximate", "none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
    if approximate not in ("none", "tanh"):
        imp.fail(node, f"approximate='{approximate}' is not a GELU form (none or tanh)")
    imp.emit("gelu", [imp.x(node)], [imp.output(node)], node, approximate=approximate == "tanh")


def tflite_gelu(imp, k, op):
    imp.emit(k, "gelu", [op.Inputs(0)], [op.Outputs(0)], approximate=bool(imp.options(op, "GeluOptions").Approximate()))


ONNX = {"Gelu": onnx_gelu}
TFLITE = {"GELU": tflite_gelu}
