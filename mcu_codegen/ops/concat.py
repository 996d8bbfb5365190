"""Concatenation of any number of activations along any axis (TFLite CONCATENATION, ONNX Concat). TFLM's int8
kernel is a copy: it requires every input to have the output's scale and zero point, as TFLite's converter
gives them, and for those inputs ours is a copy too. A calibrated model gives each input its own range, so an
input whose quantization differs is requantized on the way: (x - zp_i) * scale_i / scale_out by a 32-bit
multiplier (double rounding) + output_zp, clamped. The kernel takes its inputs as an array of pointers; a
constant input is a constant node's output (ops/constant.py)."""
import numpy as np

from .. import fixedpoint as fp
from . import _common as c

KERNELS = {"int8": ("mcu_concat_s8", "mcu_concat_params_t"), "int16": ("mcu_concat_s16", "mcu_concat_params_t"),
           "float32": ("mcu_concat_f32", "mcu_concat_params_t")}
INPUTS_AS_ARRAY = True  # the C kernel reads `const T *const inputs[count]`


def output_shape(attrs, in_shapes):
    axis = attrs["axis"]
    first = tuple(in_shapes[0])
    for s in in_shapes[1:]:
        if len(s) != len(first) or any(a != b for i, (a, b) in enumerate(zip(s, first)) if i != axis):
            raise ValueError(f"shapes {[list(x) for x in in_shapes]} do not concatenate along axis {axis}")
    return first[:axis] + (sum(s[axis] for s in in_shapes),) + first[axis + 1:]


def macs(attrs, in_shapes, out_shape):
    return 0


def _same_batch(xs):
    """A constant input's reference value is one sample (batch 1): repeated to the others' batch."""
    n = max(x.shape[0] for x in xs)
    return [np.broadcast_to(x, (n,) + x.shape[1:]) for x in xs]


def float_ref(attrs, *xs):
    return np.concatenate(_same_batch(xs), axis=attrs["axis"] + 1)


def prepare(attrs, ins, out):
    axis = attrs["axis"]
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = int(np.prod(out.shape[axis + 1:], dtype=np.int64))
    p = dict(count=len(ins), outer=outer, chunk=np.array([t.shape[axis] * inner for t in ins], np.int32))
    zeros = np.zeros(len(ins), np.int32)
    if out.dtype == "float32":  # a copy: the quantization fields stay zero
        return dict(p, requantize=zeros, input_zp=zeros, mult=zeros, shift=zeros, output_zp=0, q_min=0, q_max=0)
    out_scale = float(np.float32(out.scale))
    copy = [(np.float32(t.scale), t.zero_point) == (np.float32(out_scale), out.zero_point) for t in ins]
    pairs = [(0, 0) if same else fp.quantize_multiplier(float(np.float32(t.scale)) / out_scale)
             for t, same in zip(ins, copy)]
    c.check_shifts([s for _, s in pairs])
    q_min, q_max = c.QRANGE[out.dtype]
    return dict(p, requantize=np.array([not same for same in copy], np.int32),
                input_zp=np.array([t.zero_point for t in ins], np.int32),
                mult=np.array([m for m, _ in pairs], np.int32), shift=np.array([s for _, s in pairs], np.int32),
                output_zp=out.zero_point, q_min=q_min, q_max=q_max)


def int_ref(p, *xs):
    parts = []
    for k, x in enumerate(_same_batch(xs)):
        v = x.reshape(x.shape[0], p["outer"], p["chunk"][k]).astype(np.int64)
        if p["requantize"][k]:
            v = np.clip(fp.multiply_by_quantized_multiplier(v - p["input_zp"][k], p["mult"][k], p["shift"][k])
                        + p["output_zp"], p["q_min"], p["q_max"])
        parts.append(v)
    return np.concatenate(parts, axis=2)


# -- import ----------------------------------------------------------------------------------------------------
def onnx_concat(imp, node, a):
    xs = [imp.operand(node, name) for name in node.input]
    rank = len(imp.graph.tensors[xs[0]].shape)
    axis = a.get("axis", 0)
    if not -rank <= axis < rank:
        imp.fail(node, f"axis {axis} out of range for rank {rank}")
    imp.emit("concat", xs, [imp.output(node)], node, axis=axis % rank)


def tflite_concatenation(imp, k, op):
    o = imp.options(op, "ConcatenationOptions")
    if imp.activation_of(o) is not None:
        imp.fail(k, "a fused activation on CONCATENATION is not supported")
    ins = imp.operands(k, [op.Inputs(i) for i in range(op.InputsLength())])
    rank = imp.sg.Tensors(ins[0]).ShapeLength()
    if not -rank <= o.Axis() < rank:
        imp.fail(k, f"axis {o.Axis()} out of range for rank {rank}")
    imp.emit(k, "concat", ins, [op.Outputs(0)], axis=o.Axis() % rank)


ONNX = {"Concat": onnx_concat}
TFLITE = {"CONCATENATION": tflite_concatenation}
