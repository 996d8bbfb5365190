"""Mean over any set of axes (TFLite MEAN, ONNX ReduceMean and GlobalAveragePool), keep_dims or not, with TFLM's
int8 / int16 arithmetic: the sum of (x - input_zp) over the axes, requantized by input_scale / output_scale
with 1 / count folded into the multiplier as TFLM does (the multiplier shifted left by floor(log2 count),
divided by count with truncation); or in float. Its own output quantization (calibrated, or the file's)."""
import numpy as np

from .. import fixedpoint as fp
from ..ir import ConversionError
from . import _common as c

KERNELS = {"int8": ("mcu_mean_s8", "mcu_mean_params_t"), "int16": ("mcu_mean_s16", "mcu_mean_params_t"),
           "float32": ("mcu_mean_f32", "mcu_mean_params_t")}


def output_shape(attrs, in_shapes):
    axes = attrs["axes"]
    if attrs["keep_dims"]:
        return tuple(1 if i in axes else d for i, d in enumerate(in_shapes[0]))
    return tuple(d for i, d in enumerate(in_shapes[0]) if i not in axes)


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    axes = tuple(a + 1 for a in attrs["axes"])
    count = int(np.prod([x.shape[a] for a in axes]))
    return (np.sum(x.astype(np.float64), axis=axes) / count).astype(np.float32)


def prepare(attrs, ins, out):
    x = ins[0]
    axes = attrs["axes"]
    strides = c.row_major_strides(x.shape)
    kept = [i for i in range(len(x.shape)) if i not in axes]
    count = int(np.prod([x.shape[a] for a in axes]))
    p = dict(out_size=out.size, count=count,
             **c.strided_fields("kept", [x.shape[i] for i in kept], [strides[i] for i in kept]),
             **c.strided_fields("reduced", [x.shape[a] for a in axes], [strides[a] for a in axes]))
    if x.dtype == "float32":  # the float kernel reads the geometry only
        return dict(p, input_zp=0, output_zp=0, mult=0, shift=0, q_min=0, q_max=0)
    q_min, q_max = c.QRANGE[out.dtype]
    if count * (q_max - q_min) > fp.INT32_MAX:
        raise ConversionError(f"a mean of {count} values could overflow its int32 sum")
    mult, shift = fp.quantize_multiplier(float(np.float32(x.scale)) / float(np.float32(out.scale)))
    fold = min(count.bit_length() - 1, 32, 31 + shift)  # TFLM: 1 / count into the multiplier, shift >= -31
    mult, shift = (mult << fold) // count, shift - fold
    c.check_shifts([shift])
    return dict(p, input_zp=x.zero_point, output_zp=out.zero_point, mult=mult, shift=shift, q_min=q_min,
                q_max=q_max)


def offsets(p, prefix, n):
    """The input offset of each of n row-major indices over a strided index space of the params."""
    rank = p[f"{prefix}_rank"]
    return c.strided_offsets(p[f"{prefix}_dims"][:rank], p[f"{prefix}_strides"][:rank], n)


def int_ref(p, x):
    at = offsets(p, "kept", p["out_size"])[:, None] + offsets(p, "reduced", p["count"])[None, :]
    total = x.reshape(x.shape[0], -1).astype(np.int64)[:, at].sum(axis=-1) - p["input_zp"] * p["count"]
    y = fp.multiply_by_quantized_multiplier(total, p["mult"], p["shift"]) + p["output_zp"]
    return np.clip(y, p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def _normalized_axes(fail, where, axes, rank):
    out = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axes})
    if any(not 0 <= a < rank for a in out):
        fail(where, f"axes {list(axes)} out of range for rank {rank}")
    return tuple(out)


def onnx_reduce_mean(imp, node, a, op="mean"):
    """ReduceMean (and ReduceMax: reduce_max.py) -> op over the normalized axes."""
    x = imp.x(node)
    rank = len(imp.graph.tensors[x].shape)
    if len(node.input) > 1 and node.input[1]:  # opset 18: axes is an input
        axes = np.asarray(imp.const(node, node.input[1], "axes")).reshape(-1).tolist()
    else:
        axes = a.get("axes", [])
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            imp.names[node.output[0]] = x
            return
        axes = range(rank)
    imp.emit(op, [x], [imp.output(node)], node, axes=_normalized_axes(imp.fail, node, axes, rank),
             keep_dims=bool(a.get("keepdims", 1)))


def onnx_global_average_pool(imp, node, a, op="mean"):
    """The mean (GlobalMaxPool: the maximum) over every axis after (N, C), kept as 1s."""
    x = imp.x(node)
    rank = len(imp.graph.tensors[x].shape)
    if rank < 3:
        imp.fail(node, f"{node.op_type} of a rank-{rank} tensor")
    imp.emit(op, [x], [imp.output(node)], node, axes=tuple(range(2, rank)), keep_dims=True)


def tflite_mean(imp, k, op, kind="mean"):
    axes = imp.const(op.Inputs(1))
    if axes is None:
        imp.fail(k, "the axes must be a constant tensor")
    rank = imp.sg.Tensors(op.Inputs(0)).ShapeLength()
    imp.emit(k, kind, [op.Inputs(0)], [op.Outputs(0)], axes=_normalized_axes(imp.fail, k, axes.reshape(-1), rank),
             keep_dims=bool(imp.options(op, "ReducerOptions").KeepDims()))


ONNX = {"ReduceMean": onnx_reduce_mean, "GlobalAveragePool": onnx_global_average_pool}
TFLITE = {"MEAN": tflite_mean}
