"""Reshape, Flatten, Squeeze, Unsqueeze (TFLite: RESHAPE, SQUEEZE, EXPAND_DIMS), and transposes that move only
size-1 axes: same bytes, new shape.
An alias: the planner gives the output the input's memory, the emitter emits no call."""
import numpy as np

ALIAS = True
SAME_QUANT_AS_INPUT = True


def output_shape(attrs, in_shapes):
    return tuple(attrs["shape"])


def macs(attrs, in_shapes, out_shape):
    return 0


def float_ref(attrs, x):
    return x.reshape((x.shape[0],) + tuple(attrs["shape"]))


def prepare(attrs, ins, out):
    return dict(shape=list(out.shape))


def int_ref(p, x):
    return x.reshape((x.shape[0],) + tuple(p["shape"]))


# -- import ----------------------------------------------------------------------------------------------------
def onnx_reshape(imp, node, a):
    imp.emit("reshape", [imp.x(node)], [imp.output(node)], node, shape=imp.shapes[node.output[0]])


def tflite_reshape(imp, k, op):
    """The output tensor's static shape; where the file leaves dimensions of it open (a Keras Reshape of an open
    batch), RESHAPE's shape input (a constant or folded shape arithmetic, one -1 resolved) or EXPAND_DIMS' axis
    on the input's shape decides them."""
    shape, x = imp.shape(op.Outputs(0)), imp.shape(op.Inputs(0))
    second = imp.const(op.Inputs(1)) if imp.open_dims(op.Outputs(0)) and op.InputsLength() > 1 else None
    if second is not None and imp.op_name(k) == "EXPAND_DIMS" and second.size == 1:
        axis = int(second.reshape(-1)[0])
        axis += len(x) + 1 if axis < 0 else 0
        shape = x[:axis] + (1,) + x[axis:]
    elif second is not None and imp.op_name(k) == "RESHAPE" and list(second.reshape(-1)).count(-1) <= 1:
        shape = [int(d) for d in second.reshape(-1)]
        if -1 in shape:
            shape[shape.index(-1)] = int(np.prod(x)) // max(1, -int(np.prod(shape)))
        shape = tuple(shape)
    imp.emit(k, "reshape", [op.Inputs(0)], [op.Outputs(0)], shape=shape)


ONNX = {"Reshape": onnx_reshape, "Flatten": onnx_reshape, "Squeeze": onnx_reshape, "Unsqueeze": onnx_reshape}
TFLITE = {"RESHAPE": tflite_reshape, "SQUEEZE": tflite_reshape, "EXPAND_DIMS": tflite_reshape}
