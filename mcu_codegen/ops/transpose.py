"""A real data movement between layouts (one that cancelling transposes could not remove)."""
import numpy as np

from . import _common as c

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


def prepare(attrs, ins, out):
    """{rank, dims, strides, element_size}: the output's row-major index space with each axis's input stride
    (in elements), size-1 axes dropped and input axes that stay neighbours merged (ops/_common.strided_fields):
    (1, 2, 8, 8, 32) by (0, 2, 1, 3, 4) walks (8, 2, 256) with strides (256, 2048, 1)."""
    shape, perm = list(ins[0].shape), list(attrs["perm"])
    strides = c.row_major_strides(shape)
    fields = c.strided_fields("walk", [shape[q] for q in perm], [strides[q] for q in perm])
    return dict(rank=fields["walk_rank"], dims=fields["walk_dims"], strides=fields["walk_strides"],
                element_size=ins[0].itemsize)


def int_ref(p, x):
    """The twin of mcu_transpose: the elements at the walk's offsets, in order; x (N, *shape), returns (N, size)
    (the caller reshapes to the tensor's own shape)."""
    flat = x.reshape(x.shape[0], -1)
    return flat[:, c.strided_offsets(p["dims"][:p["rank"]], p["strides"][:p["rank"]], flat.shape[1])]


# -- import ----------------------------------------------------------------------------------------------------
def onnx_transpose(imp, node, a):
    x = imp.x(node)
    perm = tuple(a.get("perm", range(len(imp.graph.tensors[x].shape) - 1, -1, -1)))
    imp.emit("transpose", [x], [imp.output(node)], node, perm=perm)


def tflite_transpose(imp, k, op):
    perm = imp.const(op.Inputs(1))
    if perm is None:
        imp.fail(k, "the permutation must be a constant")
    perm = tuple(int(v) for v in perm.reshape(-1))
    if sorted(perm) != list(range(len(imp.shape(op.Inputs(0))))):
        imp.fail(k, f"permutation {list(perm)} does not fit the input's rank")
    imp.emit(k, "transpose", [op.Inputs(0)], [op.Outputs(0)], perm=perm)


ONNX = {"Transpose": onnx_transpose}
TFLITE = {"TRANSPOSE": tflite_transpose}
