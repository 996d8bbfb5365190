"""BATCH_MATMUL: two activations (or a constant operand), adj_x / adj_y, broadcast batch dimensions; int8 against
TFLM on one-operator files, the C kernel against its twin, float against NumPy."""
import numpy as np
import pytest
import tflite
from helpers import c_float_within_rounding, qtensor, rand_int8, typed
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

import mcu_codegen
from mcu_codegen.ops import batch_matmul

# (lhs shape, rhs shape, adj_x, adj_y): the KWT heads, adjoints, broadcast batches of either side, rank 2 and 3
CASES = [((1, 2, 49, 16), (1, 2, 16, 49), False, False), ((1, 2, 49, 49), (1, 2, 49, 16), False, False),
         ((2, 5, 7), (2, 6, 7), False, True), ((2, 7, 5), (2, 7, 6), True, False), ((3, 4, 6), (6, 5), False, False),
         ((4, 6), (2, 3, 6, 5), False, False), ((2, 1, 3, 8), (1, 4, 8, 2), False, False),
         ((1, 9, 33), (1, 2, 33), False, True), ((3, 5), (7, 3), True, True)]
QUANTS = [((0.03, 6), (0.02, 0), (0.19, 8)), ((0.0039, -128), (0.035, -13), (0.028, -26)),
          ((0.1, 127), (0.05, -128), (0.5, 0))]


def options(adj_x, adj_y):
    def build(b):
        tflite.BatchMatMulOptionsStart(b)
        tflite.BatchMatMulOptionsAddAdjX(b, adj_x)
        tflite.BatchMatMulOptionsAddAdjY(b, adj_y)
        return tflite.BatchMatMulOptionsEnd(b)
    return build


def attrs_of(case):
    return {"adj_x": case[2], "adj_y": case[3]}


@pytest.mark.parametrize("case", CASES)
def test_float_ref_matches_numpy(case):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, case[0]).astype(np.float32), rng.normal(0, 1, case[1]).astype(np.float32)
    want = np.matmul(np.swapaxes(a, -1, -2) if case[2] else a, np.swapaxes(b, -1, -2) if case[3] else b)
    got = batch_matmul.float_ref(attrs_of(case), a[None], b[None])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if not c[2] and not c[3]])
def test_float_ref_matches_onnxruntime(case):
    from helpers import run_single_node
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, case[0]).astype(np.float32), rng.normal(0, 1, case[1]).astype(np.float32)
    want = run_single_node("MatMul", [a, b], opset=13)
    np.testing.assert_allclose(batch_matmul.float_ref({}, a[None], b[None])[0], want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_c_float32_within_rounding(run_kernel, case):
    rng = np.random.default_rng(1)
    inputs = [rng.normal(0, 1, s).astype(np.float32) for s in case[:2]]
    c_float_within_rounding(run_kernel, batch_matmul, attrs_of(case), inputs, case[0][-2 if case[2] else -1])


@pytest.mark.parametrize("quants", QUANTS)
@pytest.mark.parametrize("case", CASES)
def test_int8_equals_tflm(run_kernel, case, quants):
    """TFLM on the one-operator file (both operands graph inputs), our twin and our C kernel on 6 samples."""
    rng = np.random.default_rng(2)
    out_shape = batch_matmul.output_shape(attrs_of(case), case[:2])
    model = one_op_model(tflite.BuiltinOperator.BATCH_MATMUL, tflite.BuiltinOptions.BatchMatMulOptions,
                         options(*case[2:]), [int8_t(case[0], *quants[0]), int8_t(case[1], *quants[1]),
                                              int8_t(out_shape, *quants[2])], 2)
    a, b = rand_int8(rng, (6,) + case[0]), rand_int8(rng, (6,) + case[1])
    a[0], b[0], a[1], b[1] = -128, -128, 127, -128
    want = run_tflm(model, [a, b]).reshape((6,) + out_shape)
    x1, x2, out = (qtensor(s, *q) for s, q in zip(case[:2] + (out_shape,), quants))
    p = batch_matmul.prepare(attrs_of(case), [x1, x2], out)
    np.testing.assert_array_equal(typed(batch_matmul.int_ref(p, a, b), out).reshape(want.shape), want)
    got = np.stack([run_kernel(batch_matmul, p, [a[i], b[i]], out_shape, np.int8) for i in range(6)])
    np.testing.assert_array_equal(got, want)
    if case == CASES[0] and quants == QUANTS[0]:
        np.testing.assert_array_equal(run_imported(model, [a, b], "int8").reshape(want.shape), want)


def test_constant_rhs_equals_tflm():
    """A constant right operand (the converter's form of an einsum with a weight): a constant node feeds it."""
    rng = np.random.default_rng(3)
    w = rand_int8(rng, (3, 8, 4))
    rhs = dict(int8_t(w.shape, 0.02, 3), data=w)
    model = one_op_model(tflite.BuiltinOperator.BATCH_MATMUL, tflite.BuiltinOptions.BatchMatMulOptions,
                         options(False, False), [int8_t((3, 5, 8), 0.05, -7), rhs, int8_t((3, 5, 4), 0.3, 2)], 1)
    a = rand_int8(rng, (8, 3, 5, 8))
    want = run_tflm(model, [a])
    np.testing.assert_array_equal(run_imported(model, [a], "int8").reshape(want.shape), want)


def test_a_file_without_options_takes_the_defaults():
    """The schema lets a writer leave out an options table whose fields are all defaults (adj_x = adj_y = false):
    the file imports and equals TFLM."""
    rng = np.random.default_rng(4)
    model = one_op_model(tflite.BuiltinOperator.BATCH_MATMUL, 0, None, [int8_t((2, 3), 0.1, 0), int8_t((3, 5), 0.1, 0),
                                                                       int8_t((2, 5), 0.1, 0)], 2)
    a, b = rand_int8(rng, (4, 2, 3)), rand_int8(rng, (4, 3, 5))
    want = run_tflm(model, [a, b])
    np.testing.assert_array_equal(run_imported(model, [a, b], "int8").reshape(want.shape), want)


@pytest.mark.parametrize("shapes,message", [(((2, 3), (4, 5)), "depths 3 and 4"), (((3,), (3, 5)), "rank 2 at least"),
                                            (((2, 2, 3), (3, 3, 5)), r"shapes \[2\] and \[3\] do not broadcast")])
def test_shapes_that_do_not_multiply_are_one_line_errors_naming_the_operator(tmp_path, shapes, message):
    from mcu_codegen.ir import ConversionError
    model = one_op_model(tflite.BuiltinOperator.BATCH_MATMUL, tflite.BuiltinOptions.BatchMatMulOptions,
                         options(False, False), [int8_t(shapes[0], 0.1, 0), int8_t(shapes[1], 0.1, 0),
                                                 int8_t((2, 5), 0.1, 0)], 2)
    (tmp_path / "m.tflite").write_bytes(model)
    with pytest.raises(ConversionError, match=r"m\.tflite: #0 BATCH_MATMUL -> .*do not fit batch_matmul .*" + message):
        mcu_codegen.Converter.from_tflite(tmp_path / "m.tflite").convert()


def test_depth_that_could_overflow_is_refused():
    from mcu_codegen.ir import ConversionError
    x1, x2, out = qtensor((1, 40000), 0.1, 0), qtensor((40000, 1), 0.1, 0), qtensor((1, 1), 0.1, 0)
    with pytest.raises(ConversionError, match="overflow"):
        batch_matmul.prepare({}, [x1, x2], out)


@pytest.mark.parametrize("shapes", [((1, 49, 16), (1, 16, 49)), ((1, 2, 49, 16), (1, 2, 16, 49)),
                                    ((2, 5, 8), (8, 3)), ((1, 2, 7, 8), (2, 8, 4))])
def test_onnx_matmul_of_activations_and_constants(tmp_path, shapes):
    """ONNX MatMul: of two activations (the second a transpose of a product of the input: attention's
    Q K^T), a 3-D input with a 2-D constant (a fully connected layer over the last axis), a constant of rank 3."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(4)
    a, b = shapes
    inits = {"w": rng.normal(0, 0.5, b).astype(np.float32)}
    if len(b) == len(a):  # both activations: b comes from x through a transpose and a scale
        perm = list(range(len(a) - 2)) + [len(a) - 1, len(a) - 2]
        inits = {"k": np.array(0.7, np.float32)}
        nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=perm), helper.make_node("Mul", ["xt", "k"], ["kt"]),
                 helper.make_node("MatMul", ["x", "kt"], ["y"])]
        want = ["transpose", "mul", "batch_matmul"]
    else:
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
        want = ["fully_connected"] if len(b) == 2 else ["constant", "batch_matmul"]
    out = list(np.matmul(np.zeros(a), np.zeros(b if len(b) != len(a) else a[:-2] + (a[-1], a[-2]))).shape)
    model = onnx_model(nodes, [("x", list(a))], [("y", out)], inits, 13)
    x = rng.normal(0, 1, (16,) + a).astype(np.float32)
    ops = [o for o in through_the_tool(model, x, tmp_path, ("int8", "float32")) if o != "reshape"]
    assert ops == want or (want[-1] == "batch_matmul" and ops[-1] == "batch_matmul"), ops


@pytest.mark.parametrize("case", CASES[:4] + CASES[6:7])
def test_int16_equals_tflm(run_kernel, case):
    """16x8: int16 operands and output (zero points 0) against TFLM's int16 BATCH_MATMUL."""
    from helpers import rand_int16, stensor
    from tflite16 import activation_t
    rng = np.random.default_rng(5)
    out_shape = batch_matmul.output_shape(attrs_of(case), case[:2])
    scales = (3e-4, 2e-4, 5e-3)
    model = one_op_model(tflite.BuiltinOperator.BATCH_MATMUL, tflite.BuiltinOptions.BatchMatMulOptions,
                         options(*case[2:]), [activation_t(s, sc) for s, sc in zip(case[:2] + (out_shape,), scales)], 2)
    a, b = rand_int16(rng, (4,) + case[0]), rand_int16(rng, (4,) + case[1])
    a[0], b[0], a[1], b[1] = -32768, -32768, 32767, -32768
    want = run_tflm(model, [a, b]).reshape((4,) + out_shape)
    x1, x2, out = (stensor(s, sc) for s, sc in zip(case[:2] + (out_shape,), scales))
    p = batch_matmul.prepare(attrs_of(case), [x1, x2], out)
    np.testing.assert_array_equal(typed(batch_matmul.int_ref(p, a, b), out).reshape(want.shape), want)
    got = np.stack([run_kernel(batch_matmul, p, [a[i], b[i]], out_shape, np.int16) for i in range(4)])
    np.testing.assert_array_equal(got, want)
    if case == CASES[0]:
        np.testing.assert_array_equal(run_imported(model, [a, b], "int16").reshape(want.shape), want)
