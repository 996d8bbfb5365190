"""GELU (TFLite GELU, exact or `approximate`; ONNX Gelu of opset 20 and the Erf pattern x * 0.5 * (1 + Erf(x /
sqrt 2)) that exporters write, fused into one node by onnx_passes): x / 2 (1 + erf(x / sqrt 2)), or the tanh form
x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). int8: TFLite's 256-entry lookup table (its Prepare fills it
with LUTPopulate, _common.lut_s8), the function evaluated in float64 (stable.erf, stable.tanh) and rounded to
float32: equal to TFLite's table over every input value at every scale the tests try. int16 (16x8): TFLite's
513-entry table over the input's range (LUTPopulate's int16 form, fixedpoint.lut_int16), interpolated
(mcu_lut_lookup_s16), equal to TFLite over all 65536 inputs. TFLM has no GELU kernel (TFLite's interpreter is the
oracle). Or float."""
import numpy as np

from .. import fixedpoint as fp
from .. import stable
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_lut_s8", "mcu_lut_params_t"), "int16": ("mcu_lut_s16", "mcu_lut_params_t"),
           "float32": ("mcu_gelu_f32", "mcu_gelu_f32_params_t")}
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
    if out.dtype == "int16":
        f32 = np.float32
        table = fp.lut_int16(lambda v: f32(float_ref(attrs, f32(v))), f32(ins[0].scale) * f32(-32768),
                             f32(ins[0].scale) * f32(32767), f32(out.scale) * f32(-32768), f32(out.scale) * f32(32767))
        return dict(size=out.size, table=table)
    return dict(size=out.size, table=c.lut_s8(ins[0], out, lambda v: float_ref(attrs, v)))


def int_ref(p, x):
    if len(p["table"]) == fp.LUT_STEPS + 1:  # int16: the interpolated table
        return fp.lut_lookup_int16(x.astype(np.int64), p["table"])
    return c.lut_ref(p, x)


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
