"""MUL: (x1 - zp1) * (x2 - zp2) requantized; broadcast; TFLM on one-operator int8 files (tests/binary.py)."""
import binary
import numpy as np
import pytest
from helpers import qtensor, rand_int8

from mcu_codegen.ops import mul


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_float_ref_matches_onnxruntime(shapes):
    binary.check_float_ref_matches_onnxruntime(mul, "Mul", shapes)


@pytest.mark.parametrize("zps", binary.ZPS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_equals_int_ref(run_kernel, shapes, zps):
    binary.check_c_equals_int_ref(run_kernel, mul, shapes, zps, (0.0, 6.0) if zps[2] == -128 else None)


def test_int_ref_within_one_step_of_float():
    rng = np.random.default_rng(2)
    x1, x2, out = qtensor((1, 64), 0.05, 3), qtensor((1, 64), 0.02, -4), qtensor((1, 64), 0.08, 1)
    q1, q2 = rand_int8(rng, (1, 64)), rand_int8(rng, (1, 64))
    want = np.clip((q1 - 3.0) * 0.05 * (q2 + 4.0) * 0.02, -129 * 0.08, 126 * 0.08)
    got = (mul.int_ref(mul.prepare({}, [x1, x2], out), q1[None], q2[None])[0] - 1.0) * 0.08
    assert np.abs(got - want).max() / 0.08 <= 1.0


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_float32_within_rounding(run_kernel, shapes):
    binary.check_c_float32_within_rounding(run_kernel, mul, shapes)


@pytest.mark.parametrize("act", [None, (0.0, np.inf)])
@pytest.mark.parametrize("quants", binary.TFLM_QUANTS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_int8_equals_tflm(run_kernel, shapes, quants, act):
    size = binary.check_int8_equals_tflm(run_kernel, mul, "mul", shapes, quants, act,
                                         through_tool=shapes == binary.BROADCASTS[1])
    print(f"MUL {shapes} {quants} act {act}: {size} outputs equal to TFLM")


def _model(nodes, out_shape, inits, in_shape=(1, 3, 8, 6)):
    from helpers import onnx_model
    return onnx_model(nodes, [("x", list(in_shape))], [("y", out_shape)], inits, 13)


def test_decomposed_batchnorm_after_conv_and_gemm_folds(tmp_path):
    """tf2onnx's BatchNorm left as Mul + Add by per-channel constants after a Conv (and after a Gemm): both
    fold into the layer's weights and bias; nothing else is left to run."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(4)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32),
             "s": rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32), "t": rng.normal(0, 0.3, (4, 1, 1)).astype(np.float32),
             "fw": rng.normal(0, 0.3, (5, 192)).astype(np.float32), "fs": rng.uniform(-2, 2, 5).astype(np.float32),
             "ft": rng.normal(0, 0.3, 5).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["c", "s"], ["m"]), helper.make_node("Add", ["m", "t"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]), helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "fw"], ["g"], transB=1), helper.make_node("Mul", ["fs", "g"], ["gm"]),
             helper.make_node("Sub", ["gm", "ft"], ["y"])]
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_model(nodes, [1, 5], inits), x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert [o for o in ops if o != "reshape"] == ["transpose", "conv2d", "fully_connected"], ops  # (alias)


def test_mul_of_activations_with_broadcast_through_the_tool(tmp_path):
    """A squeeze-and-excitation gate: a conv's map times its own global mean, [1,C,H,W] x [1,C,1,1]; the layout
    transposes cancel through both the mean and the broadcasting Mul."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(5)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["c"], ["g"]), helper.make_node("Mul", ["c", "g"], ["m"]),
             helper.make_node("Sub", ["m", "c"], ["y"])]
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_model(nodes, [1, 4, 8, 6], inits), x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert sorted(ops) == sorted(["transpose", "conv2d", "mean", "mul", "sub", "transpose"]), ops


def test_constants_that_fold_into_no_layer_become_constant_operands(tmp_path):
    """x * K (K: one value per pixel, no channel scale), K - x and x + K on a graph input: each constant is a
    constant node (flash -> arena) read by a mul / sub / add, in every mode."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(6)
    inits = {"k": rng.normal(0, 1, (8, 6)).astype(np.float32), "m": rng.normal(0, 1, (3, 1, 1)).astype(np.float32)}
    nodes = [helper.make_node("Mul", ["x", "k"], ["a"]), helper.make_node("Sub", ["m", "a"], ["b"]),
             helper.make_node("Add", ["b", "m"], ["y"])]
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_model(nodes, [1, 3, 8, 6], inits), x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert sorted(ops) == sorted(["constant"] * 3 + ["mul", "sub", "add"]), ops


@pytest.mark.parametrize("kind", ["add", "sub", "mul"])
@pytest.mark.parametrize("const_shape", [(1, 1, 1, 6), (1, 5, 7, 6), (1,)])
def test_tflite_constant_operand_equals_tflm(kind, const_shape):
    """TFLite MUL / ADD / SUB of an activation and a constant int8 tensor: through the tool equal to TFLM."""
    import tflite
    from binary import ACT, OPTIONS
    from tflite16 import int8_t, one_op_model, run_imported, run_tflm
    rng = np.random.default_rng(7)
    name, code = OPTIONS[kind]

    def options(b):
        getattr(tflite, f"{name}Start")(b)
        getattr(tflite, f"{name}AddFusedActivationFunction")(b, ACT[None])
        return getattr(tflite, f"{name}End")(b)
    const = dict(int8_t(const_shape, 0.02, -3), data=rand_int8(rng, const_shape))
    model = one_op_model(getattr(tflite.BuiltinOperator, code), getattr(tflite.BuiltinOptions, name), options,
                         [int8_t((1, 5, 7, 6), 0.05, 4), const, int8_t((1, 5, 7, 6), 0.08, -2)], 1)
    data = rand_int8(rng, (10, 1, 5, 7, 6))
    want = run_tflm(model, [data])
    np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)


@pytest.mark.parametrize("scales", [(1e-3, 1e-3, 2e-3), (3e-4, 2e-3, 1e-3)])
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_16x8_equals_tflm(run_kernel, shapes, scales):
    size = binary.check_int16_equals_tflm(run_kernel, mul, "mul", shapes, scales)
    print(f"MUL 16x8 {shapes} {scales}: {size} outputs equal to TFLM")


def test_div_by_a_constant_is_a_mul_by_its_reciprocal(tmp_path):
    """ONNX Div by per-channel constants after a conv folds into its weights like a Mul; by a constant map on the
    input, a mul of a constant node; a division by an activation is one clear error."""
    import mcu_codegen
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(8)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "d": rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32),
             "k": rng.uniform(1, 3, (8, 6)).astype(np.float32)}
    nodes = [helper.make_node("Div", ["x", "k"], ["a"]),
             helper.make_node("Conv", ["a", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Div", ["c", "d"], ["y"])]
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_model(nodes, [1, 4, 8, 6], inits), x, tmp_path, modes=("int8", "float32"))
    assert sorted(ops) == sorted(["constant", "mul", "transpose", "conv2d", "transpose"]), ops
    from onnx import save
    save(_model([helper.make_node("Div", ["x", "x"], ["y"])], [1, 3, 8, 6], {}), tmp_path / "div.onnx")
    with pytest.raises(mcu_codegen.ConversionError, match=r"\(Div\): only a division by a constant"):
        mcu_codegen.Converter.from_onnx(tmp_path / "div.onnx")


def test_neg_is_a_mul_by_minus_one(tmp_path):
    """ONNX Neg (tf2onnx's PReLU is Relu(x) - alpha * Relu(-x)): after a Conv it folds into the weights; on a
    tensor no layer produced, a mul by a constant."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(8)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Neg", ["c"], ["n"]), helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("Neg", ["r"], ["y"])]
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_model(nodes, [1, 4, 8, 6], inits), x, tmp_path, modes=("int8", "float32"))
    assert sorted(ops) == sorted(["transpose", "conv2d", "constant", "mul", "transpose"]), ops
