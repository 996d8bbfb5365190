"""Element-wise add of two activations of the same shape, with TFLite's int8 / int16 ADD arithmetic, or float."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c

KERNELS = {"int8": ("mcu_add_s8", "mcu_add_params_t"), "int16": ("mcu_add_s16", "mcu_add_params_t"),
           "float32": ("mcu_add_f32", "mcu_add_f32_params_t")}
LEFT_SHIFT = {"int8": 20, "int16": 15}  # TFLite's headroom: (x - zp) * 2^shift cannot overflow int32


def output_shape(attrs, in_shapes):
    return tuple(in_shapes[0])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, a, b):
    return c.float_clamp(a + b, attrs)


def prepare(attrs, ins, out):
    act_min, act_max = c.act_range(attrs, out)
    if out.dtype == "float32":
        return dict(size=out.size, act_min=act_min, act_max=act_max)
    left_shift = LEFT_SHIFT[out.dtype]
    s1, s2, so = (float(np.float32(t.scale)) for t in (ins[0], ins[1], out))
    twice_max = 2 * max(s1, s2)
    m1, sh1 = fp.quantize_multiplier(s1 / twice_max)
    m2, sh2 = fp.quantize_multiplier(s2 / twice_max)
    mo, sho = fp.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    c.check_shifts([sh1, sh2, sho])
    return dict(size=out.size, input1_zp=ins[0].zero_point, input2_zp=ins[1].zero_point, output_zp=out.zero_point,
                left_shift=left_shift, input1_mult=m1, input1_shift=sh1, input2_mult=m2, input2_shift=sh2,
                output_mult=mo, output_shift=sho, act_min=act_min, act_max=act_max)


def overlap_limit(p, index, x, out):
    return 0  # element i is written after both inputs' element i is read


def int_ref(p, a, b):
    mbqm = fp.multiply_by_quantized_multiplier
    s1 = mbqm((a.astype(np.int64) - p["input1_zp"]) << p["left_shift"], p["input1_mult"], p["input1_shift"])
    s2 = mbqm((b.astype(np.int64) - p["input2_zp"]) << p["left_shift"], p["input2_mult"], p["input2_shift"])
    y = mbqm(s1 + s2, p["output_mult"], p["output_shift"]) + p["output_zp"]
    return np.clip(y, p["act_min"], p["act_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_add(imp, node, a):
    """An Add of a constant is a bias_add (folded into its producer by passes); of two activations, an add."""
    ins = list(node.input)
    const = [i for i in ins if i in imp.consts]
    if len(const) == 2:
        imp.fail(node, "adding two constants is not supported")
    if const:
        x = imp.tensor(next(i for i in ins if i not in imp.consts), node)
        value = imp.consts[const[0]].astype(np.float32)
        imp.emit("bias_add", [x], [imp.output(node)], node, value=value)
        return
    x, y = (imp.tensor(i, node) for i in ins)
    if imp.graph.tensors[x].shape != imp.graph.tensors[y].shape:
        imp.fail(node, "Add with broadcasting between activations is not supported")
    imp.emit("add", [x, y], [imp.output(node)], node)


def tflite_add(imp, k, op):
    o = imp.options(op, "AddOptions")
    a, b = (imp.sg.Tensors(op.Inputs(i)).ShapeAsNumpy().tolist() for i in (0, 1))
    if a != b:
        imp.fail(k, f"ADD with broadcasting ({a} + {b}) is not supported")
    imp.emit(k, "add", [op.Inputs(0), op.Inputs(1)], [op.Outputs(0)], act=imp.activation_of(o))


ONNX = {"Add": onnx_add}
TFLITE = {"ADD": tflite_add}
