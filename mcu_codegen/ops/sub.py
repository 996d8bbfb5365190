"""Element-wise difference of two activations, broadcast, with TFLite's int8 / int16 SUB arithmetic (ADD's
scaling with the second input subtracted: add.py's kernels with subtract = 1), or float."""
import numpy as np

from . import _common as c
from . import add

KERNELS = add.KERNELS
output_shape, macs, overlap_limit, int_ref, variants = (add.output_shape, add.macs, add.overlap_limit, add.int_ref,
                                                          add.variants)


def float_ref(attrs, a, b):
    a, b = c.aligned_pair(a, b)
    return c.float_clamp(a - b, attrs)


def prepare(attrs, ins, out):
    return dict(add.prepare(attrs, ins, out), subtract=1)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_sub(imp, node, a):
    """x - constant is a bias_add of -constant (folded into its producer, or an add of a constant node);
    constant - x and two activations, a sub."""
    x, value, first = imp.constant_operand(node)
    if value is not None and not first:
        imp.emit("bias_add", [x], [imp.output(node)], node, value=np.negative(value))
        return
    if value is not None:  # constant - x: a constant node, then a sub of two tensors
        imp.emit("sub", [imp.operand(node, node.input[0]), x], [imp.output(node)], node)
        return
    imp.binary(node, "sub")


def tflite_sub(imp, k, op):
    imp.binary(k, op, "sub", imp.options(op, "SubOptions"))


ONNX = {"Sub": onnx_sub}
TFLITE = {"SUB": tflite_sub}
