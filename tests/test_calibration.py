"""Issue 5 (part): calibration methods, the per-layer debugger and evaluate."""
import subprocess
import sys

import numpy as np
import onnx
import pytest
from mlperf import dataset, onnx_path

import mcu_codegen
from mcu_codegen import calibration, debug


def _range(values, method):
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    if method == "entropy":
        return calibration._entropy(np.histogram(values, bins=calibration.BINS, range=(lo, hi))[0], lo, hi)
    return {"percentile": calibration._percentile, "mse": calibration._mse}[method](values, lo, hi)


def test_mse_clips_an_exponential_tail():
    """|Laplace(0, 1)|: the squared-error optimum on 256 levels cuts the rare tail (max ~12.9) short of the max."""
    values = np.abs(np.random.default_rng(3).laplace(0, 1, 200_000))
    lo, hi = _range(values, "mse")
    assert lo == 0.0 and 8.0 < hi < 0.95 * values.max(), hi


@pytest.mark.parametrize("method", ["percentile", "entropy"])
def test_methods_clip_a_heavy_tail(method):
    """Student-t (2 degrees of freedom) magnitudes: rare huge values; every method but min/max clips them."""
    values = np.abs(np.random.default_rng(3).standard_t(2, 200_000))
    lo, hi = _range(values, method)
    assert lo == 0.0 and 1.0 < hi < 0.5 * values.max(), (method, hi, values.max())


@pytest.mark.parametrize("method", ["percentile", "entropy"])
def test_methods_clip_a_lone_outlier(method):
    """ReLU-like data with one huge outlier: min/max would spend the whole grid on it. (MSE keeps it: one value
    500 away costs more squared error than the whole grid's rounding.)"""
    rng = np.random.default_rng(0)
    values = np.concatenate([np.abs(rng.normal(0, 1, 200_000)), [500.0]])
    lo, hi = _range(values, method)
    assert lo == 0.0 and 2.0 < hi < 0.5 * 500, (method, hi)


@pytest.mark.parametrize("method", ["percentile", "mse"])
def test_methods_keep_a_tight_range(method):
    """Uniform data has no outliers: nothing much to clip."""
    values = np.random.default_rng(1).uniform(0, 10, 100_000)
    assert _range(values, method)[1] > 9.0


def test_unknown_method_is_a_clear_error():
    conv = mcu_codegen.Converter.from_onnx(onnx_path("ad"))
    conv.representative_dataset = [{"input_1": dataset("ad", "calibration", 4)}]
    conv.calibration_method = "median"
    with pytest.raises(mcu_codegen.ConversionError, match="calibration method 'median' is not one of"):
        conv.convert()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["percentile", "entropy", "mse"])
def test_every_method_stays_bit_exact(method):
    conv = mcu_codegen.Converter.from_onnx(onnx_path("kws"))
    conv.representative_dataset = [{"input_1": dataset("kws", "calibration", 40)}]
    conv.calibration_method = method
    model = conv.convert()
    x = np.random.default_rng(2).integers(-128, 128, (20, 1, 49, 10, 1)).astype(np.int8)
    np.testing.assert_array_equal(model.build().run({"input_1": x})["dense"], model.reference({"input_1": x})["dense"])


def test_debug_rows_and_evaluate():
    conv = mcu_codegen.Converter.from_onnx(onnx_path("kws"))
    conv.representative_dataset = [{"input_1": dataset("kws", "calibration", 40)}]
    model = conv.convert()
    x = dataset("kws", "evaluation", 30).reshape(30, 1, 49, 10, 1)
    rows = debug.layer_errors(conv.graph, model.graph, x)
    assert rows[0]["node"] == "input" and len(rows) == len(model.graph.nodes) + 1
    assert all(r["sqnr_db"] > 10 for r in rows) and rows[1]["sqnr_db"] > rows[-2]["sqnr_db"]  # error accumulates
    float_answers = debug.reference.execute(conv.graph, {conv.graph.inputs[0]: x}, integer=False)
    labels = float_answers[conv.graph.outputs[0]].reshape(30, -1).argmax(1)
    labels[::2] = (labels[::2] + 1) % 12  # every other label wrong on purpose: the float model scores 50%
    result = debug.evaluate(conv.graph, model.graph, x, labels)
    assert result["float_accuracy"] == 0.5 and result["top1_agreement"] > 0.9
    assert abs(result["quantized_accuracy"] - 0.5) <= 1 - result["top1_agreement"]
    with pytest.raises(mcu_codegen.ConversionError, match="labels must be 30 class indices"):
        debug.evaluate(conv.graph, model.graph, x, np.eye(12)[labels])


def test_debug_cli_prints_the_table_and_advice(tmp_path):
    np.savez(tmp_path / "cal.npz", input_1=dataset("ad", "calibration"))
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "debug", str(onnx_path("ad")), "--calibration",
                        str(tmp_path / "cal.npz")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "SQNR dB" in r.stdout and "layers that lose the most" in r.stdout
    assert r.stdout.count("fully_connected") >= 10


def _bias_correction_case(tmp_path, pads, group):
    """conv (padded or not) -> depthwise -> FC, NCHW: the layers bias correction handles."""
    from helpers import onnx_model
    from onnx import helper
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=pads, kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=pads, kernel_shape=[3, 3], group=group),
             helper.make_node("Flatten", ["c2"], ["f"]),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], transB=1)]
    hw = 8 if pads[0] else 4
    inits = {"w1": rng.normal(0.1, 0.4, (4, 2, 3, 3)), "b1": rng.normal(0, 0.1, 4),
             "w2": rng.normal(0.1, 0.4, (4, 4 // group, 3, 3)), "b2": rng.normal(0, 0.1, 4),
             "w3": rng.normal(0.05, 0.3, (3, 4 * hw * hw)), "b3": rng.normal(0, 0.1, 3)}
    model = onnx_model(nodes, [("x", [1, 2, 8, 8])], [("y", [1, 3])],
                       {k: v.astype(np.float32) for k, v in inits.items()})
    onnx.save(model, tmp_path / "bc.onnx")
    return tmp_path / "bc.onnx", rng.normal(0.5, 1, (64, 1, 2, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("pads,group", [([0, 0, 0, 0], 1), ([1, 1, 1, 1], 1), ([1, 1, 1, 1], 4)])
def test_bias_correction_removes_the_mean_error_of_the_weights(tmp_path, pads, group):
    """Each corrected layer, run in float with its quantized weights (dequantized) and its corrected bias on the
    float model's own input: the mean output error per channel that the weights cause shrinks at least tenfold
    (padded windows too: each tap counts by the share of outputs where it lands inside the input), and to zero
    for the FC. Windows use each input channel's mean over the whole map rather than per-position means, which
    would be exact here but follow the calibration data's layout too closely (kws: 20.5 dB against 23.5 dB)."""
    from mcu_codegen import ops, reference
    from mcu_codegen.ops._common import quantize_weights_and_bias
    from mcu_codegen.quantize import WEIGHT_OPS
    path, x = _bias_correction_case(tmp_path, pads, group)
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.representative_dataset = [{"x": x}]
    conv.bias_correction = True
    quantized = conv.convert().graph
    floats = reference.execute(conv.graph, {conv.graph.inputs[0]: x}, integer=False, keep=True)
    checked = 0
    for node in conv.graph.nodes:
        if node.op not in WEIGHT_OPS:
            continue
        mod, axis = ops.get(node.op), 2 if node.op == "depthwise_conv2d" else 0
        q = next(n for n in quantized.nodes if n.outputs == node.outputs)
        w_q, _, scales = quantize_weights_and_bias(q.attrs, axis, quantized.tensors[q.inputs[0]].scale)
        shape = [1] * w_q.ndim
        shape[axis] = -1
        w_deq = (w_q * scales.reshape(shape)).astype(np.float32)
        x_in = floats[node.inputs[0]]
        want = mod.float_ref(dict(node.attrs, act=None), x_in).astype(np.float64)
        before = mod.float_ref(dict(node.attrs, weight=w_deq, act=None), x_in).astype(np.float64)
        after = mod.float_ref(dict(q.attrs, weight=w_deq, act=None), x_in).astype(np.float64)
        axes = tuple(range(want.ndim - 1))
        err_before = np.abs(before.mean(axis=axes) - want.mean(axis=axes)).max()
        err_after = np.abs(after.mean(axis=axes) - want.mean(axis=axes)).max()
        assert err_after < err_before / 10, (node.op, err_before, err_after)
        if node.op == "fully_connected":  # every input element has its own weight: exact
            assert err_after <= 1e-5 * np.abs(want).max(), err_after
        checked += 1
    assert checked == 3


def test_debug_advice_fits_the_mode_and_the_options_in_use():
    rows = [dict(node="in", op="quantize", sqnr_db=60.0, rmse_lsb=0.3, clipped=0.0),
            dict(node="c1", op="conv2d", sqnr_db=30.0, rmse_lsb=0.4, clipped=0.0),
            dict(node="fc", op="fully_connected", sqnr_db=20.0, rmse_lsb=2.0, clipped=0.0),
            dict(node="sm", op="softmax", sqnr_db=15.0, rmse_lsb=3.0, clipped=0.0)]
    hints = {row["node"]: hint for row, _, hint in debug.advice(rows)}
    assert "--int16-layers c1" in hints["c1"] and "--bias-correction" in hints["fc"]
    assert "--int16-layers sm" in hints["sm"] and "calibration-method" not in hints["sm"]  # its grid is fixed
    hints = {row["node"]: hint for row, _, hint in debug.advice(rows, mode="int16x8", applied=["bias_correction"])}
    assert hints["c1"].endswith("try --weight-clipping") and "calibration-method" not in "".join(hints.values())
    assert debug.advice(rows, mode="float32") == []
    # a layer run in 16x8 inside an int8 model (--int16-layers): int16 steps, no calibration advice
    mixed = [dict(r, dtype="int16") if r["node"] == "fc" else r for r in rows]
    hints = {row["node"]: hint for row, _, hint in debug.advice(mixed)}
    assert "calibration-method" not in hints["fc"] and "--bias-correction" in hints["fc"]
