"""Element-wise add of two activations, broadcast as TFLite / NumPy do (any rank up to 6 after merging axes),
with TFLite's int8 / int16 ADD arithmetic, or float. sub.py is the same arithmetic with the second input
subtracted, by the same kernels."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c

KERNELS = {"int8": ("mcu_add_s8", "mcu_add_params_t"), "int16": ("mcu_add_s16", "mcu_add_params_t"),
           "float32": ("mcu_add_f32", "mcu_add_f32_params_t")}
LEFT_SHIFT = {"int8": 20, "int16": 15}  # TFLite's headroom: (x - zp) * 2^shift cannot overflow int32


def output_shape(attrs, in_shapes):
    return c.broadcast_shape(*in_shapes)


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, a, b):
    a, b = c.aligned_pair(a, b)
    return c.float_clamp(a + b, attrs)


def prepare(attrs, ins, out):
    act_min, act_max = c.act_range(attrs, out)
    geometry = c.broadcast_fields(ins[0].shape, ins[1].shape, out.shape)
    if out.dtype == "float32":
        return dict(size=out.size, act_min=act_min, act_max=act_max, subtract=0, **geometry)
    left_shift = LEFT_SHIFT[out.dtype]
    s1, s2, so = (float(np.float32(t.scale)) for t in (ins[0], ins[1], out))
    twice_max = 2 * max(s1, s2)
    m1, sh1 = fp.quantize_multiplier(s1 / twice_max)
    m2, sh2 = fp.quantize_multiplier(s2 / twice_max)
    mo, sho = fp.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    c.check_shifts([sh1, sh2, sho])
    return dict(size=out.size, input1_zp=ins[0].zero_point, input2_zp=ins[1].zero_point, output_zp=out.zero_point,
                left_shift=left_shift, input1_mult=m1, input1_shift=sh1, input2_mult=m2, input2_shift=sh2,
                output_mult=mo, output_shift=sho, act_min=act_min, act_max=act_max, subtract=0, **geometry)


def overlap_limit(p, index, x, out):
    return c.broadcast_overlap_limit(x, out)


def variants(p, dtype):
    """int8 without broadcasting (ADD and SUB): the same integers in fewer instructions (portable) and four
    lanes at a time (Helium)."""
    if dtype == "int8" and p["rank"] == 0:
        return c.isa_forms("mcu_add_fast_s8", None, "mcu_add_mve_s8")
    return None


def int_ref(p, a, b):
    """subtract=1 in the params: TFLite's SUB (the same scaling, the second input subtracted)."""
    sign = -1 if p.get("subtract") else 1
    a, b = c.aligned_pair(a, b)
    mbqm = fp.multiply_by_quantized_multiplier
    s1 = mbqm((a.astype(np.int64) - p["input1_zp"]) << p["left_shift"], p["input1_mult"], p["input1_shift"])
    s2 = mbqm((b.astype(np.int64) - p["input2_zp"]) << p["left_shift"], p["input2_mult"], p["input2_shift"])
    y = mbqm(s1 + sign * s2, p["output_mult"], p["output_shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_add(imp, node, a):
    """An Add of a constant is a bias_add (folded into its producer by passes); of two activations, an add."""
    x, value, _ = imp.constant_operand(node)
    if value is not None:
        imp.emit("bias_add", [x], [imp.output(node)], node, value=value)
        return
    imp.binary(node, "add")


def tflite_add(imp, k, op):
    imp.binary(k, op, "add", imp.options(op, "AddOptions"))


ONNX = {"Add": onnx_add}
TFLITE = {"ADD": tflite_add}
