# SPDX-License-Identifier: Apache-2.0
"""Builds the exporter models of tests/models: small real architectures, exported by the real exporters.

Run by hand only, in a venv outside the repo that has TensorFlow, tf2onnx and PyTorch (see README.md here):

    /work/venv-exporters/bin/python tests/models/make_models.py

Keras models go through the TFLite converter (full-integer int8 with a representative dataset; some also
plain float) and through tf2onnx; torch models through torch.onnx.export (TorchScript exporter, the one that
writes the Shape/Gather/Concat arithmetic before a Reshape, at opset 13 and at the old opsets 9 and 10; and the
dynamo exporter, torch's default). Weights are random (seeded) and BatchNorm statistics are random too, so that
folding them matters. Each model file <name>.<ext> has its representative inputs in <name>.npz: float32, one
array per model input keyed by the file's input name, samples on the first axis (what --calibration takes).
An int8 .tflite needs none to convert; <name>_int8.tflite was calibrated on <name>.npz (the same arrays).
"""
import os
import sys
import tempfile

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 12


def smooth(rng, n, shape, lo=0.0, hi=1.0):
    """n samples of image-like data: low-frequency fields plus noise, on 1/255 steps (compresses well)."""
    x = rng.normal(size=(n,) + shape)
    for axis in range(1, len(shape)):  # a running mean along each spatial axis: neighbours correlate
        if x.shape[axis] > 4:
            x = (x + np.roll(x, 1, axis) + np.roll(x, 2, axis) + np.roll(x, -1, axis)) / 2
    x = (x - x.min()) / (x.max() - x.min())
    return (lo + (hi - lo) * np.round(x * 255) / 255).astype(np.float32)


def save_inputs(name, names, arrays):
    np.savez_compressed(os.path.join(HERE, name + ".npz"), **dict(zip(names, arrays)))


# -- Keras ------------------------------------------------------------------------------------------------------
def keras_models():
    import keras
    from keras import layers as L

    def bn(x):
        return L.BatchNormalization()(x)

    def kws_dscnn():
        """DS-CNN keyword spotter (Hello Edge): a strided conv, depthwise-separable blocks, global average pool."""
        x0 = keras.Input((49, 10, 1))
        x = L.ReLU()(bn(L.Conv2D(32, (10, 4), strides=(2, 2), padding="same", use_bias=False)(x0)))
        for _ in range(3):
            x = L.ReLU()(bn(L.DepthwiseConv2D(3, padding="same", use_bias=False)(x)))
            x = L.ReLU()(bn(L.Conv2D(32, 1, use_bias=False)(x)))
        x = L.Dropout(0.2)(x)
        x = L.GlobalAveragePooling2D()(x)
        return keras.Model(x0, L.Softmax()(L.Dense(12)(x))), (49, 10, 1), (-2.0, 2.0)

    def mbv2_se():
        """MobileNet-v2 blocks (alpha 0.35, 96x96) with squeeze-excite: a [1,H,W,C] x [1,1,1,C] Mul."""
        x0 = keras.Input((96, 96, 3))
        x = L.ReLU(6.0)(bn(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x0)))

        def block(x, expand, out, stride, se):
            c = x.shape[-1]
            y = L.ReLU(6.0)(bn(L.Conv2D(c * expand, 1, use_bias=False)(x))) if expand > 1 else x
            if stride == 2:
                y = L.ZeroPadding2D(((0, 1), (0, 1)))(y)  # Keras MobileNetV2's own stride-2 padding
            y = L.ReLU(6.0)(bn(L.DepthwiseConv2D(3, strides=stride, padding="valid" if stride == 2 else "same",
                                                 use_bias=False)(y)))
            if se:
                s = L.GlobalAveragePooling2D(keepdims=True)(y)
                s = L.Conv2D(max(8, y.shape[-1] // 4), 1, activation="relu")(s)
                s = L.Conv2D(y.shape[-1], 1, activation="sigmoid")(s)
                y = L.Multiply()([y, s])
            y = bn(L.Conv2D(out, 1, use_bias=False)(y))
            return L.Add()([x, y]) if stride == 1 and c == out else y

        x = block(x, 1, 8, 1, False)
        x = block(x, 6, 8, 2, False)
        x = block(x, 6, 8, 1, False)
        x = block(x, 6, 16, 2, True)
        x = block(x, 6, 16, 1, True)
        x = block(x, 6, 24, 2, True)
        x = L.ReLU(6.0)(bn(L.Conv2D(96, 1, use_bias=False)(x)))
        x = L.GlobalAveragePooling2D()(x)
        return keras.Model(x0, L.Dense(2)(x)), (96, 96, 3), (-1.0, 1.0)

    def tcn_imu():
        """A temporal conv net on 128 steps of 6 IMU channels: causal dilated Conv1D, a residual, MaxPool1D."""
        x0 = keras.Input((128, 6))
        x = L.Conv1D(16, 3, padding="causal", activation="relu")(x0)
        y = L.Conv1D(16, 3, padding="causal", dilation_rate=2, activation="relu")(x)
        y = L.Conv1D(16, 3, padding="causal", dilation_rate=4, activation="relu")(y)
        x = L.Add()([x, y])
        x = L.MaxPooling1D(2)(x)
        x = L.Conv1D(24, 3, padding="same", activation="relu")(x)
        x = L.GlobalAveragePooling1D()(x)
        return keras.Model(x0, L.Softmax()(L.Dense(6)(x))), (128, 6), (-3.0, 3.0)

    def tiny_unet():
        """A two-level U-Net: Concatenate skips, UpSampling2D on one level, Conv2DTranspose on the other."""
        x0 = keras.Input((32, 32, 1))
        c1 = L.Conv2D(8, 3, padding="same", activation="relu")(x0)
        c1 = L.Conv2D(8, 3, padding="same", activation="relu")(c1)
        c2 = L.Conv2D(16, 3, padding="same", activation="relu")(L.MaxPooling2D()(c1))
        c2 = L.Conv2D(16, 3, padding="same", activation="relu")(c2)
        b = L.Conv2D(32, 3, padding="same", activation="relu")(L.MaxPooling2D()(c2))
        u2 = L.Conv2D(16, 3, padding="same", activation="relu")(L.UpSampling2D()(b))
        u2 = L.Conv2D(16, 3, padding="same", activation="relu")(L.Concatenate()([u2, c2]))
        u1 = L.Conv2DTranspose(8, 2, strides=2, padding="same")(u2)
        u1 = L.Conv2D(8, 3, padding="same", activation="relu")(L.Concatenate()([u1, c1]))
        return keras.Model(x0, L.Conv2D(1, 1, activation="sigmoid")(u1)), (32, 32, 1), (0.0, 1.0)

    def detector():
        """A two-head detector: a depthwise-separable backbone, class scores and box offsets as two outputs."""
        x0 = keras.Input((64, 64, 3))
        x = L.ReLU()(bn(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x0)))
        for c in (16, 32, 32):
            x = L.ReLU()(bn(L.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)))
            x = L.ReLU()(bn(L.Conv2D(c, 1, use_bias=False)(x)))
        scores = L.Softmax(name="scores")(L.Reshape((-1, 3))(L.Conv2D(3 * 3, 1)(x)))
        boxes = L.Reshape((-1, 4), name="boxes")(L.Conv2D(3 * 4, 1)(x))
        return keras.Model(x0, [scores, boxes]), (64, 64, 3), (0.0, 1.0)

    def autoencoder():
        """A dense autoencoder (the anomaly-detection shape): 128 -> 8 -> 128."""
        x0 = keras.Input((128,))
        x = x0
        for n in (64, 32, 8, 32, 64):
            x = L.ReLU()(bn(L.Dense(n)(x)))
        return keras.Model(x0, L.Dense(128)(x)), (128,), (-2.0, 2.0)

    def activations():
        """hard-swish, LeakyReLU and PReLU between convolutions."""
        x0 = keras.Input((16, 16, 3))
        x = L.Conv2D(8, 3, padding="same")(x0)
        x = L.Activation("hard_swish")(x)
        x = L.LeakyReLU(negative_slope=0.1)(L.Conv2D(8, 3, padding="same")(x))
        x = L.PReLU(shared_axes=[1, 2], alpha_initializer=keras.initializers.Constant(0.25))(
            L.Conv2D(8, 3, padding="same")(x))
        x = L.GlobalAveragePooling2D()(x)
        return keras.Model(x0, L.Dense(4)(x)), (16, 16, 3), (-1.0, 1.0)

    return dict(keras_kws_dscnn=kws_dscnn, keras_mbv2_se=mbv2_se, keras_tcn_imu=tcn_imu, keras_tiny_unet=tiny_unet,
                keras_detector=detector, keras_autoencoder=autoencoder, keras_activations=activations)


FLOAT_TFLITE = ("keras_kws_dscnn", "keras_autoencoder")  # also written as float .tflite (no quantization)


def randomize_batchnorm(model, rng):
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.1, beta.shape),
                               rng.normal(0, 0.2, mean.shape), rng.uniform(0.5, 2.0, var.shape)])


def tflite_input_names(content):
    import tensorflow as tf
    interp = tf.lite.Interpreter(model_content=content)
    return [d["name"] for d in interp.get_input_details()]


def export_keras(name, build, rng):
    import tensorflow as tf
    import tf2onnx
    model, shape, (lo, hi) = build()
    randomize_batchnorm(model, rng)
    n = 16 if int(np.prod(shape)) > 10000 else 64
    data = smooth(rng, n, shape, lo, hi) if len(shape) == 3 else rng.uniform(lo, hi, (n,) + shape).astype(np.float32)
    spec = [tf.TensorSpec((1,) + shape, tf.float32, name="input")]
    fn = tf.function(lambda x: model(x, training=False), input_signature=spec)

    saved = tempfile.mkdtemp()
    model.export(saved, format="tf_saved_model")  # the SavedModel path users take

    def converter():
        return tf.lite.TFLiteConverter.from_saved_model(saved)

    if name in FLOAT_TFLITE:
        content = converter().convert()
        open(os.path.join(HERE, name + "_float.tflite"), "wb").write(content)
        save_inputs(name + "_float", tflite_input_names(content), [data])
    conv = converter()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([data[i:i + 1]] for i in range(len(data)))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    try:
        content = conv.convert()
        open(os.path.join(HERE, name + "_int8.tflite"), "wb").write(content)  # calibrated on <name>.npz
    except Exception as e:  # noqa: BLE001 (a converter limit is a finding, not a reason to stop)
        print(f"{name}: TFLite int8 conversion failed: {str(e).splitlines()[0]}", file=sys.stderr)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=13)
    import onnx
    onnx.save(proto, os.path.join(HERE, name + ".onnx"))
    save_inputs(name, [i.name for i in proto.graph.input], [data])


# -- PyTorch ----------------------------------------------------------------------------------------------------
def torch_models():
    import torch
    from torch import nn

    def bn_stats(module, gen):
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)
        return module.eval()

    class CnnBn(nn.Module):
        """A CIFAR-style CNN: Conv2d + BatchNorm2d + ReLU, max pools, adaptive average pool, Linear."""
        def __init__(self):
            super().__init__()
            layers, c = [], 3
            for out in (16, 32, 32):
                layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
                c = out
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.features(x)), 1))

    class LeNetView(nn.Module):
        """LeNet with x.view(x.size(0), -1): the exporter writes Shape/Gather/Unsqueeze/Concat before Reshape."""
        def __init__(self):
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(1, 8, 5), nn.Conv2d(8, 16, 5)
            self.f1, self.f2 = nn.Linear(16 * 4 * 4, 64), nn.Linear(64, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(torch.relu(self.c1(x)), 2)
            x = nn.functional.max_pool2d(torch.relu(self.c2(x)), 2)
            x = x.view(x.size(0), -1)
            return self.f2(torch.relu(self.f1(x)))

    class Conv1dNet(nn.Module):
        """Conv1d + BatchNorm1d, MaxPool1d, AvgPool1d, AdaptiveAvgPool1d(1) (a GlobalAveragePool over one axis)."""
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv1d(6, 16, 5, padding=2), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(2),
                                      nn.Conv1d(16, 32, 3, padding=1), nn.BatchNorm1d(32), nn.ReLU(), nn.AvgPool1d(2),
                                      nn.Conv1d(32, 32, 3), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
            self.fc = nn.Linear(32, 6)

        def forward(self, x):
            return self.fc(torch.flatten(self.body(x), 1))

    class Activations(nn.Module):
        """Hardswish, LeakyReLU and PReLU between convolutions."""
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Hardswish(), nn.Conv2d(8, 8, 3, padding=1),
                                      nn.LeakyReLU(0.1), nn.Conv2d(8, 8, 3, padding=1), nn.PReLU(8),
                                      nn.AdaptiveAvgPool2d(1))
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return self.fc(torch.flatten(self.body(x), 1))

    # name: (module, input shape (NCHW / NCL), value range, opset, exporter)
    return dict(torch_cnn_bn=(CnnBn, (3, 32, 32), (-1.0, 1.0), 13, "torchscript"),
                torch_cnn_bn_opset9=(CnnBn, (3, 32, 32), (-1.0, 1.0), 9, "torchscript"),
                torch_cnn_bn_dynamo=(CnnBn, (3, 32, 32), (-1.0, 1.0), 18, "dynamo"),
                torch_lenet_view=(LeNetView, (1, 28, 28), (0.0, 1.0), 13, "torchscript"),
                torch_conv1d=(Conv1dNet, (6, 128), (-3.0, 3.0), 13, "torchscript"),
                torch_conv1d_opset10=(Conv1dNet, (6, 128), (-3.0, 3.0), 10, "torchscript"),
                # do_constant_folding=False: BatchNorm1d stays a node on 3-D tensors, as some export scripts leave it
                torch_conv1d_nofold=(Conv1dNet, (6, 128), (-3.0, 3.0), 13, "torchscript-nofold"),
                torch_activations=(Activations, (3, 16, 16), (-1.0, 1.0), 14, "torchscript")), bn_stats


def export_torch(name, spec, bn_stats, rng):
    import torch
    cls, shape, (lo, hi), opset, exporter = spec
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = bn_stats(cls(), gen)
    data = smooth(rng, 64, shape, lo, hi)
    path = os.path.join(HERE, name + ".onnx")
    x = torch.from_numpy(data[:1])
    if exporter == "dynamo":
        torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=opset,
                          dynamo=True, external_data=False)
    else:
        torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"], opset_version=opset,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False,
                          do_constant_folding=exporter != "torchscript-nofold")
    save_inputs(name, ["input"], [data])


# int8 .tflite files that TFLM cannot run as TFLite does: the converter writes a dilated Conv1D as SPACE_TO_BATCH_ND
# -> CONV_2D -> BATCH_TO_SPACE_ND, and with an open batch the file's static shapes inside are batch-1
# placeholders; TFLite resizes them when it prepares, TFLM takes them as they are and computes something else.
# The U-Net's UpSampling2D is EXPAND_DIMS -> TILE -> RESHAPE, and TFLM has no TILE kernel; its second RESHAPE's
# static output shape is a placeholder too ([1, 1, 16, 32] for [1, 16, 16, 32]: the shape input decides).
# Their expected outputs come from TFLite's own reference kernels (BUILTIN_REF), stored beside the model (TFLite's
# builtin TRANSPOSE_CONV, not its reference one, differs by one step in a few of the U-Net's outputs).
TFLITE_REFERENCE = ("keras_tcn_imu_int8", "keras_tiny_unet_int8")


def reference_kernels_content(path):
    """The file's bytes with TILE's operator version lowered to 2: TFLite's reference resolver registers TILE up
    to version 2 only, and version 3 (int8) runs the same kernel."""
    import struct

    from tensorflow.lite.python import schema_py_generated as fb
    content = bytearray(open(path, "rb").read())
    model = fb.Model.GetRootAsModel(content, 0)
    for k in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(k)
        if max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()) == fb.BuiltinOperator.TILE and oc.Version() > 2:
            struct.pack_into("<i", content, oc._tab.Pos + oc._tab.Offset(8), 2)  # Version, field 2 (vtable slot 8)
    return bytes(content)


def write_tflite_references():
    import tensorflow as tf
    for name in TFLITE_REFERENCE:
        path = os.path.join(HERE, name + ".tflite")
        reference_kernels = tf.lite.experimental.OpResolverType.BUILTIN_REF
        interp = tf.lite.Interpreter(model_content=reference_kernels_content(path),
                                     experimental_op_resolver_type=reference_kernels)
        interp.allocate_tensors()
        i, o = interp.get_input_details()[0], interp.get_output_details()[0]
        with np.load(os.path.join(HERE, name[:-len("_int8")] + ".npz")) as z:
            data = z[z.files[0]]
        scale, zero_point = i["quantization"]
        rng = np.random.default_rng(SEED)
        x = np.concatenate([np.clip(np.round(data / scale) + zero_point, -128, 127).reshape((-1,) + tuple(i["shape"])),
                            rng.integers(-128, 128, (20,) + tuple(i["shape"])),
                            np.full((1,) + tuple(i["shape"]), -128), np.full((1,) + tuple(i["shape"]), 127)])
        x = x.astype(np.int8)
        y = []
        for sample in x:
            interp.set_tensor(i["index"], sample)
            interp.invoke()
            y.append(interp.get_tensor(o["index"]).copy())
        np.savez_compressed(os.path.join(HERE, name + ".tflite_ref.npz"), inputs=x, outputs=np.stack(y))


def main():
    if sys.argv[1:] == ["--references"]:  # only the stored TFLite outputs, from the .tflite files already here
        write_tflite_references()
        return
    only = set(sys.argv[1:])
    rng = np.random.default_rng(SEED)
    import tensorflow as tf
    tf.random.set_seed(SEED)
    import keras
    keras.utils.set_random_seed(SEED)
    for name, build in keras_models().items():
        if not only or name in only:
            print("building", name, flush=True)
            export_keras(name, build, np.random.default_rng([SEED, len(name)]))
    specs, bn_stats = torch_models()
    for name, spec in specs.items():
        if not only or name in only:
            print("building", name, flush=True)
            export_torch(name, spec, bn_stats, np.random.default_rng([SEED, len(name)]))
    if not only:
        write_tflite_references()
    del rng


if __name__ == "__main__":
    main()
