"""One small ONNX model through the ops of issue 12 part B (Conv, LeakyRelu, x * HardSigmoid(x) fused into a hard
swish, Elu, PRelu, Max of a constant, Div by a constant, ConvTranspose stride 2, GlobalMaxPool, Min broadcast,
ReduceMax): the float graph equals onnxruntime, the C equals the reference bit for bit in every mode (16x8
without the three ops TFLM has no int16 kernel for), the int8 C is clean under clang -Weverything and gcc's
sanitizers, and the emulated Cortex-M0+ and M55 builds equal the host one."""
import numpy as np
import onnx
import pytest
from helpers import onnx_model, through_the_tool
from onnx import helper
from test_all_ops_model import emulated_equals_host, sanitized_equals_reference

import mcu_codegen


def part_b_model(int8_only_ops=True):
    rng = np.random.default_rng(0)

    def w(*shape, s=0.5):
        return rng.normal(0, s, shape).astype(np.float32)
    inits = {"w": w(4, 3, 3, 3), "b": w(4, s=0.1), "slope": rng.uniform(-0.3, 0.6, (4, 1, 1)).astype(np.float32),
             "k": w(4, 1, 1, s=0.3), "d": rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32), "t": w(4, 2, 3, 3),
             "tb": w(2, s=0.1)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("LeakyRelu", ["c"], ["lr"], name="leaky", alpha=0.1)]
    if int8_only_ops:
        nodes += [helper.make_node("HardSigmoid", ["lr"], ["hs"], name="hsig", alpha=1 / 6, beta=0.5),
                  helper.make_node("Mul", ["lr", "hs"], ["hsw"], name="hswish"),
                  helper.make_node("Elu", ["hsw"], ["el"], name="elu", alpha=0.8),
                  helper.make_node("PRelu", ["el", "slope"], ["pr"], name="prelu")]
    nodes += [helper.make_node("Max", ["pr" if int8_only_ops else "lr", "k"], ["mx"], name="max_k"),
              helper.make_node("Div", ["mx", "d"], ["dv"], name="div_d"),
              helper.make_node("ConvTranspose", ["dv", "t", "tb"], ["up"], name="up", strides=[2, 2],
                               pads=[1, 1, 1, 1], output_padding=[1, 1]),
              helper.make_node("GlobalMaxPool", ["up"], ["gmp"], name="gmp"),
              helper.make_node("Min", ["up", "gmp"], ["mn"], name="min_gmp"),
              helper.make_node("ReduceMax", ["mn"], ["y"], name="rmax", axes=[2], keepdims=0)]
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 2, 12])], inits, 13)


X = np.random.default_rng(1).normal(0, 1, (32, 1, 3, 8, 6)).astype(np.float32)


@pytest.mark.parametrize("int8_only_ops", [True, False])
def test_every_part_b_op_in_one_model(tmp_path, int8_only_ops):
    modes = ("int8", "float32") if int8_only_ops else ("int8", "int16x8", "float32")
    ops = through_the_tool(part_b_model(int8_only_ops), X, tmp_path, modes=modes)
    want = {"conv2d", "leaky_relu", "maximum", "mul", "transpose_conv", "reduce_max", "minimum"}
    assert want | ({"hard_swish", "elu", "prelu"} if int8_only_ops else set()) <= set(ops), ops
    # the layout transposes sink through everything: only the NCHW input's and the (1, C, W) output's remain
    assert ops.count("transpose") == 2 and ops[0] == ops[-1] == "transpose", ops


def _converted(tmp_path, mode="int8"):
    onnx.save(part_b_model(mode == "int8"), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = [{"x": X}]
    conv.mode = mode
    return conv.convert()


def test_int8_c_is_clean_under_clang_and_sanitizers(tmp_path):
    sanitized_equals_reference(_converted(tmp_path), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["int8", "int16x8"])
@pytest.mark.parametrize("board", ["mps2-an385-m0plus", "mps3-an547"])
def test_emulated_cores_equal_host_build(tmp_path, board, mode):
    emulated_equals_host(_converted(tmp_path, mode), tmp_path, board)


def test_swish_is_a_logistic_and_a_mul(tmp_path):
    """x * Sigmoid(x) (SiLU) needs no fusion: TFLite has no swish operator either (Keras' swish is LOGISTIC and MUL),
    so the two kernels are TFLM's arithmetic; every mode."""
    rng = np.random.default_rng(5)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Sigmoid", ["c"], ["s"]), helper.make_node("Mul", ["c", "s"], ["y"])]
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)}
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 8, 6])], inits, 13)
    ops = through_the_tool(model, X, tmp_path, modes=("int8", "int16x8", "float32"))
    assert ops == ["transpose", "conv2d", "logistic", "mul", "transpose"], ops
