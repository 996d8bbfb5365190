"""Helpers shared by the op files: windows over NHWC maps, weight quantization, requantization.

Reference functions take and return arrays shaped (N, *tensor.shape): a batch of N model evaluations.
"""
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError

QRANGE = {"int8": (-128, 127), "int16": (-32768, 32767)}
FLOAT_MAX = float(np.finfo(np.float32).max)  # a float kernel's "no clamp" (C literals must be finite)
ACC64_LIMIT = 1 << 47  # the int64 requantization's input bound (TFLite's 16x8 kernels)


def kernel_params(kernels, dtype):
    """(C function, params type) of an op for its activation type, or a clear error."""
    if dtype not in kernels:
        raise ConversionError(f"no {dtype} kernel (available: {', '.join(sorted(kernels))})")
    return kernels[dtype]


def isa_forms(portable, dsp, mve=None, thumb1=None):
    """The forms of a kernel by instruction set, as (the mcu_nn.h macro that selects it, function), the first
    whose macro holds wins: the generated call site is an #if chain over them (emit.call_lines). A core with
    Helium but no Helium form takes the DSP one (the M55 has both); Thumb-1 cores (M0/M0+/M23) have no DSP."""
    forms = (("MCU_HAS_MVE", mve), ("MCU_HAS_DSP", dsp), ("MCU_HAS_THUMB1", thumb1), (None, portable))
    return [(macro, f) for macro, f in forms if f]


def tflite_unary(op):
    """The TFLITE import handler of an operator of one input and no options: the IR op `op`."""
    def handler(imp, k, operator):
        imp.emit(k, op, [operator.Inputs(0)], [operator.Outputs(0)])
    return handler


def f16_forms(portable):
    """The float16 kernels' forms: the FPU's half conversion where the core has it (MCU_HAS_FP16_CVT), else the
    portable integer widening; the same results (both exact)."""
    return [("MCU_HAS_FP16_CVT", f"{portable}_vcvt"), (None, portable)]


def to_nhwc(x):
    """(N, 1, H, W, C) batch of single-image tensors -> (N, H, W, C)."""
    return x.reshape((-1,) + x.shape[-3:])


def from_nhwc(y):
    return y[:, None]


def conv_output_size(size, kernel, stride, dilation, pad_begin, pad_end):
    return (size + pad_begin + pad_end - dilation * (kernel - 1) - 1) // stride + 1


def window_output_hw(in_hw, attrs):
    """(OH, OW) of a windowed op (conv, depthwise, pools) from its input size and window attributes."""
    (kh, kw), (sh, sw) = attrs["kernel"], attrs["strides"]
    dh, dw = attrs.get("dilations", (1, 1))
    top, left, bottom, right = attrs["pads"]
    return (conv_output_size(in_hw[0], kh, sh, dh, top, bottom), conv_output_size(in_hw[1], kw, sw, dw, left, right))


def same_pads(in_hw, kernel, strides, dilations, smaller_first=True):
    """'SAME' padding as (top, left, bottom, right): the output is ceil(size / stride); the odd pixel goes after
    (TFLite SAME, ONNX SAME_UPPER) or before (ONNX SAME_LOWER)."""
    begin, end = [], []
    for size, k, s, d in zip((int(v) for v in in_hw), kernel, strides, dilations):
        total = max(0, (-(-size // s) - 1) * s + (k - 1) * d + 1 - size)
        small, big = total // 2, total - total // 2
        begin.append(small if smaller_first else big)
        end.append(big if smaller_first else small)
    return begin[0], begin[1], end[0], end[1]


def windows(x, attrs, pad_value):
    """(N, H, W, C) -> (N, OH, OW, KH, KW, C): every tap of every output position, padding filled."""
    kh, kw = attrs["kernel"]
    sh, sw = attrs["strides"]
    dh, dw = attrs.get("dilations", (1, 1))
    top, left, bottom, right = attrs["pads"]
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    oh, ow = attrs.get("out_hw") or window_output_hw(x.shape[1:3], attrs)
    v = np.lib.stride_tricks.sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    v = v[:, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw, :, ::dh, ::dw]  # (N, OH, OW, C, KH, KW)
    return v.transpose(0, 1, 2, 4, 5, 3)


def window_attrs(p):
    """The window geometry of a kernel's params, in the attrs form `windows` takes."""
    kh, kw = p["kernel_h"], p["kernel_w"]
    dh, dw = p.get("dilation_h", 1), p.get("dilation_w", 1)
    bottom = max(0, (p["out_h"] - 1) * p["stride_h"] + (kh - 1) * dh + 1 - p["in_h"] - p["pad_top"])
    right = max(0, (p["out_w"] - 1) * p["stride_w"] + (kw - 1) * dw + 1 - p["in_w"] - p["pad_left"])
    return dict(kernel=(kh, kw), strides=(p["stride_h"], p["stride_w"]), dilations=(dh, dw),
                pads=(p["pad_top"], p["pad_left"], bottom, right), out_hw=(p["out_h"], p["out_w"]))


def window_counts(in_hw, attrs):
    """How many taps of each output window fall inside the input: (OH, OW)."""
    ones = np.ones((1,) + tuple(in_hw) + (1,), dtype=np.int64)
    return windows(ones, attrs, 0).sum(axis=(3, 4, 5))[0]


def lut_s8(x, out, transform):
    """TFLM's int8 lookup table (LUTPopulate, filled in its Prepare) in float32 as it computes it: each input value
    dequantized (input_scale * (q - zp)), transformed (transform: float32 array -> float32 array), times
    1 / output_scale, rounded half away from zero, plus the output zero point, clamped. Indexed by the byte."""
    values = np.arange(-128, 128)
    dequantized = np.float32(x.scale) * (values - x.zero_point).astype(np.float32)
    rescaled = fp.round_half_away(transform(dequantized) * (np.float32(1) / np.float32(out.scale)))
    quantized = (rescaled.astype(np.float32) + np.float32(out.zero_point)).astype(np.int64)
    return table_by_byte(np.clip(quantized, -128, 127))


def table_by_byte(outputs):
    """The 256 outputs of the int8 inputs -128..127 as a table indexed by the input's byte (mcu_lut_s8)."""
    table = np.zeros(256, np.int8)
    table[np.arange(-128, 128) & 0xFF] = outputs
    return table


def lut_ref(p, x):
    """The twin of mcu_lut_s8."""
    return p["table"][x.astype(np.int64) & 0xFF].astype(np.int64)


def float_clamp(y, attrs):
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    return np.clip(y, lo, hi).astype(np.float32)


def act_range(attrs, out):
    """The fused activation's clamp in out's quantized domain (TFLite CalculateActivationRangeQuantized), or in
    float (finite bounds) for a float32 output."""
    lo, hi = attrs.get("act") or (-np.inf, np.inf)
    if out.dtype == "float32":
        return np.float32(max(lo, -FLOAT_MAX)), np.float32(min(hi, FLOAT_MAX))
    qmin, qmax = QRANGE[out.dtype]

    def q(v):
        return out.zero_point + int(fp.round_half_away(np.float32(v) / np.float32(out.scale)))
    act_min = qmin if lo == -np.inf else max(qmin, q(lo))
    act_max = qmax if hi == np.inf else min(qmax, q(hi))
    return act_min, act_max


def window_params(attrs, x, out):
    """The geometry fields shared by the conv, depthwise and pool structs."""
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = out.shape
    return dict(in_h=in_h, in_w=in_w, out_h=out_h, out_w=out_w,
                kernel_h=attrs["kernel"][0], kernel_w=attrs["kernel"][1],
                stride_h=attrs["strides"][0], stride_w=attrs["strides"][1],
                pad_top=attrs["pads"][0], pad_left=attrs["pads"][1])


def float_array(v):
    return np.ascontiguousarray(v, dtype=np.float32)


def quantize_weights_and_bias(attrs, axis, input_scale, wide=False):
    """Weights: symmetric int8 in [-127, 127], zero point 0, one float32 scale per slice along `axis`.
    Bias: int32 (int64 when wide: 16x8) at input_scale * weight_scale[c] (the accumulator's scale).
    Weights that are already int8 (a TFLite model: attrs carry "weight_scales") are taken as they are.

    A channel whose weights are all but zero (seen in real models: a BatchNorm with gamma ~ 1e-30 folded in)
    would need a bias beyond int32; as TFLite does, its weight scale is raised until the bias fits in 2^30."""
    if "weight_scales" in attrs:
        if attrs["bias"].size != attrs["weight"].shape[axis]:
            raise ConversionError(f"{attrs['bias'].size} bias values for {attrs['weight'].shape[axis]} output channels")
        return attrs["weight"].astype(np.int8), attrs["bias"].astype(np.int64 if wide else np.int32), attrs["weight_scales"]
    w = np.asarray(attrs["weight"], dtype=np.float64)
    bias = np.asarray(attrs["bias"], dtype=np.float64)
    in_scale = float(np.float32(input_scale))
    bias_limit = 1 << (40 if wide else 30)
    scales = np.maximum(_max_abs(attrs, axis) / 127.0, np.abs(bias) / (in_scale * bias_limit))
    q, scales = _symmetric_int8(w, axis, scales)
    bias_q = fp.round_half_away(bias / (in_scale * scales.astype(np.float64)))
    if wide:
        return q.astype(np.int8), np.clip(bias_q, -bias_limit, bias_limit).astype(np.int64), scales
    return q.astype(np.int8), fp.saturate_int32(bias_q).astype(np.int32), scales


def _max_abs(attrs, axis):
    """Per slice along axis, max |w| (or the MSE search's per-channel limit, attrs["weight_clip"], below it)."""
    w = np.asarray(attrs["weight"], dtype=np.float64)
    other = tuple(i for i in range(w.ndim) if i != axis)
    max_abs = np.abs(w).max(axis=other) if w.size else np.zeros(w.shape[axis])
    clip = attrs.get("weight_clip")
    return max_abs if clip is None else np.minimum(max_abs, clip)


def _symmetric_int8(w, axis, scales):
    """w / scale rounded half away, in [-127, 127]; a zero scale (an all-zero slice) becomes 1."""
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    return np.clip(fp.round_half_away(w / scales.astype(np.float64).reshape(shape)), -127, 127), scales


def symmetric_weights(attrs, axis):
    """Dynamic range mode: per-slice symmetric int8 weights (scale max |w| / 127, no bias to fit: it stays
    float) as (int8 weights, float32 scales); a dynamic range .tflite file's own int8 weights as they are."""
    if "weight_scales" in attrs:
        return attrs["weight"].astype(np.int8), np.asarray(attrs["weight_scales"], np.float32)
    q, scales = _symmetric_int8(np.asarray(attrs["weight"], np.float64), axis, _max_abs(attrs, axis) / 127.0)
    return q.astype(np.int8), scales


def float_weights(attrs, key):
    """The float kernels' weight fields: {key: float32 array, key_f16: 0} for the float32 mode, or for the
    float16 mode (attrs["compute"] == "float16", weights already rounded to half by quantize) {key: 0,
    key_f16: the IEEE half bit patterns}; the _f16 kernels widen them exactly."""
    if attrs.get("compute") == "float16":
        half = np.asarray(attrs["weight"], np.float32).astype(np.float16)
        return {key: 0, f"{key}_f16": np.ascontiguousarray(half).view(np.uint16)}
    return {key: float_array(attrs["weight"]), f"{key}_f16": 0}


def hybrid_params(w_q, scales, attrs):
    """The fields every hybrid kernel shares besides its geometry: int8 weights, their scales, the float bias;
    their int32 accumulator holds taps * 127 * 255 (|q - zp| <= 255)."""
    check_accumulator(int(np.prod(w_q.shape)) // len(scales), 0)
    return dict(weight_scales=np.ascontiguousarray(scales, np.float32), bias=float_array(attrs["bias"]))


def check_accumulator(taps, bias, wide=False, folded=False):
    """Every accumulator stays in range: taps * |x - zp| * |w| (<= 128 for a file's own int8 weights) + |bias|,
    |x - zp| <= 255 for int8 (|x| <= 128 once the zero point is folded into the bias) and <= 32768 for int16
    (whose int64 sum must stay below 2^47 for its requantization). Raises ConversionError where it could
    overflow."""
    x_max = 32768 if wide else 128 if folded else 255
    worst = int(taps) * x_max * 128 + int(np.abs(np.asarray(bias, np.int64)).max(initial=0))
    limit = ACC64_LIMIT - 1 if wide else fp.INT32_MAX
    if worst > limit:
        kind = "int64 (2^47)" if wide else "int32"
        raise ConversionError(f"a kernel of {taps} taps could overflow its {kind} accumulator (worst case {worst})")


def fold_input_zero_point(w_q, bias, zero_point):
    """bias[c] - zero_point * sum(w_q[c]): sum (x - zp) * w = sum x * w - zp * sum w, exact when every tap reads
    the input (no padding: TFLM skips padded taps, which would otherwise add -zp * w). The kernels then
    multiply raw inputs (CMSIS-NN's "kernel sums", computed here once instead of at start-up)."""
    sums = w_q.reshape(len(w_q), -1).astype(np.int64).sum(axis=1)
    return np.asarray(bias, np.int64) - int(zero_point) * sums


def accumulator_bounds(w_q, bias, input_zp):
    """Per output channel the least and greatest accumulator the layer can make: bias[c] + sum w * (x - input_zp)
    for any int8 x (a padded tap adds 0, inside that range)."""
    w = w_q.reshape(len(w_q), -1).astype(np.int64)
    lo, hi = -128 - int(input_zp), 127 - int(input_zp)
    pos, neg = np.maximum(w, 0).sum(axis=1), np.minimum(w, 0).sum(axis=1)
    bias = np.asarray(bias, np.int64)
    return bias + pos * lo + neg * hi, bias + pos * hi + neg * lo


def with_round_constants(p):
    """p with out_round (fixedpoint.requant_round_constants) where the kernels' short requantization is proven
    exact for the layer; without, they take the exact form. A channel of one result over its bound (dead
    channels: zero weights or a vanishing scale) first takes a multiplier, shift and bias of the same results
    in the short form's reach (fixedpoint.requant_constant_result), so a model's outputs do not change (nor
    TFLM parity); its result is held to [-256, 255] around nothing the int8 clamp could tell."""
    weights = p["filter"] if "filter" in p else p["weights"]
    mult, shift, bias = p["out_mult"].copy(), p["out_shift"].copy(), p["bias"].copy()
    acc_min, acc_max = accumulator_bounds(weights, bias, p["input_zp"])
    zp = int(p["output_zp"])
    for c in range(len(mult)):
        r = fp.requant_constant_result(mult[c], shift[c], acc_min[c], acc_max[c])
        if r is not None and acc_min[c] == acc_max[c]:  # a constant accumulator: zero weights
            r = min(max(r + zp, -256), 255) - zp
            mult[c], shift[c], bias[c] = 1 << 30, -1, 4 * r
            acc_min[c] = acc_max[c] = 4 * r
        elif r == 0:
            mult[c], shift[c] = 0, -1
    rounding = fp.requant_round_constants(mult, shift, zp, acc_min, acc_max)
    if rounding is None:
        return p
    q = dict(p, out_mult=mult, out_shift=shift, bias=bias, out_round=rounding.reshape(-1))
    if "interior_bias" in p:  # the bias with the zero point folded: a rewritten channel has zero weights
        q["interior_bias"] = np.where(bias != p["bias"], bias, p["interior_bias"]).astype(np.int32)
    return q


def check_shifts(shifts):
    """Requantization shifts within what the kernels compute without overflow or undefined shifts."""
    shifts = np.asarray(shifts)
    if shifts.size and (shifts.max() > 30 or shifts.min() < -31):
        raise ConversionError(f"a requantization scale needs a shift of {int(shifts.max())} (scales out of range)")


def output_multipliers(input_scale, weight_scales, output_scale, wide=False):
    """Per channel (multiplier, shift) of input_scale * weight_scale[c] / output_scale, in double as TFLM."""
    pairs = [fp.quantize_multiplier(float(np.float32(input_scale)) * float(ws) / float(np.float32(output_scale)))
             for ws in weight_scales]
    shifts = np.array([s for _, s in pairs], dtype=np.int32)
    check_shifts(shifts)
    return np.array([m for m, _ in pairs], dtype=np.int32), shifts


def requantize(acc, params):
    """Accumulators -> outputs with per-channel multipliers along the last axis: int32 accumulators (int8
    kernels) by double rounding, int64 ones (16x8 kernels: their bias is int64) by TFLite's 64-bit path.
    Returns int64 values inside [act_min, act_max]; the caller's tensor type holds them."""
    mult, shift = params["out_mult"].astype(np.int64), params["out_shift"].astype(np.int64)
    if params["bias"].dtype == np.int64:
        y = fp.multiply_by_quantized_multiplier_s64(acc, mult, shift)
    else:
        y = fp.multiply_by_quantized_multiplier(acc, mult, shift) + params["output_zp"]
    return np.clip(y, params["act_min"], params["act_max"])



def row_overlap_limit(p, x, out, channels_in, channels_out):
    """How far above a dying input a windowed op's output may start (planner overlap, in bytes): kernels write
    output row by row, and while writing row oy they read input rows from max(0, oy * stride - pad_top) on,
    so the output row must end below that input row. The minimum over rows is the limit (negative: below)."""
    in_row, out_row = p["in_w"] * channels_in * x.itemsize, p["out_w"] * channels_out * out.itemsize
    return min(max(0, oy * p["stride_h"] - p["pad_top"]) * in_row - (oy + 1) * out_row for oy in range(p["out_h"]))


def elementwise_overlap_limit(x, out):
    """An element-wise kernel writes element i after reading element i: in place is safe when elements do not
    grow; a wider output must start below the input by the growth of the whole tensor."""
    grow = out.itemsize - x.itemsize
    return -grow * out.size if grow > 0 else 0


MAX_DIMS = 6  # the rank of the index arrays in the strided kernels' params (mcu_nn.h MCU_MAX_DIMS)


def merged_dims(dims, strides):
    """(dims, strides) of an index space with size-1 axes dropped and adjacent axes merged where the outer one's
    stride is the inner one's stride times its size: the fewest loops that visit the same offsets in order."""
    out_d, out_s = [], []
    for d, s in zip(dims, strides):
        if d == 1:
            continue
        if out_d and out_s[-1] == s * d:
            out_d[-1], out_s[-1] = out_d[-1] * d, s
        else:
            out_d.append(d)
            out_s.append(s)
    return out_d, out_s


def strided_fields(prefix, dims, strides):
    """{prefix_rank, prefix_dims, prefix_strides} for a kernel that maps a row-major index over `dims` to the
    offset sum(i_d * strides_d) (mcu_strided_walk_t), merged and padded to MAX_DIMS."""
    d, s = merged_dims(dims, strides)
    if len(d) > MAX_DIMS:
        raise ConversionError(f"an index space of rank {len(d)} (more than {MAX_DIMS}) is not supported")
    pad = MAX_DIMS - len(d)
    return {f"{prefix}_rank": len(d), f"{prefix}_dims": d + [1] * pad, f"{prefix}_strides": s + [0] * pad}


def row_major_strides(shape):
    strides, step = [], 1
    for d in reversed(shape):
        strides.insert(0, step)
        step *= d
    return strides


def strided_offsets(dims, strides, n):
    """The offset of each of the row-major indices 0..n-1 over dims, with the given strides (what the C kernels'
    mcu_strided_walk_t visits, in order)."""
    index, offset = np.arange(n), np.zeros(n, np.int64)
    for d, s in reversed(list(zip(dims, strides))):
        offset += (index % d) * s
        index //= d
    return offset


def broadcast_shape(a, b):
    """NumPy's (and TFLite's, ONNX's) broadcast of two shapes, or a ConversionError."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ConversionError(f"shapes {list(a)} and {list(b)} do not broadcast") from None


def broadcast_fields(a, b, out):
    """The broadcast geometry of a binary element-wise kernel: {rank, dims, input1_strides, input2_strides}
    (merged, MAX_DIMS at most; a broadcast axis has stride 0), or rank 0 when both inputs have the output's
    shape (the kernel then reads element i of each)."""
    zeros = [0] * MAX_DIMS
    if tuple(a) == tuple(b) == tuple(out):
        return dict(rank=0, dims=zeros, input1_strides=zeros, input2_strides=zeros)
    rank = len(out)

    def strides(shape):
        shape = (1,) * (rank - len(shape)) + tuple(shape)
        return [0 if d == 1 else s for d, s in zip(shape, row_major_strides(shape))]
    dims, s1, s2 = [], [], []
    for d, x, y in zip(out, strides(a), strides(b)):
        if d == 1:
            continue
        if dims and s1[-1] == x * d and s2[-1] == y * d:  # merges with the axis before it
            dims[-1], s1[-1], s2[-1] = dims[-1] * d, x, y
        else:
            dims.append(d)
            s1.append(x)
            s2.append(y)
    if len(dims) > MAX_DIMS:
        raise ConversionError(f"a broadcast over {len(dims)} axes (more than {MAX_DIMS}) is not supported")
    if not dims:
        dims, s1, s2 = [1], [0], [0]
    pad = MAX_DIMS - len(dims)
    return dict(rank=len(dims), dims=dims + [1] * pad, input1_strides=s1 + [0] * pad, input2_strides=s2 + [0] * pad)


def aligned_pair(a, b):
    """Two reference inputs (N, *shape) of different ranks aligned on their trailing axes, as NumPy broadcasting
    of single tensors does (the twins broadcast with NumPy, independently of the kernels' stride tables)."""
    rank = max(a.ndim, b.ndim)
    return tuple(x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in (a, b))


def broadcast_overlap_limit(x, out):
    """A binary element-wise kernel may write over an input of the output's size (element i is written after
    it is read), never over a broadcast one (its elements are read again later)."""
    return 0 if x.size == out.size else None
