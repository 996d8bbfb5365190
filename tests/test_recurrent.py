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


def test_fill_of_a_computed_shape_is_a_constant():
    """An open batch's zero state: SHAPE -> FILL (TFLM refuses a FILL of a computed shape) is a constant node;
    the model equals TFLM's run of the same ADD with that constant in the file."""
    import tflite
    from tflite16 import int8_t, ops_model, run_imported, run_tflm
    B, O = tflite.BuiltinOperator, tflite.BuiltinOptions

    def add_options(b):
        tflite.AddOptionsStart(b)
        return tflite.AddOptionsEnd(b)
    x, zero = int8_t((1, 4, 8), 0.05, -3), dict(int8_t((), 0.02, 5), data=np.array(5, np.int8))
    filled, out = int8_t((1, 4, 8), 0.02, 5), int8_t((1, 4, 8), 0.06, 2)
    computed = ops_model([(B.SHAPE, 0, None, [0], [1]), (B.FILL, 0, None, [1, 2], [3]),
                          (B.ADD, O.AddOptions, add_options, [0, 3], [4])],
                         [x, dict(shape=(3,), type=tflite.TensorType.INT32, scales=[], zps=[]), zero, filled, out],
                         [0], [4])
    folded = ops_model([(B.ADD, O.AddOptions, add_options, [0, 1], [2])],
                       [x, dict(filled, data=np.full((1, 4, 8), 5, np.int8)), out], [0], [2])
    xs = np.random.default_rng(0).integers(-128, 128, (8, 1, 4, 8)).astype(np.int8)
    np.testing.assert_array_equal(run_imported(computed, [xs], "int8"), run_tflm(folded, [xs]))
