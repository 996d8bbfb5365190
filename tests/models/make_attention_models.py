# SPDX-License-Identifier: Apache-2.0
"""Builds the attention models of tests/models: a Keyword-Transformer-like block (KWT: Berg et al. 2021) from the
real exporters. Run by hand only, in the exporters' venv (see README.md here):

    /work/venv-exporters/bin/python tests/models/make_attention_models.py
    python3 tests/models/make_attention_models.py --references   # TFLM's outputs: the test environment's python

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
from make_models import HERE, SEED, save_inputs, tflite_input_names  # noqa: E402

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


# -- the int8 file's expected outputs: TFLM, with GELU (which TFLM lacks) from TFLite ---------------------------
def segment(model, ops, inputs, outputs):
    """The model's bytes with only operators `ops` of its subgraph, reading `inputs` and writing `outputs`."""
    import copy

    import flatbuffers
    m = copy.deepcopy(model)
    sg = m.subgraphs[0]
    sg.operators, sg.inputs, sg.outputs = [sg.operators[k] for k in ops], list(inputs), list(outputs)
    b = flatbuffers.Builder(1 << 16)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def tflm_with_tflite_gelu(path, x):
    """Outputs of the file for the int8 inputs x (N, *shape): its operators run by TFLM, except each GELU, run by
    TFLite's interpreter (its builtin kernel, the lookup table of its Prepare) on a one-operator cut of the file."""
    from ai_edge_litert import schema_py_generated as fb
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tflite_micro import runtime
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(open(path, "rb").read(), 0))
    sg, gelu = model.subgraphs[0], fb.BuiltinOperator.GELU
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    runs, current = [], []  # consecutive operators by who runs them
    for k, op in enumerate(sg.operators):
        if codes[op.opcodeIndex] == gelu or (runs and current and codes[sg.operators[current[-1]].opcodeIndex] == gelu):
            if current:
                runs.append(current)
            current = []
        current.append(k)
    runs.append(current)
    consts = {i for i, t in enumerate(sg.tensors) if model.buffers[t.buffer].data is not None}
    ys = []
    for sample in x:
        values = {int(sg.inputs[0]): sample}
        for n, ops in enumerate(runs):
            reads = [i for k in ops for i in sg.operators[k].inputs if i >= 0 and i not in consts]
            made = {i for k in ops for i in sg.operators[k].outputs}
            ins = list(dict.fromkeys(i for i in reads if i not in made))
            later = {i for r in runs[n + 1:] for k in r for i in sg.operators[k].inputs} | set(sg.outputs.tolist())
            outs = [i for k in ops for i in sg.operators[k].outputs if i in later]
            content = segment(model, ops, ins, outs)
            if codes[sg.operators[ops[0]].opcodeIndex] == gelu:
                interp = Interpreter(model_content=content,
                                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
                interp.allocate_tensors()
                for d, i in zip(interp.get_input_details(), ins):
                    interp.set_tensor(d["index"], values[i])
                interp.invoke()
                got = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
            else:
                interp = runtime.Interpreter.from_bytes(content, arena_size=1 << 20)
                for j, i in enumerate(ins):
                    interp.set_input(values[i], j)
                interp.invoke()
                got = [interp.get_output(j) for j in range(len(outs))]
            values.update({i: np.array(v) for i, v in zip(outs, got)})
        ys.append(values[int(sg.outputs[0])].copy())
    return np.stack(ys)


def write_references():
    """keras_kwt_int8.tflite_ref.npz (run with the test environment's python3: it has TFLM and TFLite's
    interpreter): the int8 inputs the exporter-model test takes (the representative data quantized, 20 random, the
    two extremes) and the outputs of tflm_with_tflite_gelu."""
    import tflite
    path = os.path.join(HERE, "keras_kwt_int8.tflite")
    t = tflite.Model.GetRootAsModel(open(path, "rb").read(), 0).Subgraphs(0).Tensors(0)
    q = t.Quantization()
    scale, zero_point, shape = q.Scale(0), q.ZeroPoint(0), tuple(t.ShapeAsNumpy())
    with np.load(os.path.join(HERE, "keras_kwt.npz")) as z:
        data = z[z.files[0]]
    rng = np.random.default_rng(SEED)
    x = np.concatenate([np.clip(np.round(data / scale) + zero_point, -128, 127).reshape((-1,) + shape),
                        rng.integers(-128, 128, (20,) + shape), np.full((1,) + shape, -128), np.full((1,) + shape, 127)])
    x = x.astype(np.int8)
    np.savez_compressed(path + "_ref.npz", inputs=x, outputs=tflm_with_tflite_gelu(path, x))


def main():
    if sys.argv[1:] == ["--references"]:
        write_references()
        return
    import tensorflow as tf  # noqa: F811 (the exporters' venv)
    tf.random.set_seed(SEED)
    import keras
    keras.utils.set_random_seed(SEED)
    only = set(sys.argv[1:]) or {"keras", "torch"}
    if "keras" in only:
        export_keras(np.random.default_rng([SEED, 1]))
    if "torch" in only:
        export_torch(np.random.default_rng([SEED, 2]))


if __name__ == "__main__":
    main()
