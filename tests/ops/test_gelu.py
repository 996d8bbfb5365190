"""GELU: the int8 table equal to TFLite's (its GELU kernel; TFLM has none) over all 256 inputs at many scales, exact
and approximate, and the int16 one over all 65536; C vs twin; the float reference against onnxruntime's Gelu
(opset 20) and the C float kernel; the Erf patterns of exporters fused into one node."""
import numpy as np
import pytest
import tflite
from helpers import c_equals_int_ref, dequantize, ftensor, qtensor, run_single_node
from tflite16 import int8_t, one_op_model, run_imported, run_litert
from unary import ALL_INT8, random_quants

from mcu_codegen.ops import gelu

QUANTS = [((0.02687, 6), (0.0134, -115)), ((0.05, -128), (0.04, 127)), ((0.1, 0), (0.05, -100)),
          ((1e-3, 7), (2e-3, -20)), ((0.5, -10), (0.3, -128))]


def gelu_file(quant, approximate):
    def options(b):
        tflite.GeluOptionsStart(b)
        tflite.GeluOptionsAddApproximate(b, approximate)
        return tflite.GeluOptionsEnd(b)
    return one_op_model(tflite.BuiltinOperator.GELU, tflite.BuiltinOptions.GeluOptions, options,
                        [int8_t(ALL_INT8.shape, *quant[0]), int8_t(ALL_INT8.shape, *quant[1])], 1)


@pytest.mark.parametrize("approximate", [False, True])
def test_float_ref_matches_onnxruntime(approximate):
    x = np.random.default_rng(0).normal(0, 3, (1, 3, 5, 7)).astype(np.float32)
    want = run_single_node("Gelu", [x], {"approximate": "tanh" if approximate else "none"}, opset=20)
    # onnxruntime evaluates the tanh form in float32 (a few 1e-7 off near 0); the exact form to the last bits
    np.testing.assert_allclose(gelu.float_ref({"approximate": approximate}, x[None])[0], want, rtol=1e-6,
                               atol=1e-6 if approximate else 1e-7)


@pytest.mark.parametrize("approximate", [False, True])
def test_c_float32(run_kernel, approximate):
    x = np.random.default_rng(1).normal(0, 3, (1, 9, 31)).astype(np.float32)
    attrs = {"approximate": approximate}
    got = run_kernel(gelu, gelu.prepare(attrs, [ftensor(x.shape)], ftensor(x.shape)), [x], x.shape, np.float32)
    np.testing.assert_allclose(got, gelu.float_ref(attrs, x[None])[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("quant", QUANTS + random_quants(n=30, seed=16))
def test_int8_table_equals_tflite(run_kernel, quant, approximate):
    """Every int8 input through TFLite's GELU, our twin (the table) and our C kernel: equal bit for bit; the table
    within half a step of the float function."""
    model = gelu_file(quant, approximate)
    want = run_litert(model, ALL_INT8[None])[0]
    x, out = qtensor(ALL_INT8.shape, *quant[0]), qtensor(ALL_INT8.shape, *quant[1])
    attrs = {"approximate": approximate}
    got = c_equals_int_ref(run_kernel, gelu, gelu.prepare(attrs, [x], out), [ALL_INT8], out)
    np.testing.assert_array_equal(got, want)
    exact = gelu.float_ref(attrs, dequantize(ALL_INT8, x)[None].astype(np.float64))[0]
    exact = np.clip(exact, (-128 - out.zero_point) * out.scale, (127 - out.zero_point) * out.scale)
    assert np.abs(dequantize(got, out) - exact).max() / out.scale <= 0.5 + 1e-3
    if quant == QUANTS[0]:
        np.testing.assert_array_equal(run_imported(model, [ALL_INT8[None]], "int8")[0], want)


def _erf_gelu(variant):
    """x -> Gemm -> GELU written with Erf as exporters do: torch's (x * s) * 0.5 with s = 1 + Erf(x / sqrt 2),
    tf2onnx's (x * 0.5) * s with x * (1 / sqrt 2), and x * (s * 0.5)."""
    from helpers import onnx_model
    from onnx import helper
    rng = np.random.default_rng(7)
    inits = {"w": rng.normal(0, 0.5, (8, 6)).astype(np.float32), "sqrt2": np.array(np.sqrt(2), np.float32),
             "rsqrt2": np.array(np.sqrt(0.5), np.float32), "one": np.array(1, np.float32),
             "half": np.array(0.5, np.float32)}
    scale = helper.make_node("Div", ["h", "sqrt2"], ["u"]) if variant != "tf2onnx" else \
        helper.make_node("Mul", ["h", "rsqrt2"], ["u"])
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"]), scale, helper.make_node("Erf", ["u"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["s"])]
    nodes += {"torch": [helper.make_node("Mul", ["h", "s"], ["m"]), helper.make_node("Mul", ["m", "half"], ["y"])],
              "tf2onnx": [helper.make_node("Mul", ["h", "half"], ["m"]), helper.make_node("Mul", ["m", "s"], ["y"])],
              "half_first": [helper.make_node("Mul", ["s", "half"], ["m"]), helper.make_node("Mul", ["h", "m"], ["y"])]
              }[variant]
    del inits["rsqrt2" if variant != "tf2onnx" else "sqrt2"]
    return onnx_model(nodes, [("x", [1, 8])], [("y", [1, 6])], inits, 13)


@pytest.mark.parametrize("variant", ["torch", "tf2onnx", "half_first"])
def test_erf_pattern_fuses_into_one_gelu(tmp_path, variant):
    from helpers import through_the_tool
    x = np.random.default_rng(8).normal(0, 1, (16, 1, 8)).astype(np.float32)
    assert through_the_tool(_erf_gelu(variant), x, tmp_path, ("int8", "float32")) == ["fully_connected", "gelu"]


@pytest.mark.parametrize("variant", ["torch", "tf2onnx", "half_first"])
@pytest.mark.parametrize("reused", ["u", "e", "s", "m"])
def test_erf_pattern_with_a_part_read_elsewhere_stays_a_chain(tmp_path, variant, reused):
    """y = GELU's chain + one of its intermediates: not fused (the intermediate would vanish); the chain has no
    kernel for Erf, so it is refused in one line naming the Erf node."""
    import onnx
    from onnx import helper

    import mcu_codegen
    from mcu_codegen.ir import ConversionError
    model = _erf_gelu(variant)
    next(n for n in model.graph.node if n.output[0] == "y").output[0] = "y0"
    model.graph.node.append(helper.make_node("Add", ["y0", reused], ["y"]))
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(ConversionError, match="^[^\\n]*: 1 unsupported node\\(s\\): 'e' \\(Erf\\)$"):
        mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")


def test_bare_erf_is_refused_naming_the_node(tmp_path):
    import onnx
    from helpers import onnx_model
    from onnx import helper

    import mcu_codegen
    from mcu_codegen.ir import ConversionError
    model = onnx_model([helper.make_node("Erf", ["x"], ["y"], name="lonely_erf")], [("x", [1, 8])], [("y", [1, 8])],
                       {}, 13)
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(ConversionError, match="'lonely_erf' \\(Erf\\)"):
        mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("scales", [(1e-3, 5e-4), (3e-4, 2e-4), (1e-4, 1e-4), (2e-3, 1e-3)])
def test_int16_equals_tflite(run_kernel, scales, approximate):
    """16x8: all 65536 int16 inputs through TFLite's GELU (its interpolated 513-entry table), our twin, our C."""
    from helpers import stensor
    from tflite16 import activation_t
    from unary import ALL_INT16

    def options(b):
        tflite.GeluOptionsStart(b)
        tflite.GeluOptionsAddApproximate(b, approximate)
        return tflite.GeluOptionsEnd(b)
    model = one_op_model(tflite.BuiltinOperator.GELU, tflite.BuiltinOptions.GeluOptions, options,
                         [activation_t(ALL_INT16.shape, scales[0]), activation_t(ALL_INT16.shape, scales[1])], 1)
    want = run_litert(model, ALL_INT16[None])[0]
    x, out = stensor(ALL_INT16.shape, scales[0]), stensor(ALL_INT16.shape, scales[1])
    got = c_equals_int_ref(run_kernel, gelu, gelu.prepare({"approximate": approximate}, [x], out), [ALL_INT16], out)
    np.testing.assert_array_equal(got, want)
    if scales == (1e-3, 5e-4) and not approximate:
        np.testing.assert_array_equal(run_imported(model, [ALL_INT16[None]], "int16")[0], want)
