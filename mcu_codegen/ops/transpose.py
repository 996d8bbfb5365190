"""A real data movement between layouts (one that cancelling transposes could not remove)."""
import numpy as np

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
    shape, perm = list(ins[0].shape), list(attrs["perm"])
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
