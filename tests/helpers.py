"""Builders shared by the tests: single-node ONNX models run by onnxruntime, quantized tensors, random data."""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from mcu_codegen.ir import Tensor
from mcu_codegen.reference import NP_TYPES

NCHW_TO_NHWC, NHWC_TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)


def onnx_model(nodes, inputs, outputs, initializers=(), opset=15):
    """inputs/outputs: [(name, shape)] float32; initializers: {name: array}."""
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in dict(initializers).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def run_onnxruntime(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_single_node(op_type, x_list, attrs=None, initializers=None, out_shape=None, opset=15):
    """One ONNX node on float inputs (and constant initializers); returns its output from onnxruntime."""
    initializers = dict(initializers or {})
    names = [f"x{i}" for i in range(len(x_list))]
    node = helper.make_node(op_type, names + list(initializers), ["y"], **(attrs or {}))
    model = onnx_model([node], [(n, x.shape) for n, x in zip(names, x_list)], [("y", out_shape)],
                       initializers, opset)
    return run_onnxruntime(model, dict(zip(names, x_list)))[0]


def qtensor(shape, scale, zero_point, name="t", dtype="int8"):
    return Tensor(name, tuple(shape), dtype, np.float32(scale), int(zero_point))


def typed(values, t):
    """An integer twin's int64 result (clamped to the type's range) as the tensor's own element type."""
    return np.asarray(values).astype(NP_TYPES[t.dtype])


def rand_int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def dequantize(q, t):
    return (q.astype(np.float32) - t.zero_point) * np.float32(t.scale)


def quantize_like(x, t):
    return np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)


def c_equals_int_ref(run_kernel, mod, params, inputs, out):
    """The C kernel and its NumPy twin on the same int8 inputs (batch of one): equal bit for bit."""
    want = typed(mod.int_ref(params, *[x[None] for x in inputs])[0].reshape(out.shape), out)
    got = run_kernel(mod, params, inputs, out.shape, want.dtype)
    np.testing.assert_array_equal(got, want)
    return got
