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
