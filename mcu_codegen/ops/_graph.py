"""ONNX nodes that are no kernel of their own: passes.py folds them into a neighbour (Relu and Clip into the
producer's clamp, BatchNormalization into the conv before it, or alone a 1x1 depthwise conv), or they vanish
(Identity, Dropout, Constant). Found by the importer like an op module's ONNX table."""
import numpy as np
from onnx import numpy_helper


def onnx_relu(imp, node, a):
    imp.emit("clamp", [imp.x(node)], [imp.output(node)], node, lo=0.0, hi=np.inf)


def onnx_clip(imp, node, a):
    def bound(i, default):
        if len(node.input) > i and node.input[i]:
            value = np.asarray(imp.const(node, node.input[i], "the clip bound"))
            if value.size != 1:
                imp.fail(node, f"a clip bound must be one number, not {value.size}")
            return float(value.reshape(-1)[0])
        return default
    imp.emit("clamp", [imp.x(node)], [imp.output(node)], node, lo=bound(1, -np.inf), hi=bound(2, np.inf))


def onnx_batchnorm(imp, node, a):
    gamma, beta, mean, var = (imp.const(node, i, "the batch norm parameters").astype(np.float64)
                              for i in node.input[1:5])
    scale = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
    x = imp.x(node)
    if len(imp.graph.tensors[x].shape) != 4:
        imp.fail(node, "only 4-D batch normalization is supported")
    imp.nhwc(node, "batchnorm", x, imp.shapes[node.output[0]],
             scale=scale.astype(np.float32), shift=(beta - mean * scale).astype(np.float32))


def onnx_identity(imp, node, a):
    imp.names[node.output[0]] = imp.x(node)


def onnx_constant(imp, node, a):
    value = a.get("value")
    if value is None:
        imp.fail(node, "only Constant nodes with a tensor 'value' are supported")
    imp.consts[node.output[0]] = numpy_helper.to_array(value)


ONNX = {"Relu": onnx_relu, "Clip": onnx_clip, "BatchNormalization": onnx_batchnorm, "Identity": onnx_identity,
        "Dropout": onnx_identity, "Constant": onnx_constant}
