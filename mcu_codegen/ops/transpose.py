"""A real data movement between layouts (one that cancelling transposes could not remove)."""
import numpy as np

from ..ir import ConversionError

# a transpose moves bytes: one kernel for every element type
KERNELS = {t: ("mcu_transpose", "mcu_transpose_params_t") for t in ("int8", "int16", "float32")}
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0][p] for p in attrs["perm"])


def macs(attrs, in_shapes, out_shape):
    return 0


def _batched_perm(perm):
    return (0,) + tuple(p + 1 for p in perm)


def float_ref(attrs, x):
    return np.transpose(x, _batched_perm(attrs["perm"]))


def collapsed(shape, perm):
    """(shape, perm) of the same data movement with size-1 axes dropped and input axes that stay neighbours in
    the output merged: (1, 2, 8, 8, 32) by (0, 2, 1, 3, 4) is (2, 8, 256) by (1, 0, 2)."""
    kept = [a for a in range(len(shape)) if shape[a] != 1]
    runs = []  # runs of input axes, in output order
    for a in (a for a in perm if shape[a] != 1):
        if runs and kept.index(runs[-1][-1]) + 1 == kept.index(a):
            runs[-1].append(a)
        else:
            runs.append([a])
    by_input = sorted(runs)
    return [int(np.prod([shape[a] for a in r])) for r in by_input], [by_input.index(r) for r in runs]


def prepare(attrs, ins, out):
    shape, perm = collapsed(list(ins[0].shape), list(attrs["perm"]))
    if len(shape) > 4:
        raise ConversionError(f"a transpose that moves {len(shape)} separate axes (more than 4) is not supported")
    pad = 4 - len(shape)  # pad to rank 4 with leading 1s: the kernel has one loop nest
    return dict(in_shape=[1] * pad + shape, perm=list(range(pad)) + [q + pad for q in perm],
                element_size=ins[0].itemsize)


def int_ref(p, x):
    """Returns the rank-4 padded result; the caller reshapes to the tensor's own shape."""
    return float_ref({"perm": p["perm"]}, x.reshape((x.shape[0],) + tuple(p["in_shape"])))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_transpose(imp, node, a):
    x = imp.x(node)
    perm = tuple(a.get("perm", range(len(imp.graph.tensors[x].shape) - 1, -1, -1)))
    imp.emit("transpose", [x], [imp.output(node)], node, perm=perm)


ONNX = {"Transpose": onnx_transpose}
