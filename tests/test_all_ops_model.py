"""One small ONNX model through every op issue 12 added (a standalone Relu, Pad folded into a Conv, a
decomposed BatchNorm folded, Sigmoid, Tanh, Concat, GlobalAveragePool, a broadcasting Mul, a Sub of a constant,
a non-zero Pad, ReduceMean): the float graph equals onnxruntime, the C equals the reference bit for bit in
every mode, and the int8 C is clean under clang -Weverything and gcc's address and undefined-behaviour
sanitizers."""
import numpy as np
import onnx
import pytest
from helpers import onnx_model, through_the_tool
from onnx import helper
from test_end_to_end import sanitized_run

import mcu_codegen


def all_ops_model():
    rng = np.random.default_rng(0)

    def w(*shape, s=0.5):
        return rng.normal(0, s, shape).astype(np.float32)
    inits = {"w": w(4, 3, 3, 3), "b": w(4, s=0.1), "s": rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32),
             "t": w(4, 1, 1, s=0.2), "k": w(8, 6), "pads0": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
             "pads1": np.array([0, 0, 0, 1, 0, 0, 1, 0], np.int64), "half": np.array(0.5, np.float32),
             "axes": np.array([3], np.int64)}
    nodes = [helper.make_node("Relu", ["x"], ["r0"], name="relu_in"),
             helper.make_node("Pad", ["r0", "pads0"], ["p0"], name="pad0"),
             helper.make_node("Conv", ["p0", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("Mul", ["c", "s"], ["cs"], name="bn_scale"),
             helper.make_node("Add", ["cs", "t"], ["ct"], name="bn_shift"),
             helper.make_node("Sigmoid", ["ct"], ["sg"], name="sigmoid"),
             helper.make_node("Tanh", ["ct"], ["th"], name="tanh"),
             helper.make_node("Concat", ["sg", "th"], ["cat"], name="concat", axis=1),
             helper.make_node("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
             helper.make_node("Mul", ["cat", "gap"], ["gated"], name="gate"),
             helper.make_node("Sub", ["gated", "k"], ["d"], name="minus_k"),
             helper.make_node("Pad", ["d", "pads1", "half"], ["p1"], name="pad_half"),
             helper.make_node("ReduceMean", ["p1"], ["y"], name="mean", axes=[3], keepdims=0)]
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 8, 9])], inits, 13)


def test_every_new_op_in_one_model_in_every_mode(tmp_path):
    x = np.random.default_rng(1).normal(0, 1, (32, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(all_ops_model(), x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert {"relu", "conv2d", "logistic", "tanh", "concat", "mean", "mul", "constant", "add", "pad"} <= set(ops), ops
    assert ops.count("pad") == 1 and "batchnorm" not in ops, ops  # the zero pad folded, the 0.5 one stays
    # the layout transposes sink through everything: only the NCHW input's and the (1, C, H) output's remain
    assert ops.count("transpose") == 2 and ops.index("transpose", 2) == len(ops) - 1, ops


def test_int8_c_is_clean_under_clang_and_sanitizers(tmp_path):
    onnx.save(all_ops_model(), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(2).normal(0, 1, (32, 1, 3, 8, 6)).astype(np.float32)}]
    conv.inference_input_type = conv.inference_output_type = "int8"
    sanitized_equals_reference(conv.convert(), tmp_path)


def sanitized_equals_reference(model, tmp_path):
    """An int8 model (input 'x' of shape (1, 3, 8, 6)) built with clang -Weverything and the sanitizers, run on
    random inputs and both extremes: equal to the reference."""
    x = np.random.default_rng(3).integers(-128, 128, (20, 1, 3, 8, 6)).astype(np.int8)
    x[0], x[1] = -128, 127
    want = next(iter(model.reference({"x": x}).values()))
    np.testing.assert_array_equal(np.frombuffer(sanitized_run(model, tmp_path, x), want.dtype).reshape(want.shape), want)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["int8", "int16x8"])
@pytest.mark.parametrize("board", ["mps2-an385-m0plus", "mps3-an547"])
def test_emulated_cores_equal_host_build(tmp_path, board, mode):
    """Cross-built for a Cortex-M0+ (no divide instruction, no DSP) and a Cortex-M55, run in QEMU: the same
    outputs as the host build, bit for bit."""
    onnx.save(all_ops_model(), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(2).normal(0, 1, (32, 1, 3, 8, 6)).astype(np.float32)}]
    conv.mode = mode
    emulated_equals_host(conv.convert(), tmp_path, board)


def emulated_equals_host(model, tmp_path, board):
    """The model cross-built for the board, run in QEMU on random inputs and both extremes: the host build's
    outputs, bit for bit."""
    from mcu_codegen import boards, target
    project = model.save(tmp_path / "project")
    meta = model.report["inputs"][0]
    lo, hi = (-128, 127) if meta["dtype"] == "int8" else (-32768, 32767)
    x = np.random.default_rng(4).integers(lo, hi + 1, (10,) + tuple(meta["shape"])).astype(meta["dtype"])
    x[0], x[1] = lo, hi
    got, _ = target.run_on_board(project, model.report, boards.load(board), {meta["name"]: x})
    host = model.build().run({meta["name"]: x})
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])


def test_mixed_precision_through_the_new_ops(tmp_path):
    """--int16-layers on a logistic, a broadcasting mul, a constant's add and a mean inside the int8 model:
    requantize nodes at the boundaries, the constant in its reader's type, the C equal to the reference."""
    onnx.save(all_ops_model(), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(2).normal(0, 1, (32, 1, 3, 8, 6)).astype(np.float32)}]
    conv.int16_layers = ["sigmoid", "gate", "minus_k", "mean"]
    model = conv.convert()
    types = {n.op: model.graph.tensors[n.outputs[0]].dtype for n in model.graph.nodes if n.name in conv.int16_layers}
    assert {"logistic", "mul", "constant", "add", "mean"} <= set(types) and set(types.values()) == {"int16"}, types
    assert [n.op for n in model.graph.nodes].count("requantize") >= 3
    meta = model.report["inputs"][0]
    x = np.random.default_rng(4).integers(-128, 128, (10,) + tuple(meta["shape"])).astype(np.int8)
    got, want = model.build().run({meta["name"]: x}), model.reference({meta["name"]: x})
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
