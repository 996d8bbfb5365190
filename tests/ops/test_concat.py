"""CONCATENATION along any axis of any number of inputs: float reference vs onnxruntime, C vs twin bit for
bit (copies and requantized inputs), TFLM on one-operator int8 files (equal quantization, as TFLM requires),
ONNX Concat through the tool (the layout transposes cancel through it)."""
import numpy as np
import pytest
import tflite
from helpers import (c_equals_int_ref, dequantize, ftensor, qtensor, rand_int8, rand_int16, run_single_node,
                     stensor, typed)
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import concat

# (input shapes, axis): channels of NHWC maps, every axis of a 4-D tensor, three inputs, rank 1 and 2
CASES = [([(1, 4, 5, 3), (1, 4, 5, 2)], 3), ([(1, 4, 5, 3), (1, 2, 5, 3)], 1), ([(1, 4, 5, 3), (1, 4, 1, 3)], 2),
         ([(1, 4, 5, 3), (2, 4, 5, 3)], 0), ([(1, 2, 2, 1), (1, 2, 2, 4), (1, 2, 2, 2)], 3), ([(3,), (5,)], 0),
         ([(2, 3), (2, 1), (2, 4)], 1), ([(1, 1, 1, 8), (1, 1, 1, 8)], 3)]


@pytest.mark.parametrize("shapes,axis", CASES)
def test_float_ref_matches_onnxruntime(shapes, axis):
    rng = np.random.default_rng(0)
    xs = [rng.normal(0, 1, s).astype(np.float32) for s in shapes]
    want = run_single_node("Concat", xs, {"axis": axis})
    np.testing.assert_array_equal(concat.float_ref({"axis": axis}, *[x[None] for x in xs])[0], want)


@pytest.mark.parametrize("quants", [[(0.1, 3)] * 4, [(0.1, -128), (0.05, 127), (0.2, 0), (0.1, 3)],
                                    [(0.02, 127), (0.5, -128), (0.1, 3), (0.1, 3)]])
@pytest.mark.parametrize("shapes,axis", CASES)
def test_c_equals_int_ref(run_kernel, shapes, axis, quants):
    """The last quantization is the output's: inputs that share it are copied, the others requantized."""
    rng = np.random.default_rng(1)
    out_shape = concat.output_shape({"axis": axis}, shapes)
    ins = [qtensor(s, *quants[k]) for k, s in enumerate(shapes)]
    out = qtensor(out_shape, *quants[-1])
    p = concat.prepare({"axis": axis}, ins, out)
    c_equals_int_ref(run_kernel, concat, p, [rand_int8(rng, s) for s in shapes], out)
    ins16 = [stensor(s, quants[k][0] / 256) for k, s in enumerate(shapes)]
    out16 = stensor(out_shape, quants[-1][0] / 256)
    c_equals_int_ref(run_kernel, concat, concat.prepare({"axis": axis}, ins16, out16),
                     [rand_int16(rng, s) for s in shapes], out16)
    xs = [rng.normal(0, 1, s).astype(np.float32) for s in shapes]
    pf = concat.prepare({"axis": axis}, [ftensor(s) for s in shapes], ftensor(out_shape))
    np.testing.assert_array_equal(run_kernel(concat, pf, xs, out_shape, np.float32),
                                  concat.float_ref({"axis": axis}, *[x[None] for x in xs])[0])


def test_requantized_input_within_one_step():
    rng = np.random.default_rng(2)
    x, out = qtensor((1, 64), 0.05, -20), qtensor((2, 64), 0.08, 5)
    q = rand_int8(rng, (1, 64))
    p = concat.prepare({"axis": 0}, [x, qtensor((1, 64), 0.08, 5)], out)
    got = dequantize(concat.int_ref(p, q[None], q[None])[0].reshape(-1)[:64].reshape(1, 64), out)
    want = np.clip(dequantize(q, x), (-128 - 5) * 0.08, (127 - 5) * 0.08)
    assert np.abs(got - want).max() / 0.08 <= 0.5 + 1e-6


def _concat_model(shapes, axis, quant, out_shape):
    def options(b):
        tflite.ConcatenationOptionsStart(b)
        tflite.ConcatenationOptionsAddAxis(b, axis)
        return tflite.ConcatenationOptionsEnd(b)
    return one_op_model(tflite.BuiltinOperator.CONCATENATION, tflite.BuiltinOptions.ConcatenationOptions, options,
                        [int8_t(s, *quant) for s in shapes] + [int8_t(out_shape, *quant)], len(shapes))


@pytest.mark.parametrize("zp", [-128, 0, 127])
@pytest.mark.parametrize("shapes,axis", CASES)
def test_int8_equals_tflm(run_kernel, shapes, axis, zp):
    rng = np.random.default_rng(3)
    out_shape = concat.output_shape({"axis": axis}, shapes)
    model = _concat_model(shapes, axis, (0.1, zp), out_shape)
    data = [rand_int8(rng, (6,) + s) for s in shapes]
    want = run_tflm(model, data).reshape((6,) + out_shape)
    out = qtensor(out_shape, 0.1, zp)
    p = concat.prepare({"axis": axis}, [qtensor(s, 0.1, zp) for s in shapes], out)
    np.testing.assert_array_equal(typed(concat.int_ref(p, *data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(concat, p, [d[i] for d in data], out_shape, np.int8) for i in range(6)])
    np.testing.assert_array_equal(got, want)
    if (shapes, axis, zp) == (CASES[0][0], CASES[0][1], 0):
        np.testing.assert_array_equal(run_imported(model, data, "int8").reshape(want.shape), want)
    print(f"CONCATENATION {shapes} axis {axis} zp {zp}: {want.size} outputs equal to TFLM")


def test_onnx_concat_of_two_convs_through_the_tool(tmp_path):
    """Two NCHW convs concatenated on the channel axis: the transposes cancel, the concat runs in NHWC on axis 3,
    the inputs' calibrated ranges differ (requantized), and the C equals the reference in every mode."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(4)
    inits = {"w1": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w2": rng.normal(0, 2, (2, 3, 1, 1)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["x", "w2"], ["b"], kernel_shape=[1, 1]),
             helper.make_node("Concat", ["a", "b"], ["y"], axis=1)]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 6, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert ops.count("transpose") == 2 and ops.index("concat") < ops.index("transpose", 1), ops  # input, output


@pytest.mark.parametrize("shapes,axis", CASES)
def test_16x8_equals_tflm(run_kernel, shapes, axis):
    from tflite16 import activation_t

    def options(b):
        tflite.ConcatenationOptionsStart(b)
        tflite.ConcatenationOptionsAddAxis(b, axis)
        return tflite.ConcatenationOptionsEnd(b)
    out_shape = concat.output_shape({"axis": axis}, shapes)
    model = one_op_model(tflite.BuiltinOperator.CONCATENATION, tflite.BuiltinOptions.ConcatenationOptions, options,
                         [activation_t(s, 1e-3) for s in shapes] + [activation_t(out_shape, 1e-3)], len(shapes))
    data = [rand_int16(np.random.default_rng(5), (4,) + s) for s in shapes]
    want = run_tflm(model, data).reshape((4,) + out_shape)
    out = stensor(out_shape, 1e-3)
    p = concat.prepare({"axis": axis}, [stensor(s, 1e-3) for s in shapes], out)
    np.testing.assert_array_equal(typed(concat.int_ref(p, *data), out).reshape(want.shape), want)
    got = np.stack([run_kernel(concat, p, [d[i] for d in data], out_shape, np.int16) for i in range(4)])
    np.testing.assert_array_equal(got, want)


def test_onnx_concat_with_a_constant_input_through_the_tool(tmp_path):
    """Concat of a conv's map and an initializer (a constant node copied into the arena), in every mode."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(8)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "k": rng.normal(0, 1, (1, 2, 8, 6)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["k", "a"], ["y"], axis=1)]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 6, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    assert "constant" in through_the_tool(model, x, tmp_path, modes=("int8", "int16x8", "float32"))


def test_tflite_concatenation_with_a_constant_input_equals_tflm():
    rng = np.random.default_rng(9)

    def options(b):
        tflite.ConcatenationOptionsStart(b)
        tflite.ConcatenationOptionsAddAxis(b, 3)
        return tflite.ConcatenationOptionsEnd(b)
    const = dict(int8_t((1, 4, 5, 2), 0.1, 3), data=rand_int8(rng, (1, 4, 5, 2)))
    model = one_op_model(tflite.BuiltinOperator.CONCATENATION, tflite.BuiltinOptions.ConcatenationOptions, options,
                         [int8_t((1, 4, 5, 3), 0.1, 3), const, int8_t((1, 4, 5, 5), 0.1, 3)], 1)
    data = rand_int8(rng, (6, 1, 4, 5, 3))
    want = run_tflm(model, [data])
    np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)
