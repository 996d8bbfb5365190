"""Element-wise maximum of two activations (TFLite MAXIMUM, ONNX Max of two inputs), broadcast as add / mul are
(_common.broadcast_fields). TFLM compares the raw integers, its inputs and output sharing one quantization
(required of a .tflite: tflite_max); a calibrated model's inputs have their own, so each input is
requantized to the output's scale first (input_scale / output_scale, 32-bit multiplier, double rounding: the
identity, exactly, when they share it), then compared. minimum.py is the same kernels with minimum = 1."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c
from . import add

KERNELS = {"int8": ("mcu_maximum_s8", "mcu_maximum_params_t"), "int16": ("mcu_maximum_s16", "mcu_maximum_params_t"),
           "float32": ("mcu_maximum_f32", "mcu_maximum_f32_params_t")}
output_shape, overlap_limit = add.output_shape, add.overlap_limit


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, a, b):
    a, b = c.aligned_pair(a, b)
    return (np.minimum(a, b) if attrs.get("minimum") else np.maximum(a, b)).astype(np.float32)


def prepare(attrs, ins, out):
    geometry = c.broadcast_fields(ins[0].shape, ins[1].shape, out.shape)
    minimum = int(bool(attrs.get("minimum")))
    if out.dtype == "float32":
        return dict(size=out.size, minimum=minimum, **geometry)
    (m1, sh1), (m2, sh2) = (fp.quantize_multiplier(float(np.float32(t.scale)) / float(np.float32(out.scale)))
                            for t in ins[:2])
    c.check_shifts([sh1, sh2])
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(size=out.size, input1_zp=ins[0].zero_point, input2_zp=ins[1].zero_point, output_zp=out.zero_point,
                input1_mult=m1, input1_shift=sh1, input2_mult=m2, input2_shift=sh2, q_min=q_min, q_max=q_max,
                minimum=minimum, **geometry)


def int_ref(p, a, b):
    a, b = c.aligned_pair(a, b)
    mbqm = fp.multiply_by_quantized_multiplier
    y1 = mbqm(a.astype(np.int64) - p["input1_zp"], p["input1_mult"], p["input1_shift"])
    y2 = mbqm(b.astype(np.int64) - p["input2_zp"], p["input2_mult"], p["input2_shift"])
    y = np.minimum(y1, y2) if p["minimum"] else np.maximum(y1, y2)
    return np.clip(y + p["output_zp"], p["q_min"], p["q_max"])


# -- import ----------------------------------------------------------------------------------------------------
def onnx_max(imp, node, a, minimum=False):
    """ONNX Max / Min of one input (an identity) or two (a constant one becomes a constant node); more inputs,
    a chain of two-input nodes is not built: refused."""
    present = [i for i in node.input if i]
    if len(present) == 1:
        imp.names[node.output[0]] = imp.x(node)
        return
    if len(present) != 2:
        imp.fail(node, f"{node.op_type} of {len(present)} inputs is not supported (two at most)")
    if all(i in imp.consts for i in present):
        imp.fail(node, f"{node.op_type} of two constants is not supported")
    imp.emit("minimum" if minimum else "maximum", [imp.operand(node, i) for i in present], [imp.output(node)], node,
             minimum=minimum)


def tflite_max(imp, k, op, minimum=False):
    """TFLM compares raw integers: refused unless both inputs have the output's quantization."""
    ins = imp.operands(k, (op.Inputs(0), op.Inputs(1)))
    (s_out, z_out) = imp.quant(op.Outputs(0))
    for i in ins:
        s, z = imp.quant(i)
        if s is None or s_out is None or (np.float32(s[0]), z[0]) != (np.float32(s_out[0]), z_out[0]):
            imp.fail(k, "inputs quantized unlike the output are not supported (TFLM compares the raw integers)")
    imp.emit(k, "minimum" if minimum else "maximum", ins, [op.Outputs(0)], minimum=minimum)


ONNX = {"Max": onnx_max}
TFLITE = {"MAXIMUM": tflite_max}
