"""Reshape, Flatten, Squeeze, Unsqueeze (TFLite: RESHAPE, SQUEEZE, EXPAND_DIMS), and transposes that move only
size-1 axes: same bytes, new shape.
An alias: the planner gives the output the input's memory, the emitter emits no call."""
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
    shape = tuple(int(d) for d in imp.sg.Tensors(op.Outputs(0)).ShapeAsNumpy())
    imp.emit(k, "reshape", [op.Inputs(0)], [op.Outputs(0)], shape=shape)


ONNX = {"Reshape": onnx_reshape, "Flatten": onnx_reshape, "Squeeze": onnx_reshape, "Unsqueeze": onnx_reshape}
TFLITE = {"RESHAPE": tflite_reshape, "SQUEEZE": tflite_reshape, "EXPAND_DIMS": tflite_reshape}
