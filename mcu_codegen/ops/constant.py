"""A constant operand of an element-wise op that no pass folds away (TFLite ADD / SUB / MUL of a constant
tensor; an ONNX Add / Sub / Mul of an initializer that is no conv's per-channel bias or scale): a node with no
input that copies the constant from flash into the arena, where its reader finds it like any activation.
Its quantization is its own (the file's, or calibrated: the range of its values). TFLite FILL of a shape the
converter computes (SHAPE -> STRIDED_SLICE -> PACK, folded on the static shapes) and a constant value is one
too: an unrolled Keras recurrent layer's zero initial state."""
import numpy as np

from ..fixedpoint import round_half_away
from . import _common as c

KERNELS = {t: ("mcu_constant", "mcu_constant_params_t") for t in ("int8", "int16", "float32")}
KERNEL_BY_OUTPUT = True  # no input: the output's type picks the kernel
NP_TYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32}


def output_shape(attrs, in_shapes):
    return tuple(np.shape(attrs["data"] if "data" in attrs else attrs["value"])) or (1,)


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs):
    return np.asarray(attrs["value"], np.float32)[None]


def prepare(attrs, ins, out):
    """The constant as the output tensor stores it: a file's own integers, or the float values quantized
    with the output's scale and zero point (rounded half away from zero, clamped)."""
    if "data" in attrs:
        data = np.asarray(attrs["data"])
    elif out.dtype == "float32":
        data = np.asarray(attrs["value"], np.float32)
    else:
        lo, hi = c.QRANGE[out.dtype]
        q = np.asarray(attrs["value"], np.float32) / np.float32(out.scale)
        data = np.clip(out.zero_point + round_half_away(q), lo, hi)
    return dict(size=out.nbytes, data=np.ascontiguousarray(data, NP_TYPES[out.dtype]).reshape(-1))


def int_ref(p):
    return p["data"][None].astype(np.int64)


# -- import ----------------------------------------------------------------------------------------------------
def tflite_fill(imp, k, op):
    dims, value = imp.const(op.Inputs(0)), imp.const(op.Inputs(1))
    if dims is None or value is None or value.size != 1:
        imp.fail(k, "FILL needs a constant (or static) shape and a constant scalar value")
    shape = tuple(int(d) for d in dims.reshape(-1))
    if shape != imp.shape(op.Outputs(0)):
        imp.fail(k, f"FILL of shape {list(shape)}, but its output tensor is {list(imp.shape(op.Outputs(0)))}")
    data = np.full(shape, value.reshape(-1)[0])
    if imp.float_model:
        imp.emit(k, "constant", [], [op.Outputs(0)], value=data.astype(np.float32))
    else:
        imp.emit(k, "constant", [], [op.Outputs(0)], data=data)


TFLITE = {"FILL": tflite_fill}
