"""MAXIMUM / MINIMUM: broadcast as add / mul (tests/binary.py's shapes); each input requantized to the output's
scale, C vs twin over zero points -128 / 0 / 127; TFLM on one-operator int8 and int16 files (one quantization
for inputs and output, as TFLM compares raw integers); ONNX Max / Min through the tool."""
import binary
import numpy as np
import pytest
from helpers import dequantize, qtensor, rand_int8

from mcu_codegen.ops import maximum, minimum

MODS = {"maximum": (maximum, "Max"), "minimum": (minimum, "Min")}
SAME_QUANTS = [((0.05, -128),) * 3, ((0.02, 5),) * 3, ((0.1, 127),) * 3]


@pytest.mark.parametrize("kind", MODS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_float_ref_matches_onnxruntime(kind, shapes):
    binary.check_float_ref_matches_onnxruntime(MODS[kind][0], MODS[kind][1], shapes)


@pytest.mark.parametrize("kind", MODS)
@pytest.mark.parametrize("zps", binary.ZPS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_equals_int_ref(run_kernel, kind, shapes, zps):
    binary.check_c_equals_int_ref(run_kernel, MODS[kind][0], shapes, zps, None)


@pytest.mark.parametrize("kind", MODS)
def test_int_ref_within_one_step_of_float(kind):
    mod = MODS[kind][0]
    rng = np.random.default_rng(2)
    x1, x2, out = qtensor((1, 64), 0.05, 3), qtensor((1, 64), 0.02, -4), qtensor((1, 64), 0.06, 1)
    q1, q2 = rand_int8(rng, (1, 64)), rand_int8(rng, (1, 64))
    want = mod.float_ref({"minimum": kind == "minimum"}, dequantize(q1, x1)[None], dequantize(q2, x2)[None])[0]
    got = dequantize(mod.int_ref(mod.prepare({}, [x1, x2], out), q1[None], q2[None])[0], out)
    assert np.abs(got - np.clip(want, -129 * 0.06, 126 * 0.06)).max() / 0.06 <= 1.0  # double rounding


@pytest.mark.parametrize("kind", MODS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_float32_equal(run_kernel, kind, shapes):
    binary.check_c_float32_within_rounding(run_kernel, MODS[kind][0], shapes)


@pytest.mark.parametrize("kind", MODS)
@pytest.mark.parametrize("quants", SAME_QUANTS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_int8_equals_tflm(run_kernel, kind, shapes, quants):
    size = binary.check_int8_equals_tflm(run_kernel, MODS[kind][0], kind, shapes, quants,
                                         through_tool=shapes == binary.BROADCASTS[1])
    print(f"{kind.upper()} {shapes} {quants}: {size} outputs equal to TFLM")


@pytest.mark.parametrize("kind", MODS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_16x8_equals_tflm(run_kernel, kind, shapes):
    size = binary.check_int16_equals_tflm(run_kernel, MODS[kind][0], kind, shapes, (1e-3, 1e-3, 1e-3))
    print(f"{kind.upper()} 16x8 {shapes}: {size} outputs equal to TFLM")


def test_tflite_inputs_quantized_unlike_the_output_are_refused(tmp_path):
    import mcu_codegen
    model, _ = binary.binary_model("maximum", ((1, 4), (1, 4)), ((0.05, 0), (0.02, 0), (0.05, 0)))
    (tmp_path / "m.tflite").write_bytes(model)
    with pytest.raises(mcu_codegen.ConversionError, match=r"operator 0 \(MAXIMUM\): inputs quantized unlike"):
        mcu_codegen.Converter.from_tflite(tmp_path / "m.tflite")


@pytest.mark.parametrize("kind", MODS)
def test_onnx_through_the_tool(tmp_path, kind):
    """Max / Min of a conv's map and a per-channel constant, then of two activations (the conv and a relu of it):
    the layout transposes cancel through both."""
    from helpers import onnx_model, through_the_tool
    from onnx import helper
    rng = np.random.default_rng(5)
    op = MODS[kind][1]
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "k": rng.normal(0, 0.3, (4, 1, 1)).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node(op, ["c", "k"], ["m"]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node(op, ["m", "r"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 8, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, ("int8", "int16x8", "float32"))
    assert sorted(ops) == sorted(["transpose", "conv2d", "constant", kind, "relu", kind, "transpose"]), ops


def test_onnx_max_of_three_inputs_is_one_clear_error(tmp_path):
    import mcu_codegen
    from helpers import onnx_model
    from onnx import helper, save
    save(onnx_model([helper.make_node("Max", ["x", "x", "x"], ["y"], name="max3")], [("x", [1, 4])], [("y", [1, 4])]),
         tmp_path / "m.onnx")
    with pytest.raises(mcu_codegen.ConversionError, match=r"node 'max3' \(Max\): Max of 3 inputs is not supported"):
        mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
