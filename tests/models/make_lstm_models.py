# SPDX-License-Identifier: Apache-2.0
"""Builds the native (not unrolled) Keras LSTM files of tests/models: keras_lstm_native_{int8,float}.tflite, the
TFLite converter's UNIDIRECTIONAL_SEQUENCE_LSTM (what TFLM runs, int16 cell state in the int8 file).

The converter crashes on Keras 3's recurrent layers unless they are unrolled, so this uses Keras 2 (tf_keras,
TF_USE_LEGACY_KERAS=1) in the exporters' venv (see README.md here; plus `pip install tf_keras`):

    /work/venv-exporters/bin/pip install tf_keras~=2.21.0
    /work/venv-exporters/bin/python tests/models/make_lstm_models.py

The model: 20 frames of 10 features (a keyword-spotting feature window), LSTM(20, return_sequences) -> LSTM(12)
-> Dense(4) softmax; seeded random weights. Converted from a concrete function of batch 1 (the LSTM's state
tensors need a static batch); full-integer int8 with a representative dataset of the 64 samples in
keras_lstm_native.npz (the same arrays serve the float file: keras_lstm_native_float.npz).
"""
import os

import numpy as np

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 16
STEPS, FEATURES = 20, 10


def main():
    import tensorflow as tf
    import tf_keras as keras
    tf.random.set_seed(SEED)
    rng = np.random.default_rng(SEED)
    x0 = keras.Input((STEPS, FEATURES), batch_size=1)
    x = keras.layers.LSTM(20, return_sequences=True, unroll=False)(x0)
    x = keras.layers.LSTM(12, unroll=False)(x)
    model = keras.Model(x0, keras.layers.Dense(4, activation="softmax")(x))
    for layer in model.layers:  # larger than glorot so that the gates leave their linear range
        layer.set_weights([w * 1.5 if w.ndim == 2 else rng.normal(0, 0.3, w.shape) for w in layer.get_weights()])
    t = np.linspace(0, 1, STEPS)[None, :, None]
    freq = rng.uniform(1, 6, (64, 1, FEATURES))
    data = (np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (64, 1, FEATURES)))
            + rng.normal(0, 0.3, (64, STEPS, FEATURES))).astype(np.float32)
    spec = [tf.TensorSpec((1, STEPS, FEATURES), tf.float32, name="input")]
    fn = tf.function(lambda v: model(v, training=False), input_signature=spec)
    concrete = fn.get_concrete_function()

    def converter():
        return tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)

    content = converter().convert()
    open(os.path.join(HERE, "keras_lstm_native_float.tflite"), "wb").write(content)
    name = tf.lite.Interpreter(model_content=content).get_input_details()[0]["name"]
    np.savez_compressed(os.path.join(HERE, "keras_lstm_native_float.npz"), **{name: data})
    conv = converter()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([data[i:i + 1]] for i in range(len(data)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    content = conv.convert()
    open(os.path.join(HERE, "keras_lstm_native_int8.tflite"), "wb").write(content)
    name = tf.lite.Interpreter(model_content=content).get_input_details()[0]["name"]
    np.savez_compressed(os.path.join(HERE, "keras_lstm_native.npz"), **{name: data})


if __name__ == "__main__":
    main()
