"""Element-wise minimum of two activations (TFLite MINIMUM, ONNX Min): maximum.py's arithmetic and kernels
with minimum = 1."""
from . import maximum

KERNELS = maximum.KERNELS
output_shape, macs, overlap_limit, int_ref = maximum.output_shape, maximum.macs, maximum.overlap_limit, maximum.int_ref


def float_ref(attrs, a, b):
    return maximum.float_ref(dict(attrs, minimum=True), a, b)


def prepare(attrs, ins, out):
    return maximum.prepare(dict(attrs, minimum=True), ins, out)


def onnx_min(imp, node, a):
    maximum.onnx_max(imp, node, a, minimum=True)


def tflite_min(imp, k, op):
    maximum.tflite_max(imp, k, op, minimum=True)


ONNX = {"Min": onnx_min}
TFLITE = {"MINIMUM": tflite_min}
