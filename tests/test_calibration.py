"""Issue 5 (part): calibration methods, the per-layer debugger and evaluate."""
import subprocess
import sys

import numpy as np
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
    assert "SQNR dB" in r.stdout and "layers that lose the most:" in r.stdout
    assert r.stdout.count("fully_connected") >= 10
