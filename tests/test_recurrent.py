"""Unrolled Keras recurrent models (tests/models/keras_gru_kws*, made by make_recurrent_models.py) beyond
test_exporter_models.py: the 16x8 and float32 modes on the GRU, and its weights stored once for all 49 steps."""
import re

import numpy as np
import pytest

import exporter_models as em
import mcu_codegen

GRU = em.MODELS / "keras_gru_kws.onnx"


def gru(mode):
    conv = mcu_codegen.Converter.from_onnx(GRU)
    conv.mode = mode
    if mode != "float32":
        conv.representative_dataset = [em.halves(em.data(GRU))[0]]
    conv.inference_input_type = conv.inference_output_type = "float32"
    return conv.convert()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["int16x8", "float32"])
def test_gru_modes_c_equals_reference(mode):
    """16x8: the C equals its reference bit for bit and reaches 47 dB against onnxruntime (measured 50.8; int8: 36.7); float32:
    the C within float32 rounding (1e-4 of the output range) of its reference, which equals onnxruntime."""
    model = gru(mode)
    evaluation = em.halves(em.data(GRU))[1]
    got, ref = model.build().run(evaluation), model.reference(evaluation)
    want = em.onnxruntime(GRU, evaluation)[0]
    (name,) = got
    if mode == "int16x8":
        np.testing.assert_array_equal(got[name], ref[name])
        sqnr = em.sqnr_db(want, got[name].reshape(want.shape))
        print(f"GRU 16x8 SQNR {sqnr:.1f} dB vs onnxruntime")
        assert sqnr >= 47  # measured 50.8
    else:
        scale = np.abs(want).max()
        assert np.abs(ref[name].reshape(want.shape) - want).max() <= 1e-4 * scale
        assert np.abs(got[name] - ref[name]).max() <= 1e-4 * scale


def test_gru_weights_are_one_array_for_all_steps():
    """The 49 steps' FULLY_CONNECTED nodes read one recurrent matrix (192 x 64) and one input matrix
    (192 x 10): each is one const array in the C, and the weight bytes do not grow with the steps (the
    requantization arrays of each step's output scale do: the file gives every step its own)."""
    model = em.convert(em.MODELS / "keras_gru_kws_int8.tflite")
    source = model.files["model.c"]
    fcs = [i for i, n in enumerate(model.graph.nodes) if n.op == "fully_connected"]
    assert len(fcs) == 98
    arrays = re.findall(r"static const int8_t (n\d+_weights)\[(\d+)\]", source)
    assert sorted(int(n) for _, n in arrays) == [768, 1920, 12288]
    readers = re.findall(r"\.weights = (n\d+_weights)", source)
    assert len(readers) == 98 and len(set(readers)) == 3
