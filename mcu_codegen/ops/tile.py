"""Tile (ONNX Tile, TFLite TILE, Keras' UpSampling-by-repetition form): the input repeated `multiples[d]`
times along each axis. TFLM has no TILE kernel, so a .tflite TILE is checked against TFLite's float semantics,
which for a copy are exact. A copy (ops/_index_copy.py) that keeps its input's quantization."""
import numpy as np

from . import _index_copy

KERNELS = _index_copy.KERNELS
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return tuple(int(n) * int(m) for n, m in zip(in_shapes[0], attrs["multiples"]))


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return np.tile(x, (1,) + tuple(attrs["multiples"]))


def prepare(attrs, ins, out):
    return _index_copy.prepare([np.arange(n * m) % n for n, m in zip(ins[0].shape, attrs["multiples"])], ins[0], out)


int_ref = _index_copy.int_ref
overlap_limit = _index_copy.overlap_limit


def permuted(attrs, perm):
    return dict(multiples=tuple(attrs["multiples"][j] for j in np.argsort(perm)))


# -- import ----------------------------------------------------------------------------------------------------
def _multiples(imp, where, values, rank):
    values = [int(v) for v in np.asarray(values).reshape(-1)]
    if len(values) != rank or min(values) < 1:
        imp.fail(where, f"repeats {values[:8]} must be one positive number per axis (rank {rank})")
    return tuple(values)


def onnx_tile(imp, node, a):
    x = imp.x(node)
    rank = len(imp.graph.tensors[x].shape)
    multiples = _multiples(imp, node, imp.const(node, node.input[1], "the repeats"), rank)
    imp.emit("tile", [x], [imp.output(node)], node, multiples=multiples)


def tflite_tile(imp, k, op):
    m = imp.const(op.Inputs(1))
    if m is None:
        imp.fail(k, "the multiples must be a constant tensor")
    rank = imp.sg.Tensors(op.Inputs(0)).ShapeLength()
    imp.emit(k, "tile", [op.Inputs(0)], [op.Outputs(0)], multiples=_multiples(imp, k, m, rank))


ONNX = {"Tile": onnx_tile}
TFLITE = {"TILE": tflite_tile}
