"""MEAN over any axes: float reference vs onnxruntime, C vs twin bit for bit, and twin, C and the whole tool
equal to TFLM on one-operator int8 .tflite files."""
import numpy as np
import pytest
import tflite
from helpers import (c_equals_int_ref, c_float_within_rounding, dequantize, qtensor, rand_int8, rand_int16,
                     run_single_node, stensor, typed)
from tflite16 import const_t, int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import mean

# (input shape, axes, keep_dims): Keras GlobalAveragePooling, every single axis, pairs, all axes, ranks 1 to 5
CASES = [((1, 7, 5, 3), (1, 2), True), ((1, 7, 5, 3), (1, 2), False), ((1, 4, 6, 8), (3,), True),
         ((1, 4, 6, 8), (0,), False), ((2, 3, 4), (1,), False), ((2, 3, 4), (0, 2), True), ((9,), (0,), False),
         ((1, 3, 4, 5), (0, 1, 2, 3), False), ((2, 1, 3, 2, 4), (1, 3), True), ((3, 5, 2), (2,), True),
         ((1, 1, 1, 16), (1, 2), True), ((1, 16, 16, 2), (1, 2), False)]
QUANTS = [((0.05, 3), (0.05, 3)), ((0.05, -128), (0.02, 127)), ((0.02, 127), (0.1, -128)), ((1.0, 0), (0.004, 0))]


@pytest.mark.parametrize("shape,axes,keep", CASES[:8])
def test_float_ref_matches_onnxruntime(shape, axes, keep):
    x = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    want = run_single_node("ReduceMean", [x], {"axes": list(axes), "keepdims": int(keep)})
    got = mean.float_ref(dict(axes=axes, keep_dims=keep), x[None])[0]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-5, atol=1e-6)


def _tensors(shape, axes, keep, quant, dtype="int8"):
    out_shape = mean.output_shape(dict(axes=axes, keep_dims=keep), [shape])
    if dtype == "int16":
        return stensor(shape, quant[0][0] / 256), stensor(out_shape, quant[1][0] / 256)
    return qtensor(shape, *quant[0]), qtensor(out_shape, *quant[1])


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_c_equals_int_ref(run_kernel, shape, axes, keep, quant):
    rng = np.random.default_rng(1)
    x, out = _tensors(shape, axes, keep, quant)
    p = mean.prepare(dict(axes=axes, keep_dims=keep), [x], out)
    for data in (rand_int8(rng, shape), np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)):
        c_equals_int_ref(run_kernel, mean, p, [data], out)


@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_c_equals_int_ref_16x8(run_kernel, shape, axes, keep):
    rng = np.random.default_rng(2)
    x, out = _tensors(shape, axes, keep, QUANTS[1], "int16")
    p = mean.prepare(dict(axes=axes, keep_dims=keep), [x], out)
    for data in (rand_int16(rng, shape), np.full(shape, -32768, np.int16), np.full(shape, 32767, np.int16)):
        c_equals_int_ref(run_kernel, mean, p, [data], out)


@pytest.mark.parametrize("quant", QUANTS)
def test_int_ref_within_one_step_of_float(quant):
    rng = np.random.default_rng(3)
    shape, axes = (1, 6, 7, 5), (1, 2)
    x, out = _tensors(shape, axes, True, quant)
    q = rand_int8(rng, shape)
    want = np.clip(dequantize(q, x).astype(np.float64).mean(axis=axes, keepdims=True),
                   (-128 - out.zero_point) * out.scale, (127 - out.zero_point) * out.scale)
    got = dequantize(mean.int_ref(mean.prepare(dict(axes=axes, keep_dims=True), [x], out), q[None])[0], out)
    assert np.abs(got - want).max() / out.scale <= 1.0


@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_c_float32_within_rounding(run_kernel, shape, axes, keep):
    x = np.random.default_rng(4).normal(0, 1, shape).astype(np.float32)
    attrs = dict(axes=axes, keep_dims=keep)
    c_float_within_rounding(run_kernel, mean, attrs, [x], int(np.prod([shape[a] for a in axes])))


def _mean_model(shape, axes, keep, quant, out_shape, code=tflite.BuiltinOperator.MEAN):
    def options(b):
        tflite.ReducerOptionsStart(b)
        tflite.ReducerOptionsAddKeepDims(b, keep)
        return tflite.ReducerOptionsEnd(b)
    return one_op_model(code, tflite.BuiltinOptions.ReducerOptions, options,
                        [int8_t(shape, *quant[0]), const_t(list(axes)), int8_t(out_shape, *quant[1])], 1)


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_int8_equals_tflm(run_kernel, shape, axes, keep, quant):
    """TFLM's MEAN on a one-operator int8 file; our twin and C kernel on the same integers, bit for bit."""
    rng = np.random.default_rng(5)
    x, out = _tensors(shape, axes, keep, quant)
    data = rand_int8(rng, (30,) + shape)
    data[0], data[1] = -128, 127
    model = _mean_model(shape, axes, keep, quant, out.shape)
    want = run_tflm(model, [data]).reshape((30,) + out.shape)
    p = mean.prepare(dict(axes=axes, keep_dims=keep), [x], out)
    np.testing.assert_array_equal(typed(mean.int_ref(p, data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(mean, p, [d], out.shape, np.int8) for d in data])
    np.testing.assert_array_equal(got, want)
    print(f"MEAN {shape} axes {axes} keep {keep} quant {quant}: {want.size} outputs equal to TFLM")


@pytest.mark.parametrize("case", [CASES[0], CASES[4], CASES[8]])
def test_int8_file_through_the_tool_equals_tflm(case):
    shape, axes, keep = case
    rng = np.random.default_rng(6)
    x, out = _tensors(shape, axes, keep, QUANTS[1])
    model = _mean_model(shape, axes, keep, QUANTS[1], out.shape)
    data = rand_int8(rng, (20,) + shape)
    want = run_tflm(model, [data])
    np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)


def _conv_then(op_nodes, out_shape, opset=13):
    """x (1, 3, 8, 6) -> Conv 3x3 (4 channels) + Relu -> op_nodes reading 'r', writing 'y'."""
    from helpers import onnx_model
    from onnx import helper
    rng = np.random.default_rng(7)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"])] + op_nodes
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32)}
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", out_shape)], inits, opset)


@pytest.mark.parametrize("nodes,out_shape,transposes", [
    ([("GlobalAveragePool", {})], [1, 4, 1, 1], 0),
    ([("ReduceMean", {"axes": [2, 3], "keepdims": 0})], [1, 4], 0),
    ([("ReduceMean", {"axes": [1], "keepdims": 1})], [1, 1, 8, 6], 0),
    ([("ReduceMean", {"axes": [-1], "keepdims": 0})], [1, 4, 8], 1),  # (1, H, C) -> (1, C, H): a real one
])
def test_onnx_reduce_mean_and_global_average_pool_through_the_tool(tmp_path, nodes, out_shape, transposes):
    """After an NCHW conv: the layout transposes cancel through the mean (its axes move instead) unless the
    output really is in another order, and the C equals the reference in int8, 16x8 and float32."""
    from helpers import through_the_tool
    from onnx import helper
    (op, attrs), = nodes
    model = _conv_then([helper.make_node(op, ["r"], ["y"], **attrs)], out_shape)
    x = np.random.default_rng(8).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert ops[0] == "transpose" and "mean" in ops and ops[1:].count("transpose") == transposes, ops


@pytest.mark.parametrize("scales", [(1e-3, 1e-3), (1e-3, 3e-4), (2e-4, 1e-3)])
@pytest.mark.parametrize("shape,axes,keep", CASES)
def test_16x8_equals_tflm(run_kernel, shape, axes, keep, scales):
    from tflite16 import activation_t

    def options(b):
        tflite.ReducerOptionsStart(b)
        tflite.ReducerOptionsAddKeepDims(b, keep)
        return tflite.ReducerOptionsEnd(b)
    x = stensor(shape, scales[0])
    out = stensor(mean.output_shape(dict(axes=axes, keep_dims=keep), [shape]), scales[1])
    model = one_op_model(tflite.BuiltinOperator.MEAN, tflite.BuiltinOptions.ReducerOptions, options,
                         [activation_t(shape, scales[0]), const_t(list(axes)), activation_t(out.shape, scales[1])], 1)
    data = rand_int16(np.random.default_rng(9), (10,) + shape)
    data[0], data[1] = -32768, 32767
    want = run_tflm(model, [data]).reshape((10,) + out.shape)
    p = mean.prepare(dict(axes=axes, keep_dims=keep), [x], out)
    np.testing.assert_array_equal(typed(mean.int_ref(p, data), out).reshape(want.shape), want)
    np.testing.assert_array_equal(np.stack([run_kernel(mean, p, [d], out.shape, np.int16) for d in data]), want)
    if (shape, axes, keep) == CASES[0] and scales == (1e-3, 3e-4):
        np.testing.assert_array_equal(run_imported(model, [data], "int16").reshape(want.shape), want)


@pytest.mark.parametrize("keepdims", [0, 1])
def test_onnx_reduce_mean_opset_18_axes_input(tmp_path, keepdims):
    """From opset 18 the axes are an input (an initializer here), not an attribute."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(10)
    w = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("ReduceMean", ["c", "axes"], ["y"], keepdims=keepdims)]
    out = [1, 4, 1, 1] if keepdims else [1, 4]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", out)], {"w": w, "axes": np.array([-2, -1], np.int64)}, 18)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    assert "mean" in through_the_tool(model, x, tmp_path, modes=("int8", "float32"))
