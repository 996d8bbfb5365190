# SPDX-License-Identifier: Apache-2.0
"""Builds the attention models of tests/models: a Keyword-Transformer-like block (KWT: Berg et al. 2021) from the
real exporters. Run by hand only, in the exporters' venv (see README.md here):

    /work/venv-exporters/bin/python tests/models/make_attention_models.py

- keras_kwt: 49x10 MFCC -> Dense(32) patch embedding per time step + a learned position embedding -> one pre-norm
  transformer block (LayerNormalization, MultiHeadAttention with 2 heads of 16, residual, LayerNormalization,
  Dense(64, gelu), Dense(32), residual) -> mean over time -> Dense(12). Through the TFLite converter (full-integer
  int8 and float32) and tf2onnx (opset 13: layer norm decomposed, GELU as Erf). No class token: with the batch open
  the converter writes it as a broadcast of a constant, and the mean over time is KWT's other read-out. The batch is fixed
  at 1 (the converter runs on a batch-1 tf.function): with it open the converter computes each Dense's reshapes at run time with
  SHAPE, GATHER and REDUCE_PROD, and TFLM has no REDUCE_PROD.
- torch_kwt: the same shape with nn.TransformerEncoderLayer(d_model=32, nhead=2, dim_feedforward=64,
  activation="gelu", batch_first=True, norm_first=True), through torch.onnx.export: TorchScript at opset 17
  (LayerNormalization one op), at opset 14 (layer norm decomposed, as exports before opset 17 write it) and dynamo (opset 18).
Weights are random (seeded); each <name>.<ext> has its representative float inputs in <name>.npz (64 samples).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import HERE, SEED, save_inputs, tflite_input_names, write_tflite_references  # noqa: E402

T, F, D, HEADS, FF, CLASSES = 49, 10, 32, 2, 64, 12


def mfcc_like(rng, n):
    """n samples of MFCC-like data: a smooth spectral envelope over time plus noise, roughly unit range."""
    base = rng.normal(size=(n, 1, F)) * np.linspace(2.0, 0.3, F)
    drift = np.cumsum(rng.normal(scale=0.2, size=(n, T, F)), axis=1)
    x = np.clip(base + drift + rng.normal(scale=0.1, size=(n, T, F)), -4, 4)
    return (np.round(x * 32) / 32).astype(np.float32)  # on 1/32 steps (compresses well)


# -- Keras ------------------------------------------------------------------------------------------------------
def keras_kwt():
    import keras
    from keras import layers as L

    class PositionEmbedding(L.Layer):
        def build(self, shape):
            self.pos = self.add_weight(shape=(shape[1], shape[2]), initializer=keras.initializers.RandomNormal(0, 0.5))

        def call(self, x):
            return x + self.pos

    x0 = keras.Input(batch_shape=(1, T, F))
    x = PositionEmbedding()(L.Dense(D)(x0))
    y = L.LayerNormalization(epsilon=1e-6)(x)
    y = L.MultiHeadAttention(num_heads=HEADS, key_dim=D // HEADS)(y, y)
    x = L.Add()([x, y])
    y = L.LayerNormalization(epsilon=1e-6)(x)
    y = L.Dense(D)(L.Dense(FF, activation="gelu")(y))
    x = L.Add()([x, y])
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(x0, L.Dense(CLASSES)(x))


def randomize_layernorm(model, rng):
    """gamma and beta away from 1 and 0, so that their arithmetic is checked."""
    for layer in model.layers:
        if layer.__class__.__name__ == "LayerNormalization":
            gamma, beta = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape)])


def export_keras(rng):
    import keras
    import onnx
    import tensorflow as tf
    import tf2onnx
    model = keras_kwt()
    randomize_layernorm(model, rng)
    data = mfcc_like(rng, 64)
    spec = [tf.TensorSpec((1, T, F), tf.float32, name="input")]
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)

    def converter():  # the Keras model itself: model.export's SavedModel leaves the batch open whatever the Input
        return tf.lite.TFLiteConverter.from_keras_model(model)

    content = converter().convert()
    open(os.path.join(HERE, "keras_kwt_float.tflite"), "wb").write(content)
    save_inputs("keras_kwt_float", tflite_input_names(content), [data])
    conv = converter()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([data[i:i + 1]] for i in range(len(data)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    open(os.path.join(HERE, "keras_kwt_int8.tflite"), "wb").write(conv.convert())  # calibrated on keras_kwt.npz
    # Keras's exact gelu is 0.5 x erfc(-x / sqrt 2) on TensorFlow, and tf2onnx has no Erfc: for the ONNX file the
    # same function as x 0.5 (1 + erf(x / sqrt 2)), the form ONNX exporters write
    gelu = next(layer for layer in model.layers if getattr(layer, "activation", None) is keras.activations.gelu)
    gelu.activation = lambda v: v * 0.5 * (1.0 + tf.math.erf(v * np.float32(1 / np.sqrt(2))))
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)  # traced again with it
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=13)
    onnx.save(proto, os.path.join(HERE, "keras_kwt.onnx"))
    save_inputs("keras_kwt", [i.name for i in proto.graph.input], [data])


# -- PyTorch ----------------------------------------------------------------------------------------------------
def torch_kwt():
    import torch
    from torch import nn

    class Kwt(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(F, D)
            self.pos = nn.Parameter(torch.randn(1, T, D) * 0.5)
            self.block = nn.TransformerEncoderLayer(d_model=D, nhead=HEADS, dim_feedforward=FF, activation="gelu",
                                                    dropout=0.0, batch_first=True, norm_first=True)
            self.head = nn.Linear(D, CLASSES)

        def forward(self, x):
            return self.head(self.block(self.embed(x) + self.pos).mean(dim=1))

    torch.manual_seed(SEED)
    model = Kwt().eval()
    with torch.no_grad():
        for norm in (model.block.norm1, model.block.norm2):
            norm.weight.copy_(torch.rand(D) + 0.5)
            norm.bias.copy_(torch.randn(D) * 0.2)
    return model


def export_torch(rng):
    import torch
    model = torch_kwt()
    data = mfcc_like(rng, 64)
    x = torch.from_numpy(data[:1])
    for name, opset, dynamo in (("torch_kwt", 17, False), ("torch_kwt_opset14", 14, False),
                                ("torch_kwt_dynamo", 18, True)):
        path = os.path.join(HERE, name + ".onnx")
        if dynamo:
            torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=opset,
                              dynamo=True, external_data=False)
        else:
            torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=opset,
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)
        save_inputs(name, ["input"], [data])


def main():
    import tensorflow as tf
    tf.random.set_seed(SEED)
    import keras
    keras.utils.set_random_seed(SEED)
    only = set(sys.argv[1:]) or {"keras", "torch"}
    if "keras" in only:
        export_keras(np.random.default_rng([SEED, 1]))
        write_tflite_references(["keras_kwt_int8"])  # TFLM has no GELU: TFLite's reference kernels' outputs
    if "torch" in only:
        export_torch(np.random.default_rng([SEED, 2]))


if __name__ == "__main__":
    main()
