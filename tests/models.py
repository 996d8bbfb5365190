"""Small ONNX models built in the tests, in the PyTorch / tflite2onnx export style (NCHW, Gemm, Flatten)."""
import numpy as np
from helpers import onnx_model
from onnx import helper


def nchw_cnn(opset=11, seed=0):
    """Conv+BN+Relu, MaxPool, depthwise Conv with asymmetric pads + Clip(0,6), 1x1 Conv, residual Add + Relu,
    AveragePool, Flatten of a 2x2 map (a real NCHW flatten), Gemm(transB), Dropout, Softmax."""
    rng = np.random.default_rng(seed)

    def w(*shape, s=0.3):
        return rng.normal(0, s, shape).astype(np.float32)

    inits = {
        "c1_w": w(8, 3, 3, 3), "c1_b": w(8, s=0.1),
        "bn_g": rng.uniform(0.5, 1.5, 8).astype(np.float32), "bn_b": w(8, s=0.1), "bn_m": w(8, s=0.1),
        "bn_v": rng.uniform(0.5, 2, 8).astype(np.float32),
        "dw_w": w(8, 1, 3, 3), "dw_b": w(8, s=0.1),
        "pw_w": w(8, 8, 1, 1), "pw_b": w(8, s=0.1),
        "clip_lo": np.array(0.0, np.float32), "clip_hi": np.array(6.0, np.float32),
        "fc_w": w(10, 32, s=0.2), "fc_b": w(10, s=0.1),
    }
    nodes = [
        helper.make_node("Conv", ["x", "c1_w", "c1_b"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_g", "bn_b", "bn_m", "bn_v"], ["bn"], name="bn1"),
        helper.make_node("Relu", ["bn"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "dw_w", "dw_b"], ["dw"], name="dw", kernel_shape=[3, 3], group=8,
                         pads=[0, 0, 1, 1], strides=[2, 2]),
        helper.make_node("Clip", ["dw", "clip_lo", "clip_hi"], ["r2"], name="relu6"),
        helper.make_node("Conv", ["r2", "pw_w", "pw_b"], ["pw"], name="pw", kernel_shape=[1, 1]),
        helper.make_node("Add", ["pw", "r2"], ["sum"], name="residual"),
        helper.make_node("Relu", ["sum"], ["r3"], name="relu3"),
        helper.make_node("AveragePool", ["r3"], ["ap"], name="avgpool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["ap"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
        helper.make_node("Dropout", ["logits"], ["drop"], name="dropout"),
        helper.make_node("Softmax", ["drop"], ["probs"], name="softmax", axis=1),
    ]
    return onnx_model(nodes, [("x", ["N", 3, 16, 16])], [("probs", ["N", 10])], inits, opset)


def unsupported(opset=13):
    """A model with two ops we do not support, for the error path."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1),
        helper.make_node("Erf", ["h"], ["s"], name="gate"),
        helper.make_node("Sin", ["s"], ["y"], name="squash"),
    ]
    return onnx_model(nodes, [("x", [1, 4])], [("y", [1, 4])], {"w": rng.normal(0, 1, (4, 4)).astype(np.float32)},
                      opset)
