"""Parametric ReLU with a constant slope (TFLite PRELU, ONNX PRelu): x >= 0 ? x : alpha * x, alpha broadcast
against x as add / mul broadcast their second input (_common.broadcast_fields; alpha is a const array in flash,
not an arena tensor). TFLM's int8 arithmetic: alpha is int8 with its own scale and zero point (a calibrated
model's: asymmetric over its range); x - input_zp >= 0 is requantized by input_scale / output_scale, below
zero (x - input_zp) * (alpha - alpha_zp) by input_scale * alpha_scale / output_scale; plus output_zp, clamped.
TFLM has no int16 PRELU. Or float."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c

KERNELS = {"int8": ("mcu_prelu_s8", "mcu_prelu_params_t"), "float32": ("mcu_prelu_f32", "mcu_prelu_f32_params_t")}


def output_shape(attrs, in_shapes):
    return c.broadcast_shape(in_shapes[0], np.shape(attrs["alpha"]))


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape))


def float_ref(attrs, x):
    x, alpha = c.aligned_pair(np.asarray(x, np.float32), np.asarray(attrs["alpha"], np.float32)[None])
    return np.where(x >= 0, x, x * alpha).astype(np.float32)


def quantized_alpha(attrs):
    """(int8 alpha, its scale, its zero point): a file's own, or alpha quantized over its range (0 included)."""
    if "alpha_scale" in attrs:
        return attrs["alpha_q"].astype(np.int8), attrs["alpha_scale"], attrs["alpha_zp"]
    from ..quantize import choose_qparams
    alpha = np.asarray(attrs["alpha"], np.float64)
    scale, zp = choose_qparams(float(alpha.min()), float(alpha.max()))
    q = np.clip(fp.round_half_away(alpha / float(scale)) + zp, -128, 127)
    return q.astype(np.int8), scale, zp


def prepare(attrs, ins, out):
    x = ins[0]
    alpha = np.asarray(attrs["alpha"])
    geometry = c.broadcast_fields(x.shape, alpha.shape, out.shape)
    if out.dtype == "float32":
        return dict(size=out.size, alpha=c.float_array(alpha.reshape(-1)), **geometry)
    alpha_q, alpha_scale, alpha_zp = quantized_alpha(attrs)
    s_in, s_out = float(np.float32(x.scale)), float(np.float32(out.scale))
    identity_mult, identity_shift = fp.quantize_multiplier(s_in / s_out)
    alpha_mult, alpha_shift = fp.quantize_multiplier(s_in * float(np.float32(alpha_scale)) / s_out)
    c.check_shifts([identity_shift, alpha_shift])
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(size=out.size, input_zp=x.zero_point, alpha_zp=int(alpha_zp), output_zp=out.zero_point,
                identity_mult=identity_mult, identity_shift=identity_shift, alpha_mult=alpha_mult,
                alpha_shift=alpha_shift, q_min=q_min, q_max=q_max, alpha=np.ascontiguousarray(alpha_q.reshape(-1)),
                **geometry)


def overlap_limit(p, index, x, out):
    return c.broadcast_overlap_limit(x, out)


def int_ref(p, x):
    rank = p["rank"]
    alpha = p["alpha"].astype(np.int64) - p["alpha_zp"]
    if rank:  # alpha at each output element's offset, as the kernel walks it
        alpha = alpha[c.strided_offsets(p["dims"][:rank], p["input2_strides"][:rank], p["size"])]
        x = x.reshape(x.shape[0], -1)[:, c.strided_offsets(p["dims"][:rank], p["input1_strides"][:rank], p["size"])]
    d = x.reshape(x.shape[0], -1).astype(np.int64) - p["input_zp"]
    mbqm = fp.multiply_by_quantized_multiplier
    y = np.where(d >= 0, mbqm(d, p["identity_mult"], p["identity_shift"]),
                 mbqm(d * alpha[None], p["alpha_mult"], p["alpha_shift"]))
    return np.clip(y + p["output_zp"], p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_prelu(imp, node, a):
    slope = imp.const(node, node.input[1], "the slope").astype(np.float32)
    x = imp.x(node)
    shape = tuple(imp.graph.tensors[x].shape)
    fits = len(slope.shape) <= len(shape) and all(s in (1, d) for s, d in zip(slope.shape[::-1], shape[::-1]))
    if not fits:  # a slope that does not broadcast to the input: the kernel would read past its array
        imp.fail(node, f"a slope of shape {list(slope.shape)} does not broadcast to the input's {list(shape)}")
    imp.emit("prelu", [x], [imp.output(node)], node, alpha=slope)


def tflite_prelu(imp, k, op):
    alpha = imp.const(op.Inputs(1))
    scales, zps = imp.quant(op.Inputs(1))
    if alpha is None or alpha.dtype != np.int8 or scales is None or scales.size != 1:
        imp.fail(k, "alpha must be a constant int8 tensor with one scale")
    imp.emit(k, "prelu", [op.Inputs(0)], [op.Outputs(0)], alpha=alpha, alpha_q=alpha, alpha_scale=scales[0],
             alpha_zp=int(zps[0]))


ONNX = {"PRelu": onnx_prelu}
TFLITE = {"PRELU": tflite_prelu}
