"""Regular 2-D convolution, NHWC input, OHWI filter, per-output-channel int8 weights (int8 and 16x8), or float,
or hybrid (dynamic range: int8 weights, float activations; the whole input quantized at run time as TFLite's
per-channel hybrid conv does)."""
import numpy as np

from .. import fixedpoint as fp
from .. import stable
from . import _common as c

# params only the faster forms read: --optimize size leaves them out (NULL), saving their flash
SPEED_PARAMS = ("interior_bias", "out_round")
# the forms that work in a scratch buffer of the arena -> its bytes: the DSP matrix product widens each pair of
# positions' inputs to int16 pairs (16 bytes per four channels); the Helium conv gathers MVE_BLOCK positions'
# windows; the hybrid kernel quantizes the whole input into it
MVE_BLOCK = 8  # mcu_gemm_s8.h MCU_GEMM_MVE_BLOCK: the Helium forms' positions per pass
MVE_SHALLOW_BLOCK = 16  # MCU_GEMM_MVE_SHALLOW_BLOCK: a shallow (in_c <= 16) Helium 1x1's rows per pass in place
SCRATCH = {"mcu_conv2d_1x1_dsp_s8": lambda p: 4 * (p["in_c"] & ~3),
           # the Helium 1x1s: a block of positions' inputs copied, where the output overlaps them
           "mcu_conv2d_1x1_mve_s8": lambda p: MVE_BLOCK * p["in_c"],
           "mcu_conv2d_1x1_shallow_mve_s8": lambda p: MVE_SHALLOW_BLOCK * p["in_c"],
           "mcu_conv2d_mve_s8": lambda p: MVE_BLOCK * _window(p),
           # two positions' windows (int8, padded to a word), then their widened pairs
           "mcu_conv2d_dsp_s8": lambda p: ((2 * _window(p) + 3) & ~3) + 4 * (_window(p) & ~3),
           "mcu_conv2d_thumb1_s8": lambda p: 2 * _window(p),
           "mcu_conv2d_hybrid": lambda p: p["in_h"] * p["in_w"] * p["in_c"],
           "mcu_conv2d_first_dsp_s8": lambda p: _first_filters(p) + 8 * _pairs(p)}


def _window(p):
    return p["kernel_h"] * p["kernel_w"] * p["in_c"]


def _pairs(p):
    return (_window(p) + 1) // 2


def _first_filters(p):
    """The bytes of the filters widened by mcu_conv2d_first_dsp_s8 (int16 pairs, two filters side by side)."""
    return (p["out_c"] + 1) // 2 * _pairs(p) * 8


# the DSP first-layer form: at most 3 input channels, the filters' widened copy at most this many bytes of the
# arena (vww's 448, ic's 896; kws's 64 filters of 40 would take 5,120: the matrix product runs them)
FIRST_FILTER_BYTES = 1024


def _first_layer(p):
    folded = p.get("interior_bias") is not None or p["input_zp"] == 0
    return p["in_c"] <= 3 and folded and _first_filters(p) <= FIRST_FILTER_BYTES


KERNELS = {"int8": ("mcu_conv2d_s8", "mcu_conv2d_params_t"),
           "int16": ("mcu_conv2d_s16", "mcu_conv2d_s16_params_t"),
           "float32": ("mcu_conv2d_f32", "mcu_conv2d_f32_params_t"),
           "hybrid": ("mcu_conv2d_hybrid", "mcu_conv2d_hybrid_params_t"),
           "float16": ("mcu_conv2d_f16", "mcu_conv2d_f32_params_t")}


def output_shape(attrs, in_shapes):
    return (1, *c.window_output_hw(in_shapes[0][1:3], attrs), attrs["weight"].shape[0])


def macs(attrs, in_shapes, out_shape):
    return int(np.prod(out_shape)) * int(np.prod(attrs["weight"].shape[1:]))


def float_ref(attrs, x):
    w = attrs["weight"]
    cols = c.windows(c.to_nhwc(x), attrs, 0.0)  # (N, OH, OW, KH, KW, C)
    y = stable.matmul(cols.reshape(cols.shape[:3] + (-1,)).astype(np.float32), w.reshape(w.shape[0], -1).T)
    return c.from_nhwc(c.float_clamp((y + attrs["bias"]).astype(np.float32), attrs))


def prepare(attrs, ins, out):
    x = ins[0]
    p = dict(c.window_params(attrs, x, out), in_c=x.shape[3], out_c=out.shape[3],
             dilation_h=attrs["dilations"][0], dilation_w=attrs["dilations"][1], depth_multiplier=1)
    # without padding every tap reads the input: its zero point folds into the bias, exactly
    taps, padded = int(np.prod(attrs["weight"].shape[1:])), any(attrs["pads"])
    p = filter_params(attrs, x, out, p, taps, not padded)
    if x.dtype == "int8" and padded:  # the positions whose whole window is inside can still fold it
        interior = c.fold_input_zero_point(p["filter"], p["bias"], x.zero_point)
        c.check_accumulator(taps, interior, folded=True)
        p["interior_bias"] = interior.astype(np.int32)
    return c.with_round_constants(p) if x.dtype == "int8" else p


def filter_params(attrs, x, out, p, taps, fold):
    """The filter, bias, clamp and per-channel requantization fields of conv2d's structs (int8, 16x8, float;
    transpose_conv.py's too), added to the geometry p: OHWI weights quantized per output channel, the input zero
    point folded into the bias where `fold` (int8 only), accumulators of `taps` terms bounded."""
    act_min, act_max = c.act_range(attrs, out)
    if attrs.get("compute") == "hybrid":
        w_q, scales = c.symmetric_weights(attrs, 0)
        return dict(p, act_min=act_min, act_max=act_max, filter=w_q, **c.hybrid_params(w_q, scales, attrs))
    if x.dtype == "float32":
        return dict(p, act_min=act_min, act_max=act_max, **c.float_weights(attrs, "filter"),
                    bias=c.float_array(attrs["bias"]))
    wide = x.dtype == "int16"  # 16x8: zero points 0, int64 bias
    w_q, bias, w_scales = c.quantize_weights_and_bias(attrs, 0, x.scale, wide)
    folded = fold and not wide
    if folded:
        bias = c.fold_input_zero_point(w_q, bias, x.zero_point)
    c.check_accumulator(taps, bias, wide, folded)
    mult, shift = c.output_multipliers(x.scale, w_scales, out.scale, wide)
    p.update(act_min=act_min, act_max=act_max, filter=w_q, bias=bias.astype(np.int64 if wide else np.int32),
             out_mult=mult, out_shift=shift)
    return p if wide else dict(p, input_zp=0 if folded else x.zero_point, output_zp=out.zero_point)


def _matrix_product(p, dtype):
    """A 1x1 kernel, no padding, the zero point folded: a matrix product over the positions, each row the input
    position under an output position (any stride: ResNet's downsampling shortcuts)."""
    return (dtype == "int8" and p["input_zp"] == 0 and p["kernel_h"] == p["kernel_w"] == 1
            and p["pad_top"] == p["pad_left"] == 0)


def variants(p, dtype):
    """Faster int8 forms, same params and integers (int_ref is their twin too): the matrix product
    (mcu_gemm_s8.h) where _matrix_product holds; any other geometry with dilation_w 1 takes four output channels
    per pass over each kernel row's run of memory."""
    if dtype == "float16":
        return c.f16_forms(KERNELS[dtype][0])
    if dtype != "int8":  # 16x8, float32 and hybrid: one kernel each
        return None
    if _matrix_product(p, dtype):  # Helium: a depth of at most 16 is one vector (mcu_gemm_mve_shallow_s8)
        mve = "mcu_conv2d_1x1_shallow_mve_s8" if p["in_c"] <= 16 else "mcu_conv2d_1x1_mve_s8"
        return c.isa_forms("mcu_conv2d_1x1_s8", "mcu_conv2d_1x1_dsp_s8", mve, "mcu_conv2d_1x1_thumb1_s8")
    if p["dilation_w"] == 1:  # a kernel row inside the input is one run of memory
        # Helium: blocks of MVE_BLOCK gathered windows by the filters (first layers too: kws's 10x4 on one channel
        # 248k -> 220k instructions against a form that kept a window of at most 64 values in registers)
        dsp = "mcu_conv2d_first_dsp_s8" if _first_layer(p) else "mcu_conv2d_dsp_s8"
        return c.isa_forms("mcu_conv2d_fast_s8", dsp, "mcu_conv2d_mve_s8", "mcu_conv2d_thumb1_s8")
    return None


def overlap_limit(p, index, x, out):
    limit = c.row_overlap_limit(p, x, out, p["in_c"], p["out_c"])
    if _matrix_product(p, x.dtype):
        # the matrix-product forms write two positions' outputs while both positions' inputs are still read
        # (mcu_gemm_s8.h): the pair's outputs must end below the pair's first input (an odd last position alone).
        # Pairs run along each output image row of a strided convolution (a product per row) and along all
        # positions at stride 1; a position's input is where the stride puts it.
        i, o = p["in_c"] * x.itemsize, p["out_c"] * out.itemsize
        strided = (p["stride_h"], p["stride_w"]) != (1, 1)
        lines, width = (p["out_h"], p["out_w"]) if strided else (1, p["out_h"] * p["out_w"])
        for y in range(lines):
            for k in range(0, width, 2):
                r = y * width + k
                row_in = (y * p["stride_h"] * p["in_w"] + k * p["stride_w"]) * i
                limit = min(limit, row_in - (r + min(2, width - k)) * o)
    return limit


def int_ref(p, x):
    x = c.to_nhwc(x).astype(np.int64) - p.get("input_zp", 0)
    cols = c.windows(x, c.window_attrs(p), 0)  # padding contributes (x - zp) = 0, as TFLM skips the tap
    w = p["filter"].reshape(p["out_c"], -1).astype(np.float64)
    # float64 products and sums are exact below 2^53: int8 (and int16) kernels of any size we accept
    acc = (cols.reshape(cols.shape[:3] + (-1,)).astype(np.float64) @ w.T).astype(np.int64) + p["bias"]
    return c.from_nhwc(c.requantize(acc, p))


def hybrid_input(p, x):
    """(q - zp) of each sample's whole input (NHWC int64) as the hybrid conv and depthwise kernels quantize it,
    and the input scales (N,)."""
    x = c.to_nhwc(x)
    q, scale, zp = fp.asymmetric_quantize_rows(x.reshape(len(x), -1))
    return (q - zp[:, None]).reshape(x.shape), scale


def hybrid_ref(p, x):
    """The twin of mcu_conv2d_hybrid: int32 sums over the taps inside the input (padding: q - zp = 0, as the
    kernel skips those taps), rescaled in float32 (fixedpoint.hybrid_rescale)."""
    d, scale = hybrid_input(p, x)
    cols = c.windows(d, c.window_attrs(p), 0)
    w = p["filter"].reshape(p["out_c"], -1).astype(np.float64)
    acc = (cols.reshape(cols.shape[:3] + (-1,)).astype(np.float64) @ w.T).astype(np.int64)  # exact: see int_ref
    return c.from_nhwc(fp.hybrid_rescale(acc, scale[:, None, None], p["weight_scales"], p["bias"], p["act_min"],
                                         p["act_max"]))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_conv(imp, node, a):
    """Conv: group 1 -> conv2d; group == channels with one input channel per group -> depthwise_conv2d."""
    w = imp.const(node, node.input[1], "the weight").astype(np.float32)
    bias = (imp.const(node, node.input[2], "the bias").astype(np.float32) if len(node.input) > 2 and node.input[2]
            else np.zeros(w.shape[0], np.float32))
    x = imp.x(node)
    if w.ndim != 4:
        imp.fail(node, "only 2-D convolutions are supported")
    in_c = imp.graph.tensors[x].shape[1]
    group = a.get("group", 1)
    # the weights must fit the input: a kernel would otherwise read past its weight array
    if w.shape[1] * group != in_c or (group > 1 and w.shape[0] % group) or bias.shape != (w.shape[0],):
        imp.fail(node, f"weights of shape {list(w.shape)} (group {group}) and a bias of shape {list(bias.shape)} "
                       f"do not fit an input of {in_c} channels")
    common = dict(kernel=tuple(w.shape[2:]), strides=tuple(a.get("strides", (1, 1))),
                  dilations=tuple(a.get("dilations", (1, 1))), bias=bias,
                  pads=imp.pads(node, a, imp.graph.tensors[x].shape[2:], w.shape[2:]))
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail(node, "output shape unknown")
    if group == 1:
        imp.nhwc(node, "conv2d", x, out_shape, weight=w.transpose(0, 2, 3, 1), **common)
    elif group == in_c and w.shape[1] == 1:
        imp.nhwc(node, "depthwise_conv2d", x, out_shape, weight=w[:, 0].transpose(1, 2, 0),
                 depth_multiplier=w.shape[0] // in_c, **common)
    else:
        imp.fail(node, f"grouped convolution with group={group} (not 1 nor the channel count) is not supported")


def tflite_conv(imp, k, op):
    o = imp.options(op, "Conv2DOptions")
    imp.conv(k, op, "conv2d", o, imp.weight_attrs(k, op, 0))


ONNX = {"Conv": onnx_conv}
TFLITE = {"CONV_2D": tflite_conv}
