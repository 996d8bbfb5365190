"""REDUCE_MAX over any axes (mean.py's index spaces): float reference vs onnxruntime, C vs twin bit for bit
(int8 at both extremes, int16, float32 exactly), TFLM on one-operator int8 files (TFLM has no int16
REDUCE_MAX; ours, the largest raw integer, serves the 16x8 mode), ONNX ReduceMax and
GlobalMaxPool through the tool."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, qtensor, rand_int8, rand_int16, run_single_node, stensor, typed
from test_mean import CASES, _mean_model
from tflite16 import run_imported, run_tflm

from mcu_codegen.ops import reduce_max


@pytest.mark.parametrize("shape,axes,keep", CASES[:8])
def test_float_ref_matches_onnxruntime(shape, axes, keep):
    x = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    want = run_single_node("ReduceMax", [x], {"axes": list(axes), "keepdims": int(keep)}, opset=13)
    got = reduce_max.float_ref(dict(axes=axes, keep_dims=keep), x[None])[0]
    np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_c_equals_int_ref(run_kernel, shape, axes, keep):
    rng = np.random.default_rng(1)
    attrs = dict(axes=axes, keep_dims=keep)
    out_shape = reduce_max.output_shape(attrs, [shape])
    for zp in (-128, 0, 127):
        x, out = qtensor(shape, 0.05, zp), qtensor(out_shape, 0.05, zp)
        p = reduce_max.prepare(attrs, [x], out)
        for data in (rand_int8(rng, shape), np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)):
            c_equals_int_ref(run_kernel, reduce_max, p, [data], out)
    x, out = stensor(shape, 1e-3), stensor(out_shape, 1e-3)
    c_equals_int_ref(run_kernel, reduce_max, reduce_max.prepare(attrs, [x], out), [rand_int16(rng, shape)], out)
    xf = rng.normal(0, 1, shape).astype(np.float32)
    from helpers import c_float_within_rounding
    c_float_within_rounding(run_kernel, reduce_max, attrs, [xf], 0)


def _model(shape, axes, keep, quants, out_shape):
    return _mean_model(shape, axes, keep, quants, out_shape, tflite.BuiltinOperator.REDUCE_MAX)


@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_int8_equals_tflm(run_kernel, shape, axes, keep):  # TFLM has no int16 REDUCE_MAX
    rng = np.random.default_rng(2)
    attrs = dict(axes=axes, keep_dims=keep)
    out_shape = reduce_max.output_shape(attrs, [shape])
    x, out = qtensor(shape, 0.05, -7), qtensor(out_shape, 0.05, -7)
    data = rand_int8(rng, (6,) + shape)
    model = _model(shape, axes, keep, ((0.05, -7), (0.05, -7)), out_shape)
    want = run_tflm(model, [data]).reshape((6,) + tuple(out_shape))
    p = reduce_max.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(reduce_max.int_ref(p, data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(reduce_max, p, [d], out_shape, want.dtype) for d in data])
    np.testing.assert_array_equal(got, want)
    if shape == CASES[0][0] and keep:
        np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)


def test_tflite_output_quantized_unlike_the_input_is_refused(tmp_path):
    import mcu_codegen
    model = _model((1, 4, 4, 2), (1, 2), True, ((0.05, 0), (0.1, 0)), (1, 1, 1, 2))
    (tmp_path / "m.tflite").write_bytes(model)
    with pytest.raises(mcu_codegen.ConversionError, match="must be .* for reduce_max"):
        mcu_codegen.Converter.from_tflite(tmp_path / "m.tflite").convert()


@pytest.mark.parametrize("op", ["ReduceMax", "GlobalMaxPool"])
def test_onnx_through_the_tool(tmp_path, op):
    """After a conv (NCHW): the max over H and W moves before the layout transpose, which then only moves size-1
    axes (an alias)."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(3)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)}
    attrs = {"axes": [2, 3], "keepdims": 1} if op == "ReduceMax" else {}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c"], ["y"], **attrs)]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 1, 1])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "int16x8", "float32"))
    assert ops == ["transpose", "conv2d", "reduce_max", "reshape"], ops
