"""The dynamic range mode (TFLite's hybrid kernels: int8 weights, float activations quantized at run time, row by
row, with asymmetric zero points). Oracle: TFLite's own interpreter (ai-edge-litert) on one-operator dynamic range
files written with the schema's builders. The run-time quantization (fixedpoint.asymmetric_quantize_rows and
mcu_quantize_row_s8) and the int32 sums are integer or single IEEE float32 operations on the same operands, so:
- our C equals its NumPy twin bit for bit (every float operation is one statement, none fused; tested here on
  the host and on every emulated core in test_targets.py);
- FULLY_CONNECTED and CONV_2D equal TFLite bit for bit: TFLite computes the scale in float32 as we do and
  rescales as bias + acc * (input_scale * weight_scale);
- DEPTHWISE_CONV_2D: the same int8 inputs and int32 sums (the outputs imply them), but TFLite rescales in
  another order of the two float32 multiplications. Either result is bias + acc * input_scale * weight_scale
  evaluated with at most three roundings on any term (two on the product, one on the sum), so each is within
  gamma_3 (|acc * input_scale * weight_scale| + |bias|) of the exact value, gamma_3 = 3u / (1 - 3u), u = 2^-24
  (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5), and they differ by at most twice that.
  The test prints the largest difference in units of u times that magnitude (the bound is 6)."""
import numpy as np
import pytest
import tflite
from helpers import ftensor
from tflite16 import (T, conv_options, fc_options, float_t, one_op_model, run_imported_float, run_litert,
                      weights_t)

import mcu_codegen
from mcu_codegen import ConversionError
from mcu_codegen import fixedpoint as fp
from mcu_codegen.ops import _common as c
from mcu_codegen.ops import conv2d, depthwise_conv2d, fully_connected

U = 2.0 ** -24
NO_CLAMP = (np.float32(-c.FLOAT_MAX), np.float32(c.FLOAT_MAX))


def edge_rows(rng, shape):
    """Random rows and the ones the quantization treats apart: all zero, all positive (zero point -128), all
    negative (127), one value, tiny and huge magnitudes, and an exact tie of the range."""
    x = rng.normal(0, 1, shape).astype(np.float32)
    flat = x.reshape(len(x), -1)
    flat[0] = 0
    flat[1] = np.abs(flat[1])
    flat[2] = -np.abs(flat[2])
    flat[3] = 0
    flat[3, flat.shape[1] // 2] = 2.5
    flat[4] *= np.float32(1e-30)
    flat[5] *= np.float32(1e30)
    flat[6] = np.linspace(-1, 1, flat.shape[1])
    return x


def hybrid_fc(rng, rows, k, n, per_channel=True, act=0):
    w = rng.normal(0, 1, (n, k)).astype(np.float32)
    bias = rng.normal(0, 1, n).astype(np.float32)
    w_q, scales = c.symmetric_weights(dict(weight=w), 0)
    if not per_channel:  # the converter's per-tensor FC weights
        scales = np.full(n, scales.max(), np.float32)
        w_q = np.clip(fp.round_half_away(w / scales[0]), -127, 127).astype(np.int8)
    lo, hi = (0.0, np.float32(c.FLOAT_MAX)) if act else NO_CLAMP
    p = dict(rows=rows, in_features=k, out_features=n, act_min=np.float32(lo), act_max=np.float32(hi),
             weights=w_q, weight_scales=scales, bias=bias)
    tensors = [float_t((rows, k)), weights_t(w_q, list(scales) if per_channel else scales[:1], 0),
               float_t((n,), bias), float_t((rows, n))]
    options_type, options = fc_options(act)
    return p, one_op_model(tflite.BuiltinOperator.FULLY_CONNECTED, options_type, options, tensors, 1)


@pytest.mark.parametrize("rows,k,n,per_channel,act", [(7, 40, 9, True, 0), (7, 40, 9, False, 1), (1, 250, 3, True, 0),
                                                      (12, 3, 16, True, 1)])
def test_fully_connected_hybrid_equals_tflite_bit_for_bit(run_kernel, rows, k, n, per_channel, act):
    rng = np.random.default_rng(rows * k + n)
    p, model = hybrid_fc(rng, rows, k, n, per_channel, act)
    x = edge_rows(rng, (12 * rows, k)).reshape(12, rows, k)
    want = run_litert(model, x)
    twin = fully_connected.hybrid_ref(p, x[:, None]).reshape(want.shape)
    np.testing.assert_array_equal(twin, want)
    for sample, expected in zip(x, want):
        got = run_kernel(fully_connected, p, [sample], (rows, n), np.float32, kind="hybrid")
        np.testing.assert_array_equal(got, expected)
    imported, converted = run_imported_float(model, x)
    assert [nd.attrs.get("compute") for nd in converted.graph.nodes] == ["hybrid"]
    np.testing.assert_array_equal(imported.reshape(want.shape), want)


def hybrid_conv(rng, depthwise, same, stride, act, h=9, w=7, ch=3, out_c=5, k=3, multiplier=2):
    oc = ch * multiplier if depthwise else out_c
    weight = rng.normal(0, 1, (k, k, oc) if depthwise else (oc, k, k, ch)).astype(np.float32)
    bias = rng.normal(0, 1, oc).astype(np.float32)
    pads = c.same_pads((h, w), (k, k), (stride, stride), (1, 1)) if same else (0, 0, 0, 0)
    attrs = dict(weight=weight, bias=bias, kernel=(k, k), strides=(stride, stride), dilations=(1, 1), pads=pads,
                 compute="hybrid", depth_multiplier=multiplier, act=(0.0, np.inf) if act else None)
    mod = depthwise_conv2d if depthwise else conv2d
    out_shape = mod.output_shape(attrs, [(1, h, w, ch)])
    p = mod.prepare(attrs, [ftensor((1, h, w, ch))], ftensor(out_shape))
    w_q = p["filter"][None] if depthwise else p["filter"]
    tensors = [float_t((1, h, w, ch)), weights_t(w_q, p["weight_scales"], 3 if depthwise else 0),
               float_t((oc,), bias), float_t(out_shape)]
    code = tflite.BuiltinOperator.DEPTHWISE_CONV_2D if depthwise else tflite.BuiltinOperator.CONV_2D
    model = one_op_model(code, *conv_options(depthwise, same, stride, act, multiplier), tensors, 1)
    return mod, p, model, out_shape


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
@pytest.mark.parametrize("same,stride,act", [(True, 1, 0), (False, 2, 1), (True, 2, 1)])
def test_conv_hybrid_against_tflite(run_kernel, depthwise, same, stride, act):
    rng = np.random.default_rng(stride + 2 * same + 4 * depthwise)
    mod, p, model, out_shape = hybrid_conv(rng, depthwise, same, stride, act)
    x = edge_rows(rng, (10, 9, 7, 3))
    want = run_litert(model, x[:, None])
    twin = mod.hybrid_ref(p, x[:, None]).reshape(want.shape)
    for sample, expected in zip(x, twin):
        np.testing.assert_array_equal(run_kernel(mod, p, [sample[None]], out_shape, np.float32, kind="hybrid"),
                                      expected.reshape(out_shape))
    imported, _ = run_imported_float(model, x[:, None])
    np.testing.assert_array_equal(imported.reshape(want.shape), twin)
    if not depthwise:
        np.testing.assert_array_equal(twin, want)
        return
    d, scale = conv2d.hybrid_input(p, x[:, None])
    cols = c.windows(d, c.window_attrs(p), 0).astype(np.float64)
    acc = depthwise_conv2d._depthwise(cols, p["filter"].astype(np.float64), p["depth_multiplier"])
    magnitude = np.abs(acc * scale[:, None, None, None].astype(np.float64) * p["weight_scales"]) + np.abs(p["bias"])
    diff = np.abs(twin.astype(np.float64) - want)
    gamma3 = 3 * U / (1 - 3 * U)
    assert np.all(diff <= 2 * gamma3 * magnitude.reshape(diff.shape)), diff.max()
    print(f"depthwise vs TFLite: {np.count_nonzero(diff)} of {diff.size} outputs differ, at most "
          f"{(diff / (U * magnitude.reshape(diff.shape))).max():.2f} u of the magnitude (bound 6)")


def test_quantize_rows_edge_cases():
    """The run-time quantization: an all-zero row is scale 1, zero point 0; one-signed rows put the zero point
    at the end of the range; every row's dequantized values are within half a step of the input."""
    x = edge_rows(np.random.default_rng(0), (8, 33))
    q, scale, zp = fp.asymmetric_quantize_rows(x)
    assert (scale[0], zp[0]) == (1.0, 0) and not q[0].any()
    assert zp[1] == -128 and zp[2] == 127
    err = np.abs((q - zp[:, None]) * scale[:, None].astype(np.float64) - x)
    assert np.all(err <= 0.5 * scale[:, None] * (1 + 1e-5))


def test_symmetric_hybrid_files_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    _, model = hybrid_fc(rng, 2, 8, 3)
    w_q = rng.integers(-127, 128, (3, 8)).astype(np.int8)
    tensors = [float_t((2, 8)), weights_t(w_q, [0.1] * 3, 0), float_t((3,), np.zeros(3)), float_t((2, 3))]
    symmetric = one_op_model(tflite.BuiltinOperator.FULLY_CONNECTED, *fc_options(0, asymmetric=False), tensors, 1)
    (tmp_path / "s.tflite").write_bytes(symmetric)
    with pytest.raises(ConversionError, match="symmetric input quantization is not supported"):
        mcu_codegen.Converter.from_tflite(tmp_path / "s.tflite")


def weights_model():
    """x (1, 3, 8, 6) -> Conv 3x3 + Relu -> depthwise 3x3 stride 2 -> Flatten -> Gemm: every op with a hybrid and a
    float16 kernel, for the cross-core tests (test_targets.py)."""
    from helpers import onnx_model
    from onnx import helper
    rng = np.random.default_rng(2)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Conv", ["r", "wd", "bd"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4,
                              strides=[2, 2]),
             helper.make_node("Flatten", ["d"], ["f"]),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1)]
    inits = {"w": rng.normal(0, 0.3, (4, 3, 3, 3)), "b": rng.normal(0, 0.1, 4), "wd": rng.normal(0, 0.3, (4, 1, 3, 3)),
             "bd": rng.normal(0, 0.1, 4), "wf": rng.normal(0, 0.3, (5, 48)), "bf": rng.normal(0, 0.1, 5)}
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 5])],
                      {k: v.astype(np.float32) for k, v in inits.items()}, 13)


# -- the mode on the shared float models (ONNX): no calibration data ---------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("case", ["kws", "ad", "ic"])
def test_dynamic_mode_c_equals_reference_and_stays_near_float(case):
    """C bit for bit equal to the NumPy reference (integer sums, float32 operations in the same order; the float
    ops besides the hybrid ones run float kernels whose twin is the float reference: kws's softmax and ic's
    pooling are such, so those models' outputs are compared within float32 rounding); weights in flash about
    a quarter of float32's; the output near onnxruntime's."""
    import onnxruntime as ort
    from mlperf import dataset, onnx_path
    from test_modes import converted, float_inputs
    _, model = converted(case, "dynamic")
    _, float_model = converted(case, "float32")
    hybrid = [n for n in model.graph.nodes if n.attrs.get("compute") == "hybrid"]
    assert hybrid and all(n.op in ("conv2d", "depthwise_conv2d", "fully_connected") for n in hybrid)
    assert model.report["inputs"][0]["dtype"] == "float32"
    x = float_inputs(model, case, 20)
    name = model.report["outputs"][0]["name"]
    got, want = model.build().run({"input_1": x})[name], model.reference({"input_1": x})[name]
    exact = all(n.attrs.get("compute") == "hybrid" or n.op in ("reshape", "transpose") for n in model.graph.nodes)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    ratio = model.report["weight_bytes"] / float_model.report["weight_bytes"]
    assert ratio < 0.35  # measured 0.30 (kws), 0.26 (ad, ic): float biases and scales stay
    sess = ort.InferenceSession(str(onnx_path(case)), providers=["CPUExecutionProvider"])
    ort_out = np.concatenate([sess.run(None, {"input_1": s})[0] for s in x])
    err = np.sum((want.reshape(ort_out.shape).astype(np.float64) - ort_out) ** 2)
    sqnr = 10 * np.log10(np.sum(ort_out.astype(np.float64) ** 2) / err)
    print(f"{case}: dynamic range SQNR {sqnr:.1f} dB vs onnxruntime, weights {model.report['weight_bytes']} B "
          f"({ratio:.2f} of float32), arena {model.arena_size} B")
    assert sqnr > 18  # measured 35.5 (kws), 44.0 (ad), 21.8 (ic) dB; int8: 21.7, 41.5, 19.0


def test_dynamic_mode_refuses_what_cannot_apply(tmp_path, capsys):
    from mlperf import onnx_path

    from mcu_codegen.cli import main
    model = str(onnx_path("ad"))
    np.savez(tmp_path / "c.npz", input_1=np.zeros((4, 1, 640), np.float32))
    for args, message in [(["--calibration", str(tmp_path / "c.npz")], "--mode dynamic takes no calibration data"),
                          (["--int16-layers", "x"], "--int16-layers needs --mode int8"),
                          (["--io", "int8"], "--mode dynamic has float32 inputs and outputs"),
                          (["--float-fallback"], "--float-fallback applies to the integer modes"),
                          (["--bias-correction"], "do not apply to --mode dynamic")]:
        assert main(["convert", model, "--mode", "dynamic", "-o", str(tmp_path / "o"), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert main(["convert", model, "--mode", "dynamic", "--weight-clipping", "-o", str(tmp_path / "o")]) == 0
    assert "float32 (1, 640)" in capsys.readouterr().out


def test_float_modes_on_a_core_without_fpu_warn_about_soft_float(tmp_path, capsys):
    from mlperf import onnx_path

    from mcu_codegen.cli import main
    model = str(onnx_path("ad"))
    assert main(["convert", model, "--mode", "dynamic", "--board", "mps2-an385-m0plus", "-o", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no FPU" in err[0] and "hybrid kernels 2.4x" in err[0], err
    assert main(["convert", model, "--mode", "dynamic", "--board", "mps2-an386", "-o", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err
    # a project converted without --board says it too when built or run for the core without an FPU
    assert main(["build", str(tmp_path / "b"), "--board", "mps2-an385-m0plus"]) == 0
    assert "has no FPU" in capsys.readouterr().err
    assert main(["build", str(tmp_path / "b"), "--board", "mps2-an386"]) == 0
    assert "warning" not in capsys.readouterr().err
    (tmp_path / "b" / "reference.npz").unlink()  # not needed by the firmware: the warning comes from report.json
    assert main(["build", str(tmp_path / "b"), "--board", "mps2-an385-m0plus"]) == 0
    assert "has no FPU" in capsys.readouterr().err


def test_debug_and_evaluate_take_the_float_modes_without_calibration(tmp_path, capsys):
    from mlperf import dataset, onnx_path

    from mcu_codegen.cli import main
    np.savez(tmp_path / "e.npz", input_1=dataset("ad", "evaluation", 8))
    model = str(onnx_path("ad"))
    assert main(["debug", model, "--mode", "dynamic", "--eval", str(tmp_path / "e.npz")]) == 0
    assert "run-time 8-bit input grid of dynamic range: try --weight-clipping, or --mode float16" in capsys.readouterr().out
    assert main(["evaluate", model, "--mode", "float16", "--eval", str(tmp_path / "e.npz")]) == 0
    sqnr = float(next(line for line in capsys.readouterr().out.splitlines() if line.startswith("sqnr_db")).split()[1])
    assert sqnr > 50  # float16 weights, float32 arithmetic
