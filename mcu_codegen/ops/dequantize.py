"""int8 or int16 -> float32 model output (the C code dequantizes at the edge when --io float32)."""
import numpy as np

from . import quantize

from . import _common as c

KERNELS = {"int8": ("mcu_dequantize_s8_f32", "mcu_quantize_params_t"),
           "int16": ("mcu_dequantize_s16_f32", "mcu_quantize_params_t")}
output_shape = quantize.output_shape
macs = quantize.macs
float_ref = quantize.float_ref


def prepare(attrs, ins, out):
    q_min, q_max = c.QRANGE[ins[0].dtype]
    return dict(size=out.size, scale=np.float32(ins[0].scale), zero_point=ins[0].zero_point, q_min=q_min,
                q_max=q_max)


def overlap_limit(p, index, x, out):
    return c.elementwise_overlap_limit(x, out)  # 4-byte outputs must stay below the inputs not yet read


def int_ref(p, x):
    return (x.astype(np.int64) - p["zero_point"]).astype(np.float32) * np.float32(p["scale"])


# -- import ----------------------------------------------------------------------------------------------------
def tflite_dequantize(imp, k, op):
    if imp.types(op) == ("float16", "float32"):  # a float16 file's constant: folded, no node
        imp.fold_half(k, op)
        return
    if imp.types(op) not in (("int8", "float32"), ("int16", "float32")):
        imp.fail(k, "only int8/int16 -> float32 DEQUANTIZE (at a model output) and float16 constants are supported")
    imp.emit(k, "dequantize", [op.Inputs(0)], [op.Outputs(0)])


TFLITE = {"DEQUANTIZE": tflite_dequantize}
