"""The copy that slices, splits, gathers, tiles and nearest-neighbour resizes share: every output element is an
input element, chosen independently along each axis. Output axis d has its own index table (the input index
that each output position reads along d); the output is the input indexed by all tables at once
(numpy.ix_), in row-major order. Nothing is computed on the values, so one kernel serves every element type
and the quantization is the input's (as in TFLM, which requires it for these ops).

The C kernel (runtime_c/src/mcu_index_copy.c) walks the tables as byte offsets: prepare() drops axes of one
output position into a base offset, and the inner axes that are copied whole (table = 0..n-1 over the whole
input axis) and then a contiguous part of the next one into one run, so a slice along H of an NHWC map copies
whole rows and a slice of channels one run of channels per pixel."""
import numpy as np

from ..ir import ConversionError
from . import _common as c

KERNELS = {t: ("mcu_index_copy", "mcu_index_copy_params_t") for t in ("int8", "int16", "float32")}


def check_indices(indices, in_shape):
    """Each table within its input axis, one table per axis, no empty output (a clear error otherwise)."""
    if len(indices) != len(in_shape):
        raise ConversionError(f"{len(indices)} index tables for a rank-{len(in_shape)} input")
    for d, (t, n) in enumerate(zip(indices, in_shape)):
        t = np.asarray(t)
        if t.size == 0:
            raise ConversionError(f"axis {d} of the output is empty (zero-sized tensors are not supported)")
        if t.min() < 0 or t.max() >= n:
            raise ConversionError(f"index {int(t.min() if t.min() < 0 else t.max())} out of range for axis {d} "
                                  f"of size {n}")


def float_ref(indices, x):
    """x (N, *shape) indexed along each axis by its table (the float reference of every op built on this)."""
    return x[(slice(None),) + np.ix_(*[np.asarray(t, np.int64) for t in indices])]


def prepare(indices, x, out):
    """{rank, dims, count, base, run, offsets} of mcu_index_copy_params_t for input tensor x (any type)."""
    check_indices(indices, x.shape)
    size = x.itemsize
    strides = [s * size for s in c.row_major_strides(x.shape)]
    tables = [np.asarray(t, np.int64) * s for t, s in zip(indices, strides)]
    run, base = size, 0
    while tables and np.array_equal(indices[len(tables) - 1], np.arange(x.shape[len(tables) - 1])):
        run *= x.shape[len(tables) - 1]   # copied whole: part of the contiguous run
        tables.pop()
    base += sum(int(t[0]) for t in tables if t.size == 1)
    tables = [t for t in tables if t.size > 1]
    if tables and np.all(np.diff(tables[-1]) == run):  # a contiguous part of the innermost axis: longer runs
        base += int(tables[-1][0])
        run *= tables.pop().size
    if len(tables) > c.MAX_DIMS:
        raise ConversionError(f"an index copy over {len(tables)} axes (more than {c.MAX_DIMS}) is not supported")
    dims = [int(t.size) for t in tables]
    offsets = np.concatenate(tables).astype(np.int32) if tables else np.zeros(1, np.int32)
    count = int(np.prod(dims, dtype=np.int64))
    assert count * run == out.nbytes, "index tables do not describe the output"
    return dict(rank=len(dims), dims=dims + [1] * (c.MAX_DIMS - len(dims)), count=count, base=base, run=run,
                offsets=offsets)


def run_starts(p):
    """The input byte offset of each run, in the order the kernel copies them."""
    starts, at = np.array([p["base"]], np.int64), 0
    for n in p["dims"][:p["rank"]]:
        starts = (starts[:, None] + p["offsets"][at:at + n].astype(np.int64)[None]).reshape(-1)
        at += n
    return starts


def overlap_limit(p, index, x, out):
    """Run j is written at j * run bytes after reading the input from starts[j] on (memmove: a run may overlap
    its own source). When the runs read the input in increasing order, the output may start D bytes above
    the input, D = min(starts[j] - j * run): no run is overwritten before it is read (a slice or an ordered
    gather: D >= 0, in place). A copy that reads some input bytes twice or out of order (tile, upsampling,
    reversed or repeated indices) must not overlap its input: None."""
    starts = run_starts(p)
    if np.any(np.diff(starts) < p["run"]):
        return None
    return int((starts - np.arange(len(starts)) * p["run"]).min())


def int_ref(p, x):
    """The twin of mcu_index_copy: the same byte offsets, gathered from x's bytes; x (N, *shape)."""
    raw = np.ascontiguousarray(x).reshape(x.shape[0], -1).view(np.uint8)
    starts = run_starts(p)
    picked = raw[:, (starts[:, None] + np.arange(p["run"])[None]).reshape(-1)]
    return np.ascontiguousarray(picked).view(x.dtype)
