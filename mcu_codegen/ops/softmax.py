"""Softmax over the last axis with TFLite's int8 arithmetic (output scale 1/256, zero point -128), its int16
arithmetic (interpolated tables; output scale 1/32768, zero point 0), or in float."""
import math

import numpy as np

from .. import fixedpoint as fp
from .. import stable
from ..ir import ConversionError

KERNELS = {"int8": ("mcu_softmax_s8", "mcu_softmax_params_t"),
           "int16": ("mcu_softmax_s16", "mcu_softmax_s16_params_t"),
           "float32": ("mcu_softmax_f32", "mcu_softmax_f32_params_t")}
OUTPUT_QUANT = {"int8": (1.0 / 256.0, -128), "int16": (1.0 / 32768.0, 0)}
EXP_INPUT_RANGE = 10.0    # int16: differences beyond -10 give exp = 0 (their share of the sum is < 2^-14)
DIFF_INTEGER_BITS = 5     # integer bits of the scaled input differences (TFLite kScaledDiffIntegerBits)
ACCUM_INTEGER_BITS = 12   # integer bits of the sum of exponentials


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    z = (x.astype(np.float64) - x.max(axis=-1, keepdims=True)) * attrs.get("beta", 1.0)
    e = stable.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def prepare(attrs, ins, out):
    x = ins[0]
    if x.dtype == "float32":
        return dict(rows=x.size // x.shape[-1], depth=x.shape[-1], beta=np.float32(attrs.get("beta", 1.0)))
    if x.dtype == "int16":
        return _prepare_s16(attrs, x)
    # TFLite PreprocessSoftmaxScaling: beta * input_scale as a multiplier >= 1 on the 2^-26 grid
    real = min(attrs.get("beta", 1.0) * float(np.float32(x.scale)) * (1 << (31 - DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    mult, left_shift = fp.quantize_multiplier(real)
    depth = x.shape[-1]
    # the reciprocal's shift is (log2 of the sum of exps) + 23, at most depth: below 32 only for depth < 512
    if depth >= 512:
        raise ConversionError(f"softmax over {depth} values (at most 511: TFLite's int8 arithmetic shifts past 31 bits)")
    if left_shift < 0:
        raise ConversionError(f"softmax input scale {float(x.scale):.3g} is too small for TFLite's int8 softmax")
    # TFLite CalculateInputRadius: the largest difference whose exp is still representable
    radius = math.floor(((1 << DIFF_INTEGER_BITS) - 1) * (1 << (31 - DIFF_INTEGER_BITS)) / (1 << left_shift))
    return dict(rows=x.size // x.shape[-1], depth=x.shape[-1], input_mult=mult, input_left_shift=left_shift,
                diff_min=-radius)


def _prepare_s16(attrs, x):
    """TFLite's int16 softmax: differences scaled onto [-65535, 0] = [-10, 0], exp and 1 / (1 + x) tables."""
    if x.shape[-1] >= 65536:
        raise ConversionError(f"softmax over {x.shape[-1]} values (the int16 sum of exponentials holds 65535)")
    real = attrs.get("beta", 1.0) * float(np.float32(x.scale)) / (EXP_INPUT_RANGE / 65535.0)
    mult, shift = fp.quantize_multiplier(real)
    if shift > 30:
        raise ConversionError(f"softmax input scale {float(x.scale):.3g} is too large for TFLite's int16 softmax")
    return dict(rows=x.size // x.shape[-1], depth=x.shape[-1], input_mult=mult, input_left_shift=shift,
                exp_lut=fp.lut_int16(fp.exp_f32, -EXP_INPUT_RANGE, 0.0, -1.0, 1.0),
                recip_lut=fp.lut_int16(fp.one_over_one_plus_x_f32, 0.0, 1.0, -1.0, 1.0))


def overlap_limit(p, index, x, out):
    return 0  # a row is written after the whole row is read, rows in order


def int_ref(p, x):
    if "exp_lut" in p:
        return _int_ref_s16(p, x)
    x = x.astype(np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    valid = diff >= p["diff_min"]
    scaled = fp.sat_rounding_doubling_high_mul(fp.saturating_left_shift(diff, p["input_left_shift"]), p["input_mult"])
    exps = fp.exp_on_negative_values(scaled, DIFF_INTEGER_BITS)
    sum_of_exps = np.where(valid, fp.rounding_divide_by_pot(exps, ACCUM_INTEGER_BITS), 0).sum(axis=-1, keepdims=True)
    sum_of_exps = fp.saturate_int32(sum_of_exps)
    headroom_plus_one = fp.count_leading_zeros_u32(sum_of_exps)
    num_bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one
    shifted = ((sum_of_exps << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    shifted_scale = fp.one_over_one_plus_x_for_x_in_0_1(shifted)
    y = fp.rounding_divide_by_pot(fp.sat_rounding_doubling_high_mul(shifted_scale, exps), num_bits_over_unit + 31 - 8)
    return np.where(valid, np.clip(y - 128, -128, 127), -128)


def _exp_s16(p, diff):
    scaled = fp.multiply_by_quantized_multiplier(diff, p["input_mult"], p["input_left_shift"])
    return fp.lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), p["exp_lut"])


def _int_ref_s16(p, x):
    x = x.astype(np.int64)
    exps = _exp_s16(p, x - x.max(axis=-1, keepdims=True))
    sum_of_exps = exps.sum(axis=-1, keepdims=True)
    headroom_plus_one = fp.count_leading_zeros_u32(sum_of_exps)
    shifted_sum = ((sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    reciprocal = fp.lut_lookup_int16(np.clip(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767), p["recip_lut"])
    right_shift = 31 - headroom_plus_one
    return np.clip((exps * reciprocal + (np.int64(1) << (right_shift - 1))) >> right_shift, 0, 32767)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_softmax(imp, node, a):
    x = imp.x(node)
    shape = imp.graph.tensors[x].shape
    axis = a.get("axis", -1 if imp.opset() >= 13 else 1)
    axis = axis + len(shape) if axis < 0 else axis
    # before opset 13 Softmax flattens the axes from `axis` on: the same as the last axis when they are 1s
    if any(d != 1 for d in shape[axis + 1:]):
        imp.fail(node, f"softmax over axis {axis} of shape {shape} (not the last axis) is not supported")
    if axis != len(shape) - 1:
        # move the softmax axis last through an alias, softmax, and alias back
        flat = imp.new(shape[:axis + 1], node.output[0])
        imp.emit("reshape", [x], [flat], node, shape=shape[:axis + 1])
        y = imp.new(shape[:axis + 1], node.output[0])
        imp.emit("softmax", [flat], [y], node)
        imp.emit("reshape", [y], [imp.output(node)], node, shape=shape)
        return
    imp.emit("softmax", [x], [imp.output(node)], node)


def tflite_softmax(imp, k, op):
    imp.emit(k, "softmax", [op.Inputs(0)], [op.Outputs(0)], beta=float(imp.options(op, "SoftmaxOptions").Beta()))


ONNX = {"Softmax": onnx_softmax}
TFLITE = {"SOFTMAX": tflite_softmax}
