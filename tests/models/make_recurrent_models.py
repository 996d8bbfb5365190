# SPDX-License-Identifier: Apache-2.0
"""Builds the Keras recurrent models of tests/models (issue #16): a GRU keyword spotter, an LSTM gesture model
and a CRNN, as the TFLite converter and tf2onnx write them.

Run by hand only, in the exporters' venv (see README.md here):

    /work/venv-exporters/bin/python tests/models/make_recurrent_models.py          # the unrolled models
    /work/venv-exporters/bin/python tests/models/make_recurrent_models.py --loop   # tf2onnx of unroll=False

The TFLite converter fails on Keras 3 recurrent layers unless they are unrolled (unroll=True), so the .tflite
files users have are unrolled cells: per time step LOGISTIC, TANH, MUL, SUB, SPLIT, FULLY_CONNECTED on slices
of an UNPACK. Each model is written full-integer int8 (representative dataset, int8 I/O) and float32 through the
TFLite converter from a batch-1 SavedModel (from an open batch the converter computes the zero state's shape,
SHAPE -> STRIDED_SLICE -> PACK -> FILL, which TFLM refuses to run), and through tf2onnx (opset 13) from the
same function; weights are seeded random (the
recurrent matrices orthogonal, as Keras initializes them). Layers and models carry one-letter names: the
converter names each unrolled step's tensors after every Keras op fused into it, and with Keras' default names
the int8 LSTM file is 1 MB, two thirds of it tensor names. `--loop` writes tf2onnx's export of the same
architectures with unroll=False (<name>_loop.onnx): tf2onnx 1.17 writes Keras 3's while loop as an ONNX Loop
(not ONNX's own GRU / LSTM operators).
"""
import os
import sys
import tempfile

import numpy as np

import make_models as mm

HERE = mm.HERE
SEED = 16


def recurrent_models(unroll):
    import keras
    from keras import layers as L

    def gru_kws():
        """A keyword spotter: GRU(64) over 49 frames of 10 MFCCs, Dense(12) softmax."""
        x0 = keras.Input((49, 10))
        x = L.GRU(64, unroll=unroll, name="r")(x0)
        return keras.Model(x0, L.Softmax(name="s")(L.Dense(12, name="d")(x)), name="m"), (49, 10), (-2.0, 2.0)

    def lstm_gesture():
        """A gesture classifier: LSTM(32) over 128 steps of 6 IMU channels, Dense(8)."""
        x0 = keras.Input((128, 6))
        x = L.LSTM(32, unroll=unroll, name="r")(x0)
        return keras.Model(x0, L.Dense(8, name="d")(x), name="m"), (128, 6), (-3.0, 3.0)

    def crnn_kws():
        """A CRNN: Conv2D + BatchNorm + ReLU on 49x10x1 MFCCs, reshaped to 25 time steps, GRU(32), Dense(12)."""
        x0 = keras.Input((49, 10, 1))
        x = L.Conv2D(8, (3, 3), strides=(2, 2), padding="same", use_bias=False, name="c")(x0)
        x = L.ReLU(name="a")(L.BatchNormalization(name="b")(x))
        x = L.Reshape((25, 5 * 8), name="t")(x)
        x = L.GRU(32, unroll=unroll, name="r")(x)
        return keras.Model(x0, L.Dense(12, name="d")(x), name="m"), (49, 10, 1), (-2.0, 2.0)

    return dict(keras_gru_kws=gru_kws, keras_lstm_gesture=lstm_gesture, keras_crnn_kws=crnn_kws)


def export(name, build, rng, loop):
    import onnx
    import tensorflow as tf
    import tf2onnx
    model, shape, (lo, hi) = build()
    mm.randomize_batchnorm(model, rng)
    n = 64
    if len(shape) == 3:
        data = mm.smooth(rng, n, shape, lo, hi)
    else:  # uniform on 1/64 steps (compresses well)
        data = (np.round(rng.uniform(lo, hi, (n,) + shape) * 64) / 64).astype(np.float32)
    spec = [tf.TensorSpec((1,) + shape, tf.float32, name="input")]
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)
    if loop:  # tf2onnx only: the TFLite converter fails on a recurrent layer that is not unrolled
        proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=13)
        onnx.save(proto, os.path.join(HERE, name + "_loop.onnx"))
        mm.save_inputs(name + "_loop", [i.name for i in proto.graph.input], [data])
        return

    saved = tempfile.mkdtemp()
    # batch 1, static: from an open batch the converter computes the zero state's shape (SHAPE -> STRIDED_SLICE
    # -> PACK -> FILL), and TFLM refuses a FILL of a computed shape
    model.export(saved, format="tf_saved_model", input_signature=spec)

    def converter():
        return tf.lite.TFLiteConverter.from_saved_model(saved)

    content = converter().convert()
    open(os.path.join(HERE, name + "_float.tflite"), "wb").write(content)
    mm.save_inputs(name + "_float", mm.tflite_input_names(content), [data])
    conv = converter()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([data[i:i + 1]] for i in range(len(data)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    open(os.path.join(HERE, name + "_int8.tflite"), "wb").write(conv.convert())  # calibrated on <name>.npz
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=13)
    onnx.save(proto, os.path.join(HERE, name + ".onnx"))
    mm.save_inputs(name, [i.name for i in proto.graph.input], [data])


def main():
    loop = "--loop" in sys.argv[1:]
    only = set(sys.argv[1:]) - {"--loop"}
    import keras
    import tensorflow as tf
    tf.random.set_seed(SEED)
    for name, build in recurrent_models(unroll=not loop).items():
        if not only or name in only:
            print("building", name + ("_loop" if loop else ""), flush=True)
            keras.utils.set_random_seed(SEED)
            export(name, build, np.random.default_rng([SEED, len(name)]), loop)


if __name__ == "__main__":
    main()
