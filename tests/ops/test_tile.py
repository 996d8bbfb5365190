"""TILE / ONNX Tile along every axis: the imported float graph vs onnxruntime, the C copy vs its twin and
numpy.tile for every element size, a .tflite TILE through the tool (TFLM has no TILE kernel: its semantics are
TFLite's, a copy, exact by construction), and the Keras UpSampling form (Tile of an NCHW map) with the layout
transposes cancelled."""
import numpy as np
import pytest
import tflite
from helpers import copy_kernel_checks, float_graph_equals_onnxruntime, onnx_model, rand_int8
from onnx import helper
from tflite16 import const_t, int8_t, one_op_model, run_imported

from mcu_codegen.ops import tile

CASES = [((1, 3, 4, 2), (1, 2, 3, 1)), ((1, 3, 4, 2), (1, 1, 1, 3)), ((2, 3), (3, 1)), ((5,), (4,)),
         ((1, 2, 1, 2, 3), (1, 1, 4, 2, 1)), ((1, 3, 4, 2), (1, 1, 1, 1))]


@pytest.mark.parametrize("shape,multiples", CASES)
def test_c_equals_int_ref_every_element_size(run_kernel, shape, multiples):
    out_shape = tile.output_shape(dict(multiples=multiples), [shape])
    copy_kernel_checks(run_kernel, tile, dict(multiples=multiples), shape, out_shape, lambda x: np.tile(x, multiples),
                       -100)


@pytest.mark.parametrize("shape,multiples", [((1, 3, 4, 2), (1, 2, 3, 1)), ((2, 3), (3, 2))])
def test_onnx_tile_float_graph_equals_onnxruntime(tmp_path, shape, multiples):
    model = onnx_model([helper.make_node("Tile", ["x", "r"], ["y"])], [("x", list(shape))], [("y", None)],
                       {"r": np.array(multiples, np.int64)}, 13)
    x = np.random.default_rng(1).normal(0, 1, shape).astype(np.float32)
    conv = float_graph_equals_onnxruntime(model, x, tmp_path)
    assert [n.op for n in conv.graph.nodes] == ["tile"]


def test_tile_of_an_nchw_map_through_the_tool(tmp_path):
    """Conv -> Tile (H x2, W x3) -> Conv: the tile runs on the NHWC map between the convs."""
    from helpers import through_the_tool
    rng = np.random.default_rng(2)
    inits = {"w0": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 4, 3, 3)).astype(np.float32),
             "r": np.array([1, 1, 2, 3], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Tile", ["c", "r"], ["t"]),
             helper.make_node("Conv", ["t", "w1"], ["y"], kernel_shape=[3, 3])]
    model = onnx_model(nodes, [("x", [1, 3, 5, 4])], [("y", [1, 2, 4, 4])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 5, 4)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8"))
    assert ops == ["transpose", "conv2d", "tile", "conv2d", "transpose"], ops


def test_tflite_tile_through_the_tool():
    """TFLM has no TILE kernel; the file's TILE through the whole tool equals numpy.tile on its int8 values."""
    shape, multiples = (1, 2, 3, 4), (1, 3, 2, 1)
    out_shape = tuple(n * m for n, m in zip(shape, multiples))
    model = one_op_model(tflite.BuiltinOperator.TILE, tflite.BuiltinOptions.TileOptions, lambda b: None,
                         [int8_t(shape, 0.1, 5), const_t(multiples), int8_t(out_shape, 0.1, 5)], 1)
    data = rand_int8(np.random.default_rng(3), (4,) + shape)
    got = run_imported(model, [data], "int8")
    np.testing.assert_array_equal(got.reshape((4,) + out_shape), np.tile(data, (1,) + multiples))


def test_upsampling_as_reshape_tile_reshape_through_the_tool(tmp_path):
    """The exporters' nearest upsampling without Resize: Reshape to (1, C, H, 1, W, 1), Tile by (1, 1, 1, 2, 1, 2),
    Reshape to (1, C, 2H, 2W), between two convs: rewritten to a resize_nearest on the NHWC map (passes.py), no
    transpose left between the convs; a tile that is no such pattern (here by 3 along C too) stays a 6-D tile
    between layout transposes."""
    from helpers import through_the_tool
    rng = np.random.default_rng(4)
    inits = {"w0": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 4, 3, 3)).astype(np.float32),
             "s6": np.array([1, 4, 3, 1, 4, 1], np.int64), "r": np.array([1, 1, 1, 2, 1, 2], np.int64),
             "s4": np.array([1, 4, 6, 8], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Reshape", ["c", "s6"], ["c6"]), helper.make_node("Tile", ["c6", "r"], ["t6"]),
             helper.make_node("Reshape", ["t6", "s4"], ["u"]),
             helper.make_node("Conv", ["u", "w1"], ["y"], kernel_shape=[3, 3])]
    model = onnx_model(nodes, [("x", [1, 3, 5, 6])], [("y", [1, 2, 4, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 5, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8"))
    assert ops == ["transpose", "conv2d", "resize_nearest", "conv2d", "transpose"], ops
    inits.update(r=np.array([1, 3, 1, 2, 1, 2], np.int64), s4=np.array([1, 12, 6, 8], np.int64),
                 w1=rng.normal(0, 0.5, (2, 12, 3, 3)).astype(np.float32))
    model = onnx_model(nodes, [("x", [1, 3, 5, 6])], [("y", [1, 2, 4, 6])], inits, 13)
    (tmp_path / "other").mkdir()
    ops = through_the_tool(model, x, tmp_path / "other", modes=("int8",))
    assert "tile" in ops and "resize_nearest" not in ops and ops.count("transpose") == 4, ops
