"""Every model in tests/models (real exporters: the TFLite converter, tf2onnx, torch.onnx.export): an int8
.tflite's C equals TFLM bit for bit on its representative inputs (quantized with the file's input scale), 20
random inputs and the two extremes (where TFLM cannot run a file as TFLite does, TFLite's reference kernels'
outputs stored beside it); a float model's C (int8 inside,
float32 I/O) equals the NumPy reference bit for bit and is within SQNR_FLOOR_DB of the float model
(onnxruntime; TFLM's float interpreter for a float .tflite) on the half of its data that did not calibrate it.

SQNR floors: one int8 tensor of a well-spread signal is at best ~50 dB (6.02 x 8 + 1.76), and each layer adds its
own rounding, so a deep int8 model lands at 35-50 dB; a wrong scale, rounding, layout or weight order gives
well under 20 dB. Each floor is what this test measured (float32 I/O) less 3 dB, rounded down: conversion is
deterministic (same files on every machine), the margin is for deliberate changes to calibration. The dense
autoencoder (random weights, an 8-wide bottleneck, 32 calibration samples) measures 18.2 dB: its floor is 15.
keras_activations.onnx measures 25.7 dB, honestly: its float graph equals onnxruntime to 139.6 dB, calibrated
and measured on all 64 samples (mcu-codegen debug) it reaches 37.9 dB, but the 32 samples that did not calibrate
it reach beyond the calibrated output range ([-0.0311, 0.0409] against [-0.0285, 0.0341]: 3.1% of the outputs
clip, 0.8% of the pooled values before them): its floor is 22. keras_kwt_float.tflite (the Keras KWT block
quantized by us) measures 26.3 dB: its layer norms stay the converter's chain of int8 operators (MEAN,
SQUARED_DIFFERENCE, MEAN, ADD, RSQRT, MUL, ...), each rounding to 8 bits; its floor is 23. The KWT ONNX files
(layer norms fused into one layer_norm each) measure 26.1 (keras_kwt) and 27.8 dB (the three torch_kwt): the
loss is the attention's int8 softmax (49 probabilities on a 1/256 grid: 25 dB at its output on all 64 samples,
mcu-codegen debug) and the held-out half leaving the calibrated ranges; floors 23 and 24. The torch recurrent
models (GRU, LSTM, bidirectional LSTM, CRNN, 2-layer LSTM; 20 to 64 steps) measure 28.9 to 38.8 dB: the int8
state is rounded at every step and carried into the next (one scale for every step's h, tied), so each step's
error feeds the following ones (their float graphs follow onnxruntime form by form in
tests/test_onnx_recurrent.py). Their floors are 3 dB below what they measured (the dynamo export of the GRU,
31.5 dB against the TorchScript one's 34.9, has its own seeded data). The unrolled Keras
recurrent .tflite files and their tf2onnx twins (make_recurrent_models.py): GRU 36.7 dB (floor 33), CRNN 30.0
(27), LSTM 23.8 (ONNX) and 24.1 (float .tflite) (20, 21: its cell state c is rounded at each of 128 steps);
TFLite's own int8 file of the same LSTM, calibrated on all 64 samples (the eval half among them), reaches 29.2 dB
against its float file (GRU 37.0, CRNN 31.9): ours is calibrated on the other 32 only. The same three with
unroll=False (tf2onnx writes an ONNX Loop, unrolled at import by onnx_loop.py, every step's copy of a body tensor
tied): GRU 37.1 dB (floor 34), CRNN 31.4 (28), LSTM 24.6 (21); untied (one range per step's tensor) they measure
what the unrolled files do, 36.7, 30.1 and 24.1. Every model here converts; none is skipped."""
import numpy as np
import pytest

import exporter_models as em

SQNR_FLOOR_DB = {"keras_activations": 22, "keras_autoencoder": 15, "keras_autoencoder_float": 15,
                 "keras_detector": 40, "keras_kws_dscnn": 34, "keras_kws_dscnn_float": 34, "keras_mbv2_se": 40,
                 "keras_tcn_imu": 35, "keras_lstm_native_float": 43, "keras_kwt": 23, "keras_kwt_float": 23,
                 "torch_kwt": 24, "torch_kwt_dynamo": 24, "torch_kwt_opset14": 24, "keras_gru_kws": 33,
                 "keras_gru_kws_float": 33, "keras_crnn_kws": 27, "keras_crnn_kws_float": 27,
                 "keras_lstm_gesture": 20, "keras_lstm_gesture_float": 21, "keras_gru_kws_loop": 34,
                 "keras_crnn_kws_loop": 28, "keras_lstm_gesture_loop": 21,
                 "torch_cnn_bn": 41, "torch_cnn_bn_dynamo": 41, "torch_cnn_bn_opset9": 41, "torch_conv1d": 41,
                 "torch_conv1d_opset10": 40, "torch_conv1d_nofold": 41, "torch_lenet_view": 43,
                 "torch_gru_kws": 31, "torch_gru_kws_dynamo": 28, "torch_lstm_gesture": 27, "torch_bilstm": 25,
                 "torch_crnn": 28, "torch_lstm2": 35}
DEFAULT_FLOOR_DB = 30
SLOW = ("keras_mbv2_se", "keras_detector", "keras_gru_kws", "keras_lstm_gesture", "keras_crnn_kws")  # > 20 s


def cases():
    for path in em.model_files():
        marks = [pytest.mark.slow] if path.stem.startswith(SLOW) else []
        yield pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("path", cases())
def test_exporter_model(path):
    model = em.convert(path)
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


def test_tflite_shape_arithmetic_before_a_reshape_is_dropped():
    """The converter writes SHAPE -> STRIDED_SLICE -> PACK for a Keras Reshape of an open batch: evaluated at
    import, no node, so the detector converts (and equals TFLM: test_exporter_model)."""
    import tflite
    path = em.MODELS / "keras_detector_int8.tflite"
    m = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    codes = {names[m.OperatorCodes(m.Subgraphs(0).Operators(k).OpcodeIndex()).BuiltinCode()]
             for k in range(m.Subgraphs(0).OperatorsLength())}
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= codes
    ops = [n.op for n in em.converter(path).graph.nodes]
    assert set(ops) <= {"conv2d", "depthwise_conv2d", "reshape", "softmax"} and ops.count("softmax") == 1


def test_tflite_open_dimensions_take_the_shape_arithmetic():
    """Keras' UpSampling2D of an open batch: the second RESHAPE's static output shape is a placeholder
    ([1, 1, 16, 32], signature [-1, -1, 16, 32]) and SHAPE -> STRIDED_SLICE -> CONCATENATION computes
    [1, 16, 16, 32]; the CONV_2D after it inherits the placeholder. TRANSPOSE_CONV's output shape comes from
    SHAPE -> STRIDED_SLICE -> PACK. Folded on the static shapes, the U-Net's shapes are the real ones."""
    import tflite
    path = em.MODELS / "keras_tiny_unet_int8.tflite"
    sg = tflite.Model.GetRootAsModel(path.read_bytes(), 0).Subgraphs(0)
    reshaped = sg.Tensors(sg.Operators(18).Outputs(0))
    assert reshaped.ShapeAsNumpy().tolist() == [1, 1, 16, 32]
    assert reshaped.ShapeSignatureAsNumpy().tolist() == [-1, -1, 16, 32]
    g = em.converter(path).graph
    by_name = {n.name.split(" ->")[0]: n for n in g.nodes}
    assert g.tensors[by_name["#18 RESHAPE"].outputs[0]].shape == (1, 16, 16, 32)
    assert g.tensors[by_name["#19 CONV_2D"].outputs[0]].shape == (1, 16, 16, 16)
    assert by_name["#25 TRANSPOSE_CONV"].attrs["out_hw"] == (32, 32)
    assert not any(n.name.split(" ")[1] in ("SHAPE", "STRIDED_SLICE", "PACK") for n in g.nodes)


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
