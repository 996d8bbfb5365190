"""The ONNX-level canonicalization (mcu_codegen/onnx_passes.py), each pass on the pattern the exporters write:
torch's shape arithmetic before a Reshape, 1-D layers (Conv1d, BatchNorm1d, MaxPool1d / AvgPool1d,
GlobalAveragePool over one axis), old opsets; and the IR pass that moves Squeeze / Unsqueeze aliases above layout
transposes (tf2onnx's Conv1D). The float graph after import and canonicalize must compute what onnxruntime
computes on the original file."""
import numpy as np
import onnx
import pytest
from onnx import helper

import mcu_codegen
from exporter_models import MODELS, data
from helpers import onnx_model, run_onnxruntime
from mcu_codegen import reference

rng = np.random.default_rng(5)


def float_graph(path):
    return mcu_codegen.Converter.from_onnx(path).graph


def float_outputs(graph, x):
    out = reference.execute(graph, {graph.inputs[0]: x}, integer=False)
    return [out[o] for o in graph.outputs]


def assert_matches_onnxruntime(path_or_model, x, tmp_path=None, atol=1e-4):
    if isinstance(path_or_model, onnx.ModelProto):
        path = tmp_path / "model.onnx"
        onnx.save(path_or_model, path)
    else:
        path = path_or_model
    model = onnx.load(path)
    g = float_graph(path)
    name = model.graph.input[0].name
    want = [np.concatenate(r) for r in zip(*(run_onnxruntime(model, {name: x[i:i + 1]}) for i in range(len(x))))]
    got = float_outputs(g, x.reshape((len(x),) + g.tensors[g.inputs[0]].shape))
    for w, y in zip(want, got):
        np.testing.assert_allclose(y.reshape(w.shape), w, rtol=1e-4, atol=atol)  # float: summation order differs
    return g


def ops_of(graph):
    return [n.op for n in graph.nodes]


def test_torch_view_shape_arithmetic_folds():
    """LeNet's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape, with a dynamic batch."""
    path = MODELS / "torch_lenet_view.onnx"
    assert {"Shape", "Gather", "Unsqueeze", "Concat"} <= {n.op_type for n in onnx.load(path).graph.node}
    g = assert_matches_onnxruntime(path, data(path)["input"][:8])
    assert ops_of(g).count("fully_connected") == 2 and "transpose" not in ops_of(g)  # the flatten permutes weights


def test_shape_cast_constantofshape_fold(tmp_path):
    """The rest of the arithmetic torch writes: Cast of a shape, ConstantOfShape, arithmetic on shapes."""
    x_shape = [1, 4, 3, 2]
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Cast", ["s"], ["sf"], to=onnx.TensorProto.FLOAT),
             helper.make_node("Cast", ["sf"], ["si"], to=onnx.TensorProto.INT64),
             helper.make_node("Gather", ["si", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
             helper.make_node("ConstantOfShape", ["one"], ["minus"],
                              value=helper.make_tensor("v", onnx.TensorProto.INT64, [1], [-1])),
             helper.make_node("Concat", ["n1", "minus"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["flat"]),
             helper.make_node("Gemm", ["flat", "w"], ["y"], transB=1)]
    model = onnx_model(nodes, [("x", x_shape)], [("y", [1, 5])],
                       {"zero": np.array(0, np.int64), "axes0": np.array([0], np.int64),
                        "one": np.array([1], np.int64), "w": rng.normal(size=(5, 24)).astype(np.float32)}, opset=13)
    g = assert_matches_onnxruntime(model, rng.normal(size=(4, *x_shape[1:])).astype(np.float32), tmp_path)
    assert ops_of(g) == ["reshape", "fully_connected"] or ops_of(g) == ["fully_connected"]


def _conv1d_model(opset=13):
    """Conv1d -> BatchNorm1d (not folded by the exporter) -> Relu -> MaxPool1d -> Conv1d (dilated, padded) ->
    AvgPool1d -> Add of a per-channel constant -> GlobalAveragePool over L -> Flatten -> Gemm."""
    c = 8
    w1, w2 = rng.normal(0, 0.4, (c, 3, 5)).astype(np.float32), rng.normal(0, 0.3, (c, c, 3)).astype(np.float32)
    bn = dict(gamma=rng.uniform(0.5, 1.5, c), beta=rng.normal(0, 0.1, c), mean=rng.normal(0, 0.2, c),
              var=rng.uniform(0.5, 2, c))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], kernel_shape=[5], pads=[2, 2]),
             helper.make_node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["b1"]),
             helper.make_node("Relu", ["b1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2]),
             helper.make_node("Conv", ["p1", "w2"], ["c2"], kernel_shape=[3], pads=[2, 2], dilations=[2]),
             helper.make_node("AveragePool", ["c2"], ["p2"], kernel_shape=[2], strides=[2]),
             helper.make_node("Add", ["p2", "shift"], ["a"]),
             helper.make_node("GlobalAveragePool", ["a"], ["gap"]),
             helper.make_node("Flatten", ["gap"], ["f"]),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1)]
    inits = dict(w1=w1, w2=w2, shift=rng.normal(size=(c, 1)).astype(np.float32), b3=np.zeros(4, np.float32),
                 w3=rng.normal(size=(4, c)).astype(np.float32), **{k: v.astype(np.float32) for k, v in bn.items()})
    return onnx_model(nodes, [("x", [1, 3, 32])], [("y", [1, 4])], inits, opset=opset)


def test_1d_layers_run_as_2d(tmp_path):
    g = assert_matches_onnxruntime(_conv1d_model(), rng.normal(size=(6, 3, 32)).astype(np.float32), tmp_path)
    assert ops_of(g).count("conv2d") == 2 and "max_pool" in ops_of(g) and "avg_pool" in ops_of(g)
    assert ops_of(g).count("transpose") == 1  # the NCL input's, as for an NCHW input; none between layers


def test_1d_graph_output_keeps_its_rank(tmp_path):
    """A lifted tensor that is a graph output comes back as 3-D, under its own name."""
    w = rng.normal(size=(4, 2, 3)).astype(np.float32)
    model = onnx_model([helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3]),
                        helper.make_node("Relu", ["c"], ["y"])], [("x", [1, 2, 10])], [("y", [1, 4, 8])], {"w": w},
                       opset=13)
    g = assert_matches_onnxruntime(model, rng.normal(size=(3, 2, 10)).astype(np.float32), tmp_path)
    assert g.tensors[g.outputs[0]].shape == (1, 4, 8) and g.tensors[g.outputs[0]].source == "y"


@pytest.mark.parametrize("opset", [9, 10])
def test_old_opsets_upgrade(tmp_path, opset):
    """Hand-made at opset 9 / 10 (Unsqueeze and Squeeze with axes attributes, Upsample-era ops): upgraded by
    onnx's version converter, then the same graph as at opset 13."""
    g = assert_matches_onnxruntime(_conv1d_model(opset), rng.normal(size=(4, 3, 32)).astype(np.float32), tmp_path)
    assert ops_of(g).count("conv2d") == 2


def test_torch_old_opsets_convert_to_the_same_c():
    """torch.onnx.export(opset_version=9) of the model that is also exported at 13: the same generated files."""
    def files(name):
        conv = mcu_codegen.Converter.from_onnx(MODELS / name)
        conv.representative_dataset = [data(MODELS / "torch_cnn_bn.onnx")]
        return conv.convert().files["model.c"].replace(name, "MODEL")  # the header names the file
    assert files("torch_cnn_bn_opset9.onnx") == files("torch_cnn_bn.onnx")


def test_tf2onnx_conv1d_transposes_cancel():
    """tf2onnx writes Conv1D as Unsqueeze -> Transpose -> Conv -> Transpose -> Squeeze: with the aliases moved
    above the transposes, no transpose is left, every Relu fuses into its convolution, and the causal Pads
    (moved below the Unsqueeze) fold into the convolutions' padding."""
    path = MODELS / "keras_tcn_imu.onnx"
    g = assert_matches_onnxruntime(path, data(path)["input"][:6])
    assert not {"transpose", "relu", "pad"} & set(ops_of(g))


def test_tflite_conv1d_pads_fold():
    """The TFLite converter's Conv1D: PAD -> EXPAND_DIMS -> CONV_2D; the pad folds (bit-exact: test_exporter_models)."""
    g = mcu_codegen.Converter.from_tflite(MODELS / "keras_tcn_imu_int8.tflite").graph
    assert "pad" not in ops_of(g) and ops_of(g).count("conv2d") == 4


def test_a_huge_constant_is_not_computed(tmp_path):
    """A hostile ConstantOfShape of 2^40 elements: its size is known before evaluating, so it stays a node and
    the importer refuses it in one line (nothing is allocated)."""
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"],
                              value=helper.make_tensor("v", onnx.TensorProto.FLOAT, [1], [1.0])),
             helper.make_node("Add", ["x", "big"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 1])], [("y", None)], {"shape": np.array([1 << 40], np.int64)}, opset=13)
    onnx.save(model, tmp_path / "huge.onnx")
    with pytest.raises(mcu_codegen.ConversionError) as e:
        mcu_codegen.Converter.from_onnx(tmp_path / "huge.onnx")
    assert "huge.onnx" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_gemm_with_a_computed_c_becomes_gemm_and_add(tmp_path, beta):
    """tf2onnx's LSTM cell (an ONNX Loop's body) adds h R as the C of Gemm(x, W): a C that is no constant becomes
    an Add of beta C after the Gemm (the importer's Gemm takes a constant C only)."""
    b, w2 = rng.normal(0, 1, (3, 4)).astype(np.float32), rng.normal(0, 1, (4, 3)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w2"], ["m"]), helper.make_node("Sigmoid", ["m"], ["c"]),
             helper.make_node("Gemm", ["x", "b", "c"], ["y"], alpha=0.7, beta=beta, transB=1)]
    model = onnx_model(nodes, [("x", [1, 4])], [("y", [1, 3])], {"b": b, "w2": w2})
    assert_matches_onnxruntime(model, rng.normal(0, 1, (8, 4)).astype(np.float32), tmp_path)
    onnx.save(model, tmp_path / "model.onnx")
    ops = [n.op for n in float_graph(tmp_path / "model.onnx").nodes]
    assert "add" in ops and ops.count("fully_connected") == 2
