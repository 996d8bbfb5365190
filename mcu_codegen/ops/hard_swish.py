"""Hard swish, x * relu6(x + 3) / 6 (TFLite HARD_SWISH, ONNX HardSwish, and ONNX x * HardSigmoid(x) with
alpha 1/6, beta 1/2, which passes.py fuses), element-wise, with TFLite's int8 fixed-point form exactly (TFLM has
no int16 kernel): x - input_zp at 2^7 times the input scale; its value on the output scale (a 16-bit
multiplier) times a "relu-ish" factor in [0, 1] (x rescaled so that 3 is 2^15, saturated, mapped to [0, 1]),
both in gemmlowp's int16 arithmetic; then the output shift and zero point. Or float."""
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_hard_swish_s8", "mcu_hard_swish_params_t"),
           "float32": ("mcu_hard_swish_f32", "mcu_unary_f32_params_t")}
output_shape, macs, overlap_limit = relu.output_shape, relu.macs, relu.overlap_limit  # element-wise


def float_ref(attrs, x):
    x = np.asarray(x, np.float32)
    relu6 = np.clip(x + np.float32(3), np.float32(0), np.float32(6))
    return (x * relu6 / np.float32(6)).astype(np.float32)


def prepare(attrs, ins, out):
    """TFLM's Prepare, in float32 as it computes: the 16-bit multipliers and exponents of hires_input_scale /
    output_scale and of hires_input_scale / (3 / 2^15), hires_input_scale = input_scale / 128."""
    if out.dtype == "float32":
        return dict(size=out.size)
    hires = np.float32(1.0 / 128.0) * np.float32(ins[0].scale)
    out_mult, out_shift = fp.quantize_multiplier(float(hires / np.float32(out.scale)))
    reluish_mult, reluish_shift = fp.quantize_multiplier(float(hires / (np.float32(3.0) / np.float32(32768.0))))
    if not -15 <= out_shift <= 0 or not -15 <= reluish_shift <= 16:
        raise ConversionError(f"input scale {float(ins[0].scale)} and output scale {float(out.scale)} are out of the "
                              "range of TFLite's int8 hard-swish arithmetic")
    return dict(size=out.size, input_zp=ins[0].zero_point, output_zp=out.zero_point,
                output_mult=fp.downscale_multiplier_s16(out_mult), output_shift=out_shift,
                reluish_mult=fp.downscale_multiplier_s16(reluish_mult), reluish_shift=reluish_shift)


def int_ref(p, x):
    hires = (x.astype(np.int64) - p["input_zp"]) * 128
    preshift_out = fp.sat_rounding_doubling_high_mul_s16(hires, p["output_mult"])
    shift, reluish = p["reluish_shift"], hires
    if shift > 0:
        reluish = fp.saturating_left_shift_s16(reluish, shift - 1)
    reluish = fp.sat_rounding_doubling_high_mul_s16(reluish, p["reluish_mult"])
    if shift > 0:
        reluish = fp.saturating_left_shift_s16(reluish, 1)
    if shift < 0:
        reluish = fp.rounding_divide_by_pot(reluish, -shift)
    reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] -> [0, 1]
    y = fp.rounding_divide_by_pot(fp.saturating_doubling_high_mul_s16(reluish, preshift_out), -p["output_shift"])
    return np.clip(y + p["output_zp"], -128, 127)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_hard_swish(imp, node, a):
    imp.emit("hard_swish", [imp.x(node)], [imp.output(node)], node)


def onnx_hard_sigmoid(imp, node, a):
    """max(0, min(1, alpha * x + beta)): a hard_sigmoid node that passes.py fuses with a Mul by x into a
    hard_swish (alpha 1/6, beta 1/2: PyTorch's Hardswish before opset 14), or else lowers to scale, shift, clamp."""
    imp.emit("hard_sigmoid", [imp.x(node)], [imp.output(node)], node, alpha=float(a.get("alpha", 0.2)),
             beta=float(a.get("beta", 0.5)))


ONNX = {"HardSwish": onnx_hard_swish, "HardSigmoid": onnx_hard_sigmoid}
TFLITE = {"HARD_SWISH": c.tflite_unary("hard_swish")}
