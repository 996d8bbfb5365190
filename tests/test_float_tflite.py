"""A float .tflite goes through the same post-training quantization as a float ONNX model (calibrated on a
representative dataset) instead of being refused: the MLPerf Tiny float .tflite files quantize to the very
integers their ONNX twins do, and the float Keras exports in tests/models run within an SQNR floor of TFLM's
float interpreter with the C equal to the reference bit for bit."""
import subprocess
import sys

import numpy as np
import pytest

import exporter_models as em
import mcu_codegen
import mlperf

FLOAT_TFLITE = {"ad": "ad/ad01_fp32.tflite", "kws": "kws/derived_kws_ref_model_savedmodel_float32.tflite"}


def converted(converter, calibration):
    converter.representative_dataset = [[calibration]]
    converter.inference_input_type = converter.inference_output_type = "float32"
    return converter.convert()


@pytest.mark.parametrize("case", ["ad", pytest.param("kws", marks=pytest.mark.slow)])
def test_float_tflite_quantizes_like_its_onnx_twin(case):
    """The same calibration data, the same ops and the same outputs, bit for bit; for ad, whose two files hold the
    same float weights, every kernel integer is the same too (kws's .tflite and .onnx differ in the last bits of
    some folded weights: requantization multipliers differ by up to 195 in 2^31, the outputs not at all)."""
    calibration, evaluation = mlperf.dataset(case, "calibration"), mlperf.dataset(case, "evaluation")
    converter = mcu_codegen.Converter.from_tflite(mlperf.SHARED / FLOAT_TFLITE[case])
    assert not converter.graph.quantized  # a float graph, as the ONNX importer's
    from_tflite = converted(converter, calibration)
    from_onnx = converted(mcu_codegen.Converter.from_onnx(mlperf.onnx_path(case)), calibration)
    assert [n.op for n in from_tflite.graph.nodes] == [n.op for n in from_onnx.graph.nodes]
    for a, b in zip(from_tflite.graph.nodes, from_onnx.graph.nodes):
        assert a.params.keys() == b.params.keys()
        for key in a.params if case == "ad" else ():
            np.testing.assert_array_equal(np.asarray(a.params[key]), np.asarray(b.params[key]), err_msg=key)
    got = next(iter(from_tflite.reference([evaluation]).values()))
    want = next(iter(from_onnx.reference([evaluation]).values()))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["keras_kws_dscnn_float.tflite", "keras_autoencoder_float.tflite"])
def test_float_keras_tflite_against_tflm(name):
    """C == reference bit for bit; within the floor of test_exporter_models.SQNR_FLOOR_DB of TFLM's float run."""
    from test_exporter_models import SQNR_FLOOR_DB
    path = em.MODELS / name
    model = em.convert(path)
    assert model.report["inputs"][0]["dtype"] == "float32"
    evaluation = em.halves(em.data(path))[1]
    feeds = {m["name"]: x for m, x in zip(model.report["inputs"], evaluation.values())}
    got = model.build().run(feeds)
    ref = model.reference(feeds)
    for k in got:
        np.testing.assert_array_equal(got[k], ref[k])
    want = em.tflm(path, list(evaluation.values()))
    for g, w in zip(got.values(), want):
        assert em.sqnr_db(w, g.reshape(w.shape)) >= SQNR_FLOOR_DB[path.stem]


def test_cli_asks_a_float_tflite_for_calibration(tmp_path):
    path = mlperf.SHARED / FLOAT_TFLITE["ad"]
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(path), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--calibration" in r.stderr and "'input_1' (N, 1, 640)" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    np.savez(tmp_path / "calib.npz", input_1=mlperf.dataset("ad", "calibration"))
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(path), "-o", str(tmp_path / "out"),
                        "--calibration", str(tmp_path / "calib.npz")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "model.c").is_file()
