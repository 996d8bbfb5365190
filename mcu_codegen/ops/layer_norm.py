"""Layer normalization over the last axis (ONNX LayerNormalization of opset 17; the decompositions of torch before
opset 17 and of tf2onnx's Keras LayerNormalization, fused into one node by onnx_passes.fuse): y = (x - mean) /
sqrt(var + epsilon) * gamma + beta. Our own int8 arithmetic (TFLite has no such operator), per row of D values:
S = sum (q - zp), t_i = D (q_i - zp) - S (exact), W = sum t_i^2 + E with E = D^3 epsilon / input_scale^2 (int64,
exact but for E's rounding), 1 / sqrt(W) in fixed point (W scaled by 4^e into [2^27, 2^29), gemmlowp's Newton
steps: fixedpoint.inv_sqrt_newton), n_i = t_i / sqrt(W) with 24 fractional bits, then one requantization per
channel: (n_i gq_c + bq_c) / 2^(24 + qg) rounded, plus the output zero point, where gq_c = gamma_c sqrt(D) /
output_scale and bq_c = beta_c / output_scale on 2^qg and 2^(24 + qg). One rounding of the result instead of the
eight of a chain of int8 operators. int16 (16x8, zero points 0): the same arithmetic on int16 values (int64
sums). Or float."""
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c
from . import relu

KERNELS = {"int8": ("mcu_layer_norm_s8", "mcu_layer_norm_params_t"),
           "int16": ("mcu_layer_norm_s16", "mcu_layer_norm_params_t"),
           "float32": ("mcu_layer_norm_f32", "mcu_layer_norm_f32_params_t")}
output_shape, macs = relu.output_shape, relu.macs
N_BITS = 24  # fractional bits of the normalized value t / sqrt(W), |t / sqrt(W)| <= 1
NORM_LO, NORM_HI = 1 << 27, 1 << 29  # the range inv_sqrt_newton takes


def float_ref(attrs, x):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + attrs["epsilon"]) * attrs["gamma"].astype(np.float64) + attrs["beta"]
    return y.astype(np.float32)


def prepare(attrs, ins, out):
    x = ins[0]
    depth = x.shape[-1]
    gamma, beta = (np.asarray(attrs[k], np.float64).reshape(-1) for k in ("gamma", "beta"))
    if gamma.size != depth or beta.size != depth:
        raise ConversionError(f"gamma and beta of {gamma.size} and {beta.size} values for rows of {depth}")
    p = dict(rows=x.size // depth, depth=depth)
    if x.dtype == "float32":
        return dict(p, epsilon=np.float32(attrs["epsilon"]), gamma=c.float_array(gamma), beta=c.float_array(beta))
    q_min, q_max = c.QRANGE[out.dtype]
    if depth ** 3 * (q_max - q_min) ** 2 > 1 << 62 or depth * (q_max - q_min + 1) > fp.INT32_MAX:
        raise ConversionError(f"a layer norm over {depth} values could overflow its integer sums")
    s_x, s_y = float(np.float32(x.scale)), float(np.float32(out.scale))
    g = gamma * np.sqrt(depth) / s_y
    qg = int(np.clip(30 - np.ceil(np.log2(max(np.abs(g).max(), 1e-30))), 0, 30))
    return dict(p, input_zp=x.zero_point, output_zp=out.zero_point, q_min=q_min, q_max=q_max,
                eps=int(min(fp.round_half_away(attrs["epsilon"] / (s_x * s_x) * depth ** 3), 1 << 60)),
                out_shift=N_BITS + qg, gamma_q=fp.saturate_int32(fp.round_half_away(g * 2.0 ** qg)).astype(np.int32),
                beta_q=np.clip(fp.round_half_away(beta / s_y * 2.0 ** (N_BITS + qg)), -(1 << 60), 1 << 60).astype(np.int64))


def normalize(w):
    """(m, e) with m = W / 4^e (a truncating right shift, or an exact left one) in [2^27, 2^29), for W > 0."""
    w = np.asarray(w, np.int64)
    e = np.zeros_like(w)
    m = w.copy()
    for _ in range(32):
        big, small = m >= NORM_HI, (m < NORM_LO) & (m > 0)
        m = np.where(big, m >> 2, np.where(small, m << 2, m))
        e = e + big - small
    return m, e


def int_ref(p, x):
    q = x.reshape(len(x), -1, p["depth"]).astype(np.int64) - p["input_zp"]
    t = p["depth"] * q - q.sum(axis=-1, keepdims=True)
    w = (t * t).sum(axis=-1, keepdims=True) + p["eps"]
    m, e = normalize(np.maximum(w, 1))
    inv = fp.inv_sqrt_newton(m)  # 2^42 / sqrt(m): 1 / sqrt(W) = inv 2^(-42 - e)
    n = fp.rounding_shift_s64(t * inv, N_BITS - 42 - e)
    acc = n * p["gamma_q"].astype(np.int64) + p["beta_q"]
    y = fp.rounding_shift_s64(acc, -p["out_shift"]) + p["output_zp"]
    return np.clip(y, p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_layer_norm(imp, node, a):
    x = imp.x(node)
    shape = imp.graph.tensors[x].shape
    if not -len(shape) <= a.get("axis", -1) < len(shape):
        imp.fail(node, f"axis {a.get('axis')} is out of range for a tensor of rank {len(shape)}")
    if a.get("axis", -1) % len(shape) != len(shape) - 1:
        imp.fail(node, f"axis {a.get('axis')}: only a normalization over the last axis is supported")
    if len(node.output) > 1 and any(node.output[1:]):
        imp.fail(node, "the mean and inverse standard deviation outputs are not supported")
    gamma = imp.const(node, node.input[1], "Scale").astype(np.float32)
    beta = imp.const(node, node.input[2], "B").astype(np.float32) if len(node.input) > 2 and node.input[2] else \
        np.zeros(shape[-1], np.float32)
    if gamma.size not in (1, shape[-1]) or beta.size not in (1, shape[-1]):
        imp.fail(node, "Scale and B must have one value per element of the last axis")
    imp.emit("layer_norm", [x], [imp.output(node)], node, epsilon=float(a.get("epsilon", 1e-5)),
             gamma=np.broadcast_to(gamma.reshape(-1), shape[-1:]).copy(),
             beta=np.broadcast_to(beta.reshape(-1), shape[-1:]).copy())


ONNX = {"LayerNormalization": onnx_layer_norm}
