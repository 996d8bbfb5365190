"""Leaky ReLU (TFLite LEAKY_RELU, ONNX LeakyRelu): x >= 0 ? x : alpha * x, element-wise, with TFLM's int8 /
int16 arithmetic: x - input_zp requantized by input_scale / output_scale where it is >= 0 and by
input_scale * alpha / output_scale below (both ratios computed in float32, as TFLM's Prepare), plus output_zp,
clamped to the type; or float. Its own output quantization."""
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_leaky_relu_s8", "mcu_leaky_relu_params_t"),
           "int16": ("mcu_leaky_relu_s16", "mcu_leaky_relu_params_t"),
           "float32": ("mcu_leaky_relu_f32", "mcu_leaky_relu_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise


def float_ref(attrs, x):
    x = np.asarray(x, np.float32)
    return np.where(x >= 0, x, x * np.float32(attrs["alpha"])).astype(np.float32)


def prepare(attrs, ins, out):
    alpha = np.float32(attrs["alpha"])
    if out.dtype == "float32":
        return dict(size=out.size, alpha=alpha)
    if alpha < 0:  # TFLM would requantize by a negative multiplier, which our fixed point does not define
        raise ConversionError(f"alpha {float(alpha)} < 0 is not supported")
    s_in, s_out = np.float32(ins[0].scale), np.float32(out.scale)
    identity_mult, identity_shift = fp.quantize_multiplier(float(s_in / s_out))
    alpha_mult, alpha_shift = fp.quantize_multiplier(float(s_in * alpha / s_out))
    c.check_shifts([identity_shift, alpha_shift])
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(size=out.size, input_zp=ins[0].zero_point, output_zp=out.zero_point, identity_mult=identity_mult,
                identity_shift=identity_shift, alpha_mult=alpha_mult, alpha_shift=alpha_shift, q_min=q_min,
                q_max=q_max)


def int_ref(p, x):
    d = x.astype(np.int64) - p["input_zp"]
    mbqm = fp.multiply_by_quantized_multiplier
    y = np.where(d >= 0, mbqm(d, p["identity_mult"], p["identity_shift"]), mbqm(d, p["alpha_mult"], p["alpha_shift"]))
    return np.clip(y + p["output_zp"], p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_leaky_relu(imp, node, a):
    imp.emit("leaky_relu", [imp.x(node)], [imp.output(node)], node, alpha=float(a.get("alpha", 0.01)))


def tflite_leaky_relu(imp, k, op):
    imp.emit(k, "leaky_relu", [op.Inputs(0)], [op.Outputs(0)],
             alpha=float(imp.options(op, "LeakyReluOptions").Alpha()))


ONNX = {"LeakyRelu": onnx_leaky_relu}
TFLITE = {"LEAKY_RELU": tflite_leaky_relu}
