"""GATHER / ONNX Gather with constant indices along any axis (indices of any shape, negative ONNX indices,
repeated and reversed indices): the imported float graph vs onnxruntime, the C copy vs its twin for every
element size, TFLM on one-operator int8 files (TFLM has no int16 GATHER; int16 is the same copy)."""
import numpy as np
import pytest
import tflite
from helpers import copy_kernel_checks, float_graph_equals_onnxruntime, onnx_model, rand_int8, rand_int16
from onnx import helper
from tflite16 import activation_t, const_t, copy_op_equals_tflm, int8_t, one_op_model

import mcu_codegen
from mcu_codegen.ops import gather

# (input shape, axis, indices)
CASES = [((1, 5, 4, 3), 3, [2, 0]), ((1, 5, 4, 3), 1, [[4, 0], [1, 1]]), ((1, 5, 4, 3), 2, [3]),
         ((6, 2), 0, [5, 4, 3, 2, 1, 0]),
         ((7,), 0, [6, 0, 6]), ((2, 3, 4, 5, 2), 3, [1, 3])]


@pytest.mark.parametrize("shape,axis,indices", CASES)
def test_c_equals_int_ref_every_element_size(run_kernel, shape, axis, indices):
    out_shape = shape[:axis] + np.shape(indices) + shape[axis + 1:]
    copy_kernel_checks(run_kernel, gather, dict(axis=axis, indices=tuple(np.ravel(indices)), shape=out_shape), shape,
                       out_shape, lambda x: np.take(x, np.asarray(indices), axis=axis), 9)


@pytest.mark.parametrize("shape,axis,indices", [((1, 3, 5, 4), 1, [2, -3]), ((1, 3, 5, 4), -1, [[3, -1, 0]]),
                                                ((2, 6), 1, 4), ((1, 3, 5, 4), 2, [0, 4, 4])])
def test_onnx_gather_float_graph_equals_onnxruntime(tmp_path, shape, axis, indices):
    model = onnx_model([helper.make_node("Gather", ["x", "i"], ["y"], axis=axis)], [("x", list(shape))], [("y", None)],
                       {"i": np.array(indices, np.int64)}, 13)
    x = np.random.default_rng(1).normal(0, 1, shape).astype(np.float32)
    conv = float_graph_equals_onnxruntime(model, x, tmp_path)
    assert "gather" in [n.op for n in conv.graph.nodes]


def test_onnx_gather_on_channels_of_an_nchw_map_runs_on_nhwc(tmp_path):
    """Conv -> Gather of channels (NCHW axis 1) -> Conv: the gather moves to the NHWC map, no transpose between."""
    from helpers import through_the_tool
    rng = np.random.default_rng(2)
    inits = {"w0": rng.normal(0, 0.5, (5, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (4, 3, 1, 1)).astype(np.float32),
             "i": np.array([4, 0, 2], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Gather", ["c", "i"], ["g"], axis=1),
             helper.make_node("Conv", ["g", "w1"], ["y"], kernel_shape=[1, 1])]
    model = onnx_model(nodes, [("x", [1, 3, 6, 6])], [("y", [1, 4, 4, 4])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 6, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8"))
    assert ops == ["transpose", "conv2d", "gather", "conv2d", "transpose"], ops


def _options(axis):
    def options(b):
        tflite.GatherOptionsStart(b)
        tflite.GatherOptionsAddAxis(b, axis)
        return tflite.GatherOptionsEnd(b)
    return options


@pytest.mark.parametrize("dtype", [np.int8])  # TFLM's GATHER has no int16 kernel (the copy above covers int16)
@pytest.mark.parametrize("shape,axis,indices", CASES[:5] + [((1, 5, 4, 3), -2, [1, 3, 2])])
def test_int8_equals_tflm(run_kernel, tmp_path, dtype, shape, axis, indices):
    rng = np.random.default_rng(3)
    act = (lambda s: int8_t(s, 0.05, 9)) if dtype == np.int8 else (lambda s: activation_t(s, 1e-3))
    a = axis % len(shape)
    out_shape = shape[:a] + np.shape(indices) + shape[a + 1:]
    model = one_op_model(tflite.BuiltinOperator.GATHER, tflite.BuiltinOptions.GatherOptions, _options(axis),
                         [act(shape), const_t(indices), act(out_shape)], 1)
    data = rand_int8(rng, (4,) + shape) if dtype == np.int8 else rand_int16(rng, (4,) + shape)
    copy_op_equals_tflm(run_kernel, tmp_path, model, data, gather, compile_it=shape == (6, 2))


def test_out_of_range_index_is_a_one_line_error(tmp_path):
    model = one_op_model(tflite.BuiltinOperator.GATHER, tflite.BuiltinOptions.GatherOptions, _options(0),
                         [int8_t((4,), 0.1, 0), const_t([1, 4]), int8_t((2,), 0.1, 0)], 1)
    path = tmp_path / "bad.tflite"
    path.write_bytes(model)
    with pytest.raises(mcu_codegen.ir.ConversionError, match=r"operator 0 \(GATHER\): indices \[1, 4\] out of range"):
        mcu_codegen.Converter.from_tflite(path)
