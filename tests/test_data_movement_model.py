"""One small branched ONNX model with several outputs through the data-movement ops (Split into two branches,
one of them a graph output as it is; Resize nearest, strided Slice, Gather of channels, Tile, Concat): the float
graph equals onnxruntime, every output of the C equals the reference bit for bit in int8 and 16x8 (float32
within float rounding), the layout transposes cancel through the copies, the int8 C is clean under clang
-Weverything and gcc's sanitizers, and the int8 build equals the host build on an emulated Cortex-M0+."""
import numpy as np
import onnx
import pytest
from helpers import onnx_model, run_onnxruntime
from onnx import helper

import mcu_codegen
from mcu_codegen.reference import execute

OUTPUTS = [("y0", [1, 4, 4, 8]), ("y1", [1, 4, 8, 8]), ("a", [1, 2, 8, 8])]


def branched_model(outputs=OUTPUTS):
    rng = np.random.default_rng(0)
    i64 = np.int64
    inits = {"w0": rng.normal(0, 0.5, (6, 3, 3, 3)).astype(np.float32), "b0": rng.normal(0, 0.1, 6).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 3, 1, 1)).astype(np.float32), "split": np.array([2, 4], i64),
             "roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 2], np.float32),
             "s_starts": np.array([1, 1], i64), "s_ends": np.array([16, 16], i64), "s_axes": np.array([2, 3], i64),
             "s_steps": np.array([2, 2], i64), "idx": np.array([3, 0, 1], i64), "h_starts": np.array([2], i64),
             "h_ends": np.array([-2], i64), "h_axes": np.array([2], i64), "w_starts": np.array([0], i64),
             "w_ends": np.array([4], i64), "w_axes": np.array([3], i64), "reps": np.array([1, 1, 1, 2], i64)}
    nodes = [helper.make_node("Conv", ["x", "w0", "b0"], ["c"], name="conv0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Split", ["c", "split"], ["a", "b"], name="split", axis=1),
             helper.make_node("Resize", ["a", "roi", "scales"], ["up"], name="up", mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             helper.make_node("Slice", ["up", "s_starts", "s_ends", "s_axes", "s_steps"], ["down"], name="down"),
             helper.make_node("Gather", ["b", "idx"], ["g"], name="gather", axis=1),
             helper.make_node("Conv", ["g", "w1"], ["g1"], name="conv1", kernel_shape=[1, 1]),
             helper.make_node("Concat", ["down", "g1"], ["cat"], name="concat", axis=1),
             helper.make_node("Slice", ["cat", "h_starts", "h_ends", "h_axes"], ["y0"], name="rows"),
             helper.make_node("Slice", ["b", "w_starts", "w_ends", "w_axes"], ["bw"], name="cols"),
             helper.make_node("Tile", ["bw", "reps"], ["y1"], name="tile")]
    return onnx_model(nodes, [("x", [1, 3, 8, 8])], outputs, inits, 13)


def _converter(tmp_path):
    onnx.save(branched_model(), tmp_path / "m.onnx")
    return mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")


def _calibration():
    return [{"x": np.random.default_rng(1).normal(0, 1, (32, 1, 3, 8, 8)).astype(np.float32)}]


def _inputs(meta, n, seed):
    if meta["dtype"] == "float32":
        return np.random.default_rng(seed).normal(0, 1, (n,) + tuple(meta["shape"])).astype(np.float32)
    lo, hi = (-128, 127) if meta["dtype"] == "int8" else (-32768, 32767)
    x = np.random.default_rng(seed).integers(lo, hi + 1, (n,) + tuple(meta["shape"])).astype(meta["dtype"])
    x[0], x[1] = lo, hi
    return x


def test_float_graph_equals_onnxruntime_and_transposes_cancel(tmp_path):
    conv = _converter(tmp_path)
    x = np.random.default_rng(2).normal(0, 1, (1, 3, 8, 8)).astype(np.float32)
    got = execute(conv.graph, {conv.graph.inputs[0]: x[None]}, integer=False)
    for name, want in zip(conv.graph.outputs, run_onnxruntime(branched_model(), {"x": x})):
        np.testing.assert_allclose(got[name][0].reshape(want.shape), want, rtol=1e-5, atol=1e-5)
    ops = [n.op for n in conv.graph.nodes]
    # the NCHW input's transpose, then NHWC throughout; one transpose back per graph output
    assert ops.count("transpose") == 1 + len(OUTPUTS) and ops[0] == "transpose", ops
    assert ops.count("slice") == 5 and {"resize_nearest", "gather", "tile", "concat"} <= set(ops), ops


@pytest.mark.parametrize("mode", ["int8", "int16x8", "float32"])
def test_every_output_of_the_c_equals_the_reference(tmp_path, mode):
    conv = _converter(tmp_path)
    conv.mode, conv.representative_dataset = mode, _calibration()
    model = conv.convert()
    assert len(model.report["outputs"]) == len(OUTPUTS)
    meta = model.report["inputs"][0]
    x = _inputs(meta, 12, 3)
    got, want = model.build().run({meta["name"]: x}), model.reference({meta["name"]: x})
    assert set(got) == set(want) == {o["name"] for o in model.report["outputs"]}
    for name in want:
        if mode == "float32":
            np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(got[name], want[name])


def test_int8_c_is_clean_under_clang_and_sanitizers(tmp_path):
    """The model with its first output only (the tile branch goes; the split, resize, slices, gather, concat
    stay, some of them in place): clang -Weverything, then gcc's address and undefined-behaviour sanitizers."""
    from test_end_to_end import sanitized_run
    onnx.save(branched_model(OUTPUTS[:1]), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = _calibration()
    model = conv.convert()
    assert model.plan.overlaps and {"slice", "gather", "resize_nearest"} <= {n.op for n in model.graph.nodes}
    x = _inputs(model.report["inputs"][0], 12, 5)
    want = next(iter(model.reference({"x": x}).values()))
    np.testing.assert_array_equal(np.frombuffer(sanitized_run(model, tmp_path, x), want.dtype).reshape(want.shape), want)


@pytest.mark.slow
def test_emulated_cortex_m0plus_equals_host_build(tmp_path):
    from mcu_codegen import boards, target
    conv = _converter(tmp_path)
    conv.representative_dataset = _calibration()
    model = conv.convert()
    project = model.save(tmp_path / "project")
    meta = model.report["inputs"][0]
    x = _inputs(meta, 4, 4)
    got, _ = target.run_on_board(project, model.report, boards.load("mps2-an385-m0plus"), {meta["name"]: x})
    host = model.build().run({meta["name"]: x})
    assert len(host) == len(OUTPUTS)
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])
