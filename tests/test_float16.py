"""The float16 mode (TFLite's float16 quantization): conv / depthwise / fully connected weights stored as IEEE
half and widened to float32 in the kernel (mcu_half_to_float, exact), float32 arithmetic. Oracle: TFLite's own
interpreter (ai-edge-litert) on float16 files (DEQUANTIZE of float16 constants, as the converter writes them),
built with the schema's builders; onnxruntime on the ONNX path.

Bound: every implementation computes bias + sum of n products x * w of the same float32 values (the half weights
widened exactly) in some order; each is within gamma_{n+1} sum |x w| (+ |bias|) of the exact sum (Higham, eq.
3.5, gamma_k = k u / (1 - k u), u = 2^-24), so two of them differ by at most twice that. The widening itself is
exact: checked on all 65536 half values against NumPy's."""
import numpy as np
import pytest
import tflite
from helpers import ftensor
from tflite16 import T, conv_options, fc_options, float_t, ops_model, run_imported_float, run_litert

import mcu_codegen
from mcu_codegen import ConversionError
from mcu_codegen.ops import _common as c
from mcu_codegen.ops import conv2d, depthwise_conv2d, fully_connected

U = 2.0 ** -24


def test_half_to_float_is_exact_on_every_half(runtime):
    ffi, lib = runtime
    bits = np.arange(65536, dtype=np.uint16)
    h = ffi.new("uint16_t[]", bits.tolist())
    out = ffi.new("float[]", 65536)
    lib.t_half(h, out, 65536)
    got = np.frombuffer(ffi.buffer(out, 4 * 65536), np.float32)
    want = bits.view(np.float16).astype(np.float32)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))  # NaN payloads and signed zeros too


def half_t(values):
    values = np.asarray(values, np.float16)
    return dict(shape=values.shape, type=T.FLOAT16, scales=[], zps=[], data=values)


def float16_file(code, options, x_shape, w_half, bias_half, out_shape):
    """x -> op(x, DEQUANTIZE(w), DEQUANTIZE(bias)): tensors 0 input, 1/2 half constants, 3/4 their float32
    copies, 5 output."""
    tensors = [float_t(x_shape), half_t(w_half), half_t(bias_half), float_t(w_half.shape), float_t(bias_half.shape),
               float_t(out_shape)]
    dq = tflite.BuiltinOperator.DEQUANTIZE
    return ops_model([(dq, 0, None, [1], [3]), (dq, 0, None, [2], [4]), (code, *options, [0, 3, 4], [5])],
                     tensors, [0], [5])


def within_rounding(got, want, magnitude, terms):
    n = terms + 1
    bound = 2 * n * U / (1 - n * U) * magnitude
    diff = np.abs(got.astype(np.float64) - want)
    assert np.all(diff <= bound), (diff - bound).max()
    return diff.max()


CASES = [("fc", True, 1), ("conv", True, 1), ("conv", False, 2), ("depthwise", True, 1), ("depthwise", False, 2)]


@pytest.mark.parametrize("kind,same,stride", CASES)
def test_float16_file_against_tflite(run_kernel, kind, same, stride):
    """TFLite's float16 file through the tool: the DEQUANTIZEs fold, the weights stay half (the _f16 kernel);
    C, its twin (the float reference on the half weights) and TFLite within the bound."""
    rng = np.random.default_rng(stride + 3 * (kind == "conv"))
    if kind == "fc":
        mod, x_shape, w = fully_connected, (3, 40), rng.normal(0, 1, (9, 40))
        attrs, code, options = {}, tflite.BuiltinOperator.FULLY_CONNECTED, fc_options(1)
        out_shape, terms = (3, 9), 40
    else:
        depthwise = kind == "depthwise"
        mod = depthwise_conv2d if depthwise else conv2d
        x_shape, multiplier = (1, 9, 7, 3), 2
        w = rng.normal(0, 1, (1, 3, 3, 6) if depthwise else (5, 3, 3, 3))
        pads = c.same_pads((9, 7), (3, 3), (stride, stride), (1, 1)) if same else (0, 0, 0, 0)
        attrs = dict(kernel=(3, 3), strides=(stride, stride), dilations=(1, 1), pads=pads, depth_multiplier=multiplier)
        code = tflite.BuiltinOperator.DEPTHWISE_CONV_2D if depthwise else tflite.BuiltinOperator.CONV_2D
        options = conv_options(depthwise, same, stride, 1, multiplier)
        out_shape = mod.output_shape(dict(attrs, weight=w[0] if depthwise else w), [x_shape])
        terms = 9 if depthwise else 27
    w_half, bias_half = w.astype(np.float16), rng.normal(0, 1, out_shape[-1]).astype(np.float16)
    model = float16_file(code, options, x_shape, w_half, bias_half, out_shape)
    x = rng.normal(0, 1, (8,) + x_shape).astype(np.float32)
    want = run_litert(model, x)
    got, converted = run_imported_float(model, x)
    node = next(n for n in converted.graph.nodes if n.op == mod.__name__.split(".")[-1])
    assert node.attrs["compute"] == "float16" and node.params[("weights" if kind == "fc" else "filter") + "_f16"].dtype == np.uint16
    assert converted.report["weight_bytes"] == w_half.nbytes + 4 * bias_half.size  # half weights, float32 bias
    weight = w_half.astype(np.float32)[0] if kind == "depthwise" else w_half.astype(np.float32)
    full = dict(attrs, weight=weight, bias=bias_half.astype(np.float32), act=(0.0, np.inf))
    twin = mod.float_ref(full, x[:, None] if kind != "fc" else x).reshape(want.shape)
    magnitude = np.abs(mod.float_ref(dict(full, weight=np.abs(weight), bias=np.abs(full["bias"]), act=None),
                                     np.abs(x)[:, None] if kind != "fc" else np.abs(x))).reshape(want.shape)
    d_tflite = within_rounding(got.reshape(want.shape), want, magnitude, terms)
    within_rounding(twin, want, magnitude, terms)
    p = mod.prepare(dict(full, compute="float16"), [ftensor(x_shape)], ftensor(out_shape))
    for sample, expected, size in zip(x, twin, magnitude):
        c_out = run_kernel(mod, p, [sample], out_shape, np.float32, kind="float16")
        within_rounding(c_out, expected.reshape(out_shape), size.reshape(out_shape), terms)
    print(f"{kind}: C vs TFLite max |diff| {d_tflite:.2e}")


@pytest.mark.slow
@pytest.mark.parametrize("case", ["kws", "ad"])
def test_float16_mode_halves_the_weights_and_stays_near_float32(case):
    import onnxruntime as ort
    from mlperf import onnx_path
    from test_modes import converted, float_inputs
    _, model = converted(case, "float16")
    _, float_model = converted(case, "float32")
    x = float_inputs(model, case, 20)
    name = model.report["outputs"][0]["name"]
    got, want = model.build().run({"input_1": x})[name], model.reference({"input_1": x})[name]
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()  # float32 rounding, as the float32 mode
    ratio = model.report["weight_bytes"] / float_model.report["weight_bytes"]
    assert 0.5 <= ratio < 0.55  # float32 biases stay
    sess = ort.InferenceSession(str(onnx_path(case)), providers=["CPUExecutionProvider"])
    ort_out = np.concatenate([sess.run(None, {"input_1": s})[0] for s in x]).astype(np.float64)
    sqnr = 10 * np.log10(np.sum(ort_out ** 2) / np.sum((want.reshape(ort_out.shape) - ort_out) ** 2))
    print(f"{case}: float16 weights SQNR {sqnr:.1f} dB vs onnxruntime, weights {model.report['weight_bytes']} B "
          f"({ratio:.2f} of float32)")
    assert sqnr > 50


def test_float16_refuses_weights_beyond_half(tmp_path):
    import onnx
    from helpers import onnx_model
    from onnx import helper
    w = np.full((2, 3), 1e5, np.float32)
    model = onnx_model([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], [("x", [1, 3])], [("y", [1, 2])],
                       {"w": w})
    onnx.save(model, tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.mode = "float16"
    with pytest.raises(ConversionError, match="exceeds float16's largest value"):
        conv.convert()
