"""A strided slice along every axis (TFLite SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK; ONNX Slice, Split):
output axis d takes `size[d]` positions of the input from `begin[d]` on, `step[d]` apart (a negative step walks
backwards). The importers turn each form's begin/end/masks/sizes into these three tuples, TFLite's and ONNX's
clamping rules included. A node with several outputs (SPLIT, SPLIT_V, UNPACK, ONNX Split) becomes one slice per
output; an axis the operator removes (shrink_axis_mask, UNPACK) is left out of `shape`, the output's shape (same
bytes). A copy (ops/_index_copy.py) that keeps its input's quantization, as TFLM's does."""
import numpy as np

from . import _index_copy

KERNELS = _index_copy.KERNELS
SAME_QUANT_AS_INPUT = True
INT_MAX = (1 << 31) - 1


def output_shape(attrs, in_shapes):
    return tuple(int(n) for n in attrs.get("shape", attrs["size"]))


def macs(attrs, in_shapes, out_shape):
    return 0


def indices(attrs):
    return [b + s * np.arange(n) for b, n, s in zip(attrs["begin"], attrs["size"], attrs["step"])]


def float_ref(attrs, x):
    def axis(b, n, s):
        stop = b + n * s
        return slice(b, None if stop < 0 else stop, s)
    y = x[(slice(None),) + tuple(axis(b, n, s) for b, n, s in zip(attrs["begin"], attrs["size"], attrs["step"]))]
    return y.reshape((x.shape[0],) + output_shape(attrs, [x.shape[1:]]))


def prepare(attrs, ins, out):
    return _index_copy.prepare(indices(attrs), ins[0], out)


int_ref = _index_copy.int_ref
overlap_limit = _index_copy.overlap_limit


def permuted(attrs, perm):
    """These attrs for the slice moved before a transpose by perm (passes sink layout transposes through it);
    None when the slice drops axes."""
    if tuple(attrs.get("shape", attrs["size"])) != tuple(attrs["size"]):
        return None
    inverse = np.argsort(perm)
    moved = {k: tuple(attrs[k][j] for j in inverse) for k in ("begin", "size", "step")}
    return dict(moved, shape=moved["size"]) if "shape" in attrs else moved


def count(start, stop, step):
    return max(0, -(-(stop - start) // step)) if step > 0 else max(0, -(-(start - stop) // -step))


def clamped_range(start, stop, step, n):
    """Negative start/stop count from the end, then both are clamped to the axis: [0, n] for a positive
    step, [-1, n - 1] for a negative one (TFLite's strided_slice_logic.h, ONNX Slice). (begin, size)."""
    lo, hi = (0, n) if step > 0 else (-1, n - 1)
    start, stop = (v + n if v < 0 else v for v in (start, stop))
    start, stop = min(max(start, lo), hi), min(max(stop, lo), hi)
    return start, count(start, stop, step)


def split_slices(shape, axis, sizes):
    """(begin, size, step) of each part of a split of `shape` along `axis` into parts of `sizes`."""
    at, parts = 0, []
    for n in sizes:
        begin, size = [0] * len(shape), list(shape)
        begin[axis], size[axis] = at, n
        parts.append(dict(begin=tuple(begin), size=tuple(size), step=(1,) * len(shape)))
        at += n
    return parts


# -- import ----------------------------------------------------------------------------------------------------
def axis_in_range(imp, where, axis, rank):
    """A negative axis counts from the end; out of range is an error naming `where` (ONNX node, TFLite index)."""
    if not -rank <= axis < rank:
        imp.fail(where, f"axis {axis} out of range for rank {rank}")
    return axis % rank


def onnx_slice(imp, node, a):
    x = imp.x(node)
    shape = imp.graph.tensors[x].shape
    rank = len(shape)
    starts, ends = (np.asarray(imp.const(node, node.input[i], n)).reshape(-1).astype(np.int64)
                    for i, n in ((1, "starts"), (2, "ends")))
    axes = (np.asarray(imp.const(node, node.input[3], "axes")).reshape(-1) if len(node.input) > 3 and node.input[3]
            else np.arange(len(starts)))
    steps = (np.asarray(imp.const(node, node.input[4], "steps")).reshape(-1) if len(node.input) > 4 and node.input[4]
             else np.ones(len(starts), np.int64))
    if not len(starts) == len(ends) == len(axes) == len(steps):
        imp.fail(node, "starts, ends, axes and steps must have one value per sliced axis")
    begin, size, step = [0] * rank, list(shape), [1] * rank
    for s, e, ax, st in zip(starts.tolist(), ends.tolist(), axes.tolist(), steps.tolist()):
        ax = axis_in_range(imp, node, int(ax), rank)
        if st == 0:
            imp.fail(node, "a step of 0")
        begin[ax], size[ax] = clamped_range(int(s), int(e), int(st), shape[ax])
        step[ax] = int(st)
    imp.emit("slice", [x], [imp.output(node)], node, begin=tuple(begin), size=tuple(size), step=tuple(step))


def onnx_split(imp, node, a):
    """Every opset's form (the split attribute, the split input, num_outputs): the parts' sizes are the
    inferred output shapes'."""
    x = imp.x(node)
    shape = imp.graph.tensors[x].shape
    axis = axis_in_range(imp, node, a.get("axis", 0), len(shape))
    outs = [imp.output(node, j) for j in range(len(node.output))]
    sizes = [imp.graph.tensors[t].shape[axis] for t in outs]
    if sum(sizes) != shape[axis]:
        imp.fail(node, f"parts of {sizes} do not split an axis of {shape[axis]}")
    for t, attrs in zip(outs, split_slices(shape, axis, sizes)):
        imp.emit("slice", [x], [t], node, **attrs)


def tflite_vector(imp, k, i, what, length=None):
    v = imp.const(i)
    if v is None or v.dtype.kind not in "iu" or (length is not None and v.size != length):
        imp.fail(k, f"{what} must be a constant integer tensor" + (f" of {length} values" if length else ""))
    return [int(e) for e in v.reshape(-1)]


def tflite_slice(imp, k, op):
    shape = imp.shape(op.Inputs(0))
    begin = tflite_vector(imp, k, op.Inputs(1), "begin", len(shape))
    size = tflite_vector(imp, k, op.Inputs(2), "size", len(shape))
    size = [n - b if s == -1 else s for b, s, n in zip(begin, size, shape)]
    if any(b < 0 or s < 1 or b + s > n for b, s, n in zip(begin, size, shape)):
        imp.fail(k, f"begin {begin} and size {size} do not fit the input's shape {list(shape)}")
    imp.emit(k, "slice", [op.Inputs(0)], [op.Outputs(0)], begin=tuple(begin), size=tuple(size),
             step=(1,) * len(shape))


def tflite_strided_slice(imp, k, op):
    o = imp.options(op, "StridedSliceOptions")
    shape = imp.shape(op.Inputs(0))
    rank = len(shape)
    if o.EllipsisMask() or o.NewAxisMask() or o.Offset():
        imp.fail(k, "ellipsis_mask, new_axis_mask and offset are not supported (TFLM does not implement them)")
    starts, stops, steps = (tflite_vector(imp, k, op.Inputs(i), n, rank) for i, n in
                            ((1, "begin"), (2, "end"), (3, "strides")))
    begin, size = [], []
    for ax, (start, stop, st, n) in enumerate(zip(starts, stops, steps, shape)):
        if st == 0:
            imp.fail(k, f"a stride of 0 on axis {ax}")
        bit = 1 << ax
        if o.ShrinkAxisMask() & bit:   # one position: begin from the end if negative; begin_mask applies (TFLM)
            start = (0 if st > 0 else n - 1) if o.BeginMask() & bit else start + n if start < 0 else start
            if not 0 <= start < n:
                imp.fail(k, f"begin {starts[ax]} out of range for axis {ax} of size {n}")
            begin.append(start)
            size.append(1)
            continue
        if o.BeginMask() & bit:
            start = -INT_MAX - 1 if st > 0 else INT_MAX
        if o.EndMask() & bit:
            stop = INT_MAX if st > 0 else -INT_MAX - 1
        b, s = clamped_range(start, stop, st, n)
        begin.append(b)
        size.append(s)
    kept = tuple(s for ax, s in enumerate(size) if not o.ShrinkAxisMask() & (1 << ax)) or (1,)
    imp.emit(k, "slice", [op.Inputs(0)], [op.Outputs(0)], begin=tuple(begin), size=tuple(size),
             step=tuple(steps), shape=kept)


def _tflite_parts(imp, k, op, x, axis, sizes):
    shape = imp.shape(x)
    if op.OutputsLength() != len(sizes):
        imp.fail(k, f"{op.OutputsLength()} outputs for {len(sizes)} parts")
    if any(s < 1 for s in sizes) or sum(sizes) != shape[axis]:
        imp.fail(k, f"parts of {sizes} do not split an axis of {shape[axis]}")
    for j, attrs in enumerate(split_slices(shape, axis, sizes)):
        out_shape = tuple(int(d) for d in imp.sg.Tensors(op.Outputs(j)).ShapeAsNumpy())
        imp.emit(k, "slice", [x], [op.Outputs(j)], shape=out_shape, **attrs)


def tflite_split(imp, k, op):
    x = op.Inputs(1)
    rank = len(imp.shape(x))
    axis = axis_in_range(imp, k, tflite_vector(imp, k, op.Inputs(0), "the axis", 1)[0], rank)
    n, parts = imp.shape(x)[axis], imp.options(op, "SplitOptions").NumSplits()
    if parts < 1 or n % parts:
        imp.fail(k, f"an axis of {n} does not split into {parts} equal parts")
    _tflite_parts(imp, k, op, x, axis, [int(n) // parts] * parts)


def tflite_split_v(imp, k, op):
    x = op.Inputs(0)
    rank = len(imp.shape(x))
    axis = axis_in_range(imp, k, tflite_vector(imp, k, op.Inputs(2), "the axis", 1)[0], rank)
    n = int(imp.shape(x)[axis])
    sizes = tflite_vector(imp, k, op.Inputs(1), "size_splits")
    if sizes.count(-1) == 1:
        sizes[sizes.index(-1)] = n - (sum(sizes) + 1)
    _tflite_parts(imp, k, op, x, axis, sizes)


def tflite_unpack(imp, k, op):
    o = imp.options(op, "UnpackOptions")
    x = op.Inputs(0)
    rank = len(imp.shape(x))
    axis = axis_in_range(imp, k, o.Axis(), rank)
    n = int(imp.shape(x)[axis])
    if o.Num() != n:
        imp.fail(k, f"num {o.Num()} is not the axis's size {n}")
    _tflite_parts(imp, k, op, x, axis, [1] * n)


ONNX = {"Slice": onnx_slice, "Split": onnx_split}
TFLITE = {"SLICE": tflite_slice, "STRIDED_SLICE": tflite_strided_slice, "SPLIT": tflite_split,
          "SPLIT_V": tflite_split_v, "UNPACK": tflite_unpack}
