"""Gather with constant indices along one axis (TFLite GATHER with batch_dims 0, ONNX Gather): output
position j along the axis is input position indices[j]. Indices of any shape are flattened (the output's bytes
are the same; `shape` is the real output shape). A copy (ops/_index_copy.py) that keeps its input's
quantization, as TFLM's GATHER does."""
import numpy as np

from . import _index_copy
from .slice import axis_in_range

KERNELS = _index_copy.KERNELS
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return tuple(int(d) for d in attrs["shape"])


def macs(attrs, in_shapes, out_shape):
    return 0


def indices(attrs, in_shape):
    return [np.asarray(attrs["indices"]) if d == attrs["axis"] else np.arange(n) for d, n in enumerate(in_shape)]


def float_ref(attrs, x):
    y = np.take(x, np.asarray(attrs["indices"], np.int64), axis=attrs["axis"] + 1)
    return y.reshape((x.shape[0],) + output_shape(attrs, [x.shape[1:]]))


def prepare(attrs, ins, out):
    return _index_copy.prepare(indices(attrs, ins[0].shape), ins[0], out)


int_ref = _index_copy.int_ref
overlap_limit = _index_copy.overlap_limit


def permuted(attrs, perm):
    """These attrs for the gather moved before a transpose by perm; None when its indices add or remove axes."""
    if len(attrs["shape"]) != len(perm):
        return None
    return dict(attrs, axis=perm[attrs["axis"]], shape=tuple(attrs["shape"][j] for j in np.argsort(perm)))


# -- import ----------------------------------------------------------------------------------------------------
def _emit(imp, where, x, shape, axis, idx, negative_ok, emit):
    axis = axis_in_range(imp, where, axis, len(shape))
    idx = np.asarray(idx).astype(np.int64)
    n = shape[axis]
    if idx.size == 0 or idx.max() >= n or idx.min() < (-n if negative_ok else 0):
        imp.fail(where, f"indices {idx.reshape(-1).tolist()[:8]} out of range for an axis of {n}")
    out_shape = tuple(shape[:axis]) + idx.shape + tuple(shape[axis + 1:])
    emit(axis=axis, indices=tuple(int(i) % n for i in idx.reshape(-1)), shape=out_shape or (1,))


def onnx_gather(imp, node, a):
    x = imp.x(node)
    idx = imp.const(node, node.input[1], "the indices")
    _emit(imp, node, x, imp.graph.tensors[x].shape, a.get("axis", 0), idx, True,
          lambda **attrs: imp.emit("gather", [x], [imp.output(node)], node, **attrs))


def tflite_gather(imp, k, op):
    o = imp.options(op, "GatherOptions")
    if o.BatchDims() != 0:
        imp.fail(k, "batch_dims other than 0 is not supported")
    idx = imp.const(op.Inputs(1))
    if idx is None or idx.dtype.kind not in "iu":
        imp.fail(k, "the indices must be a constant integer tensor")
    shape = imp.shape(op.Inputs(0))
    _emit(imp, k, op.Inputs(0), shape, o.Axis(), idx, False,
          lambda **attrs: imp.emit(k, "gather", [op.Inputs(0)], [op.Outputs(0)], **attrs))


ONNX = {"Gather": onnx_gather}
TFLITE = {"GATHER": tflite_gather}
