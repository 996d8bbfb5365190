"""Every model in tests/models (real exporters: the TFLite converter, tf2onnx, torch.onnx.export) that converts
with the operators there are: an int8 .tflite's C equals TFLM bit for bit on its representative inputs
(quantized with the file's input scale), 20 random inputs and the two extremes (where TFLM cannot run a file
as TFLite does, TFLite's reference kernels' outputs stored beside it); a float model's C (int8 inside,
float32 I/O) equals the NumPy reference bit for bit and is within SQNR_FLOOR_DB of the float model
(onnxruntime; TFLM's float interpreter for a float .tflite) on the half of its data that did not calibrate it.

SQNR floors: one int8 tensor of a well-spread signal is at best ~50 dB (6.02 x 8 + 1.76), and each layer adds its
own rounding, so a deep int8 model lands at 35-50 dB; a wrong scale, rounding, layout or weight order gives
well under 20 dB. Each floor is what this test measured (float32 I/O) less 3 dB, rounded down: conversion is
deterministic (same files on every machine), the margin is for deliberate changes to calibration. The dense
autoencoder (random weights, an 8-wide bottleneck, 32 calibration samples) measures 18.2 dB: its floor is 15.
A model blocked by operators that do not exist yet is skipped, naming them, as long as they are the ones
BLOCKED_BY lists (once they exist it is checked like the others, against DEFAULT_FLOOR_DB)."""
import re

import numpy as np
import pytest

import exporter_models as em
from mcu_codegen.ir import ConversionError

SQNR_FLOOR_DB = {"keras_autoencoder": 15, "keras_autoencoder_float": 15, "keras_detector": 40,
                 "keras_kws_dscnn": 34, "keras_kws_dscnn_float": 34, "keras_mbv2_se": 40, "keras_tcn_imu": 35,
                 "torch_cnn_bn": 41, "torch_cnn_bn_dynamo": 41, "torch_cnn_bn_opset9": 41, "torch_conv1d": 41,
                 "torch_conv1d_opset10": 40, "torch_conv1d_nofold": 41, "torch_lenet_view": 43}
DEFAULT_FLOOR_DB = 30
# operators of parts A (SPLIT ... GATHER, TILE, RESIZE, STRIDED_SLICE) and B (HARD_SWISH, LEAKY_RELU, PRELU,
# TRANSPOSE_CONV, ...) of issue 12, and others nobody adds yet
BLOCKED_BY = {
    "keras_activations.onnx": {"LeakyRelu"},
    "keras_activations_int8.tflite": {"HARD_SWISH", "LEAKY_RELU", "PRELU"},
    "keras_tiny_unet.onnx": {"Tile", "ConvTranspose"},
    "keras_tiny_unet_int8.tflite": {"TILE", "TRANSPOSE_CONV"},
    "torch_activations.onnx": {"HardSwish", "LeakyRelu", "PRelu"},
}
SLOW = ("keras_mbv2_se", "keras_detector")


def blocking_ops(message):
    return set(re.findall(r"\(([A-Z][A-Za-z0-9_]+)(?:, code \d+)?\)", message)) if "unsupported" in message else set()


def cases():
    for path in em.model_files():
        marks = [pytest.mark.slow] if path.stem.startswith(SLOW) else []
        yield pytest.param(path, id=path.name, marks=marks)


def convert_or_skip(path):
    try:
        return em.convert(path)
    except ConversionError as e:
        blockers = blocking_ops(str(e))
        assert blockers and blockers <= BLOCKED_BY.get(path.name, set()), str(e)
        pytest.skip(f"blocked by {', '.join(sorted(blockers))}")


@pytest.mark.parametrize("path", cases())
def test_exporter_model(path):
    model = convert_or_skip(path)
    host = model.build()
    names = [m["name"] for m in model.report["inputs"]]
    if em.is_quantized_tflite(path):
        stored = em.tflite_reference(path)
        feeds = em.int8_feeds(model, path, n_random=20) if stored is None else {names[0]: stored[0]}
        assert len(feeds[names[0]]) >= 22
        got = list(host.run(feeds).values())
        want = em.tflm(path, [feeds[n] for n in names]) if stored is None else [stored[1]]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.reshape(w.shape), w)
        return
    evaluation = em.halves(em.data(path))[1]
    feeds = dict(zip(names, evaluation.values()))
    got, ref = host.run(feeds), model.reference(feeds)
    for k in got:
        np.testing.assert_array_equal(got[k], ref[k])
    want = em.float_reference(path, evaluation)
    for g, w in zip(got.values(), want):
        assert em.sqnr_db(w, g.reshape(w.shape)) >= SQNR_FLOOR_DB.get(path.stem, DEFAULT_FLOOR_DB)


def test_the_blocked_list_names_only_models_here():
    assert set(BLOCKED_BY) <= {p.name for p in em.model_files()}


def test_tflite_shape_arithmetic_before_a_reshape_is_dropped():
    """The converter writes SHAPE -> STRIDED_SLICE -> PACK for a Keras Reshape of an open batch: dead code (RESHAPE
    takes its output tensor's static shape), so the detector converts (and equals TFLM: test_exporter_model)."""
    import tflite
    path = em.MODELS / "keras_detector_int8.tflite"
    m = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    codes = {names[m.OperatorCodes(m.Subgraphs(0).Operators(k).OpcodeIndex()).BuiltinCode()]
             for k in range(m.Subgraphs(0).OperatorsLength())}
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= codes
    ops = [n.op for n in em.converter(path).graph.nodes]
    assert set(ops) <= {"conv2d", "depthwise_conv2d", "reshape", "softmax"} and ops.count("softmax") == 1


@pytest.mark.parametrize("name", ["keras_tcn_imu_int8.tflite", "keras_detector.onnx", "torch_lenet_view.onnx"])
def test_clang_build_equals_gcc_build(name):
    """The generated C of a dilated Conv1D chain, a two-output model and folded shape arithmetic, under clang's
    strict flags too: the same outputs as gcc's build."""
    path = em.MODELS / name
    model = em.convert(path)
    metas = model.report["inputs"]
    feeds = ({metas[0]["name"]: em.tflite_reference(path)[0]} if em.is_quantized_tflite(path)
             else dict(zip([m["name"] for m in metas], em.halves(em.data(path))[1].values())))
    by_gcc, by_clang = model.build().run(feeds), model.build(cc="clang").run(feeds)
    for k in by_gcc:
        np.testing.assert_array_equal(by_clang[k], by_gcc[k])
