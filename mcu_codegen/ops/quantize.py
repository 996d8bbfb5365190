"""float32 model input -> int8 or int16 (the C code quantizes at the edge when --io float32)."""
import numpy as np

from .. import fixedpoint as fp

from . import _common as c

KERNELS = {"int8": ("mcu_quantize_f32_s8", "mcu_quantize_params_t"),
           "int16": ("mcu_quantize_f32_s16", "mcu_quantize_params_t")}
KERNEL_BY_OUTPUT = True  # the kernel is chosen by the integer type it produces


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return x


def prepare(attrs, ins, out):
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(size=out.size, scale=np.float32(out.scale), zero_point=out.zero_point, q_min=q_min, q_max=q_max)


def overlap_limit(p, index, x, out):
    return 0  # 4-byte element i is read before 1-byte element i is written


def int_ref(p, x):
    # mcu_quantize_value: float32 division, clamp, rounding exactly as C's truncate-and-compare
    q = np.asarray(x, dtype=np.float32) / np.float32(p["scale"])
    q = np.where(q > -100000.0, q, np.float32(-100000.0))  # NaN lands here, as in C
    q = np.where(q < 100000.0, q, np.float32(100000.0))
    rounded = fp.round_half_away(q).astype(np.int64)
    return np.clip(rounded + p["zero_point"], p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def tflite_quantize(imp, k, op):
    """float32 -> int8/int16 at a model input, int8 <-> int16 between precisions (a requantize), or int8 -> int8
    and int16 -> int16 to another scale: TFLM's Requantize is relu.py's arithmetic without a clamp."""
    kind = {("float32", "int8"): "quantize", ("float32", "int16"): "quantize",
            ("int8", "int16"): "requantize", ("int16", "int8"): "requantize",
            ("int8", "int8"): "relu", ("int16", "int16"): "relu"}.get(imp.types(op))
    if kind is None:
        imp.fail(k, "only float32 -> int8/int16 and int8/int16 -> int8/int16 QUANTIZE are supported")
    imp.emit(k, kind, [op.Inputs(0)], [op.Outputs(0)], **({"act": None} if kind == "relu" else {}))


TFLITE = {"QUANTIZE": tflite_quantize}
