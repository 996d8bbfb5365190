"""Maximum over any set of axes (TFLite REDUCE_MAX, ONNX ReduceMax and GlobalMaxPool), keep_dims or not: the
largest raw integer, the output keeping the input's quantization (TFLM requires it; its REDUCE_MAX is int8 only, ours
also int16 for the 16x8 mode); or
float. The index spaces are mean.py's (kept axes -> input offset, reduced axes -> offset from there)."""
import numpy as np

from . import _common as c
from . import mean

KERNELS = {"int8": ("mcu_reduce_max_s8", "mcu_reduce_max_params_t"),
           "int16": ("mcu_reduce_max_s16", "mcu_reduce_max_params_t"),
           "float32": ("mcu_reduce_max_f32", "mcu_reduce_max_params_t")}
SAME_QUANT_AS_INPUT = True
output_shape, macs = mean.output_shape, mean.macs


def float_ref(attrs, x):
    return np.max(x, axis=tuple(a + 1 for a in attrs["axes"])).astype(np.float32)


def prepare(attrs, ins, out):
    x, axes = ins[0], attrs["axes"]
    strides = c.row_major_strides(x.shape)
    kept = [i for i in range(len(x.shape)) if i not in axes]
    return dict(out_size=out.size, count=int(np.prod([x.shape[a] for a in axes])),
                **c.strided_fields("kept", [x.shape[i] for i in kept], [strides[i] for i in kept]),
                **c.strided_fields("reduced", [x.shape[a] for a in axes], [strides[a] for a in axes]))


def int_ref(p, x):
    at = mean.offsets(p, "kept", p["out_size"])[:, None] + mean.offsets(p, "reduced", p["count"])[None, :]
    return x.reshape(x.shape[0], -1).astype(np.int64)[:, at].max(axis=-1)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_reduce_max(imp, node, a):
    mean.onnx_reduce_mean(imp, node, a, op="reduce_max")


def onnx_global_max_pool(imp, node, a):
    mean.onnx_global_average_pool(imp, node, a, op="reduce_max")


def tflite_reduce_max(imp, k, op):
    mean.tflite_mean(imp, k, op, kind="reduce_max")


ONNX = {"ReduceMax": onnx_reduce_max, "GlobalMaxPool": onnx_global_max_pool}
TFLITE = {"REDUCE_MAX": tflite_reduce_max}
