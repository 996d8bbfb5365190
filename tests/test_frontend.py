"""The ONNX frontend's layout and padding handling, through the whole canonical float graph, against onnxruntime."""
import numpy as np
import onnx
import pytest
from helpers import onnx_model, run_onnxruntime
from onnx import helper

from mcu_codegen import frontend, passes, reference


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("stride", [1, 2])
def test_auto_pad_matches_onnxruntime(tmp_path, auto_pad, stride):
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.5, (4, 3, 3, 2)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 2], strides=[stride, stride],
                              auto_pad=auto_pad),
             helper.make_node("MaxPool", ["c"], ["y"], name="pool", kernel_shape=[2, 3], auto_pad=auto_pad)]
    model = onnx_model(nodes, [("x", [1, 3, 7, 6])], [("y", None)], {"w": w}, opset=13)
    onnx.save(model, tmp_path / "m.onnx")
    graph = passes.canonicalize(frontend.load(str(tmp_path / "m.onnx")))
    x = rng.normal(0, 1, (1, 3, 7, 6)).astype(np.float32)
    got = reference.execute(graph, {graph.inputs[0]: x[None]}, integer=False)[graph.outputs[0]][0]
    want = run_onnxruntime(model, {"x": x})[0]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)  # float references: float tolerance


def test_every_op_module_is_found_and_attribute_types_come_from_the_onnx_spec(tmp_path):
    """The importers collect the handlers from the op modules (no per-op entry in either frontend), and an
    attribute of the wrong type is one clear error, whatever op reads it (the type is the ONNX schema's)."""
    import mcu_codegen
    from mcu_codegen import ops, tflite_frontend
    assert {"Conv", "Gemm", "ReduceMean", "Mul", "Sigmoid", "Concat", "Pad", "Relu"} <= set(frontend.HANDLERS)
    codes = {getattr(__import__("tflite").BuiltinOperator, n) for n in ("MEAN", "MUL", "LOGISTIC", "PAD", "RELU")}
    assert codes <= set(tflite_frontend.HANDLERS)
    assert ops.onnx_handlers()["Concat"] is ops.concat.onnx_concat
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)
    node.attribute.append(helper.make_attribute("alpha", 2))  # an int where the spec says float
    model = onnx_model([node], [("x", [1, 4])], [("y", [1, 3])], {"w": np.ones((3, 4), np.float32)})
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(mcu_codegen.ConversionError, match="node 'fc' \\(Gemm\\): attribute 'alpha' is not of type float"):
        frontend.load(str(tmp_path / "m.onnx"))
