"""Quantization quality, in one run: the ad model with its real inputs (first half calibrates, second half
measures) and a digits classifier trained here on scikit-learn's bundled 8x8 digits (a real data set): output
SQNR against the float model and, for the classifier, accuracy: float, our int8 with each calibration method
(and with per-channel MSE weight clipping + bias correction), our int16x8, our float32 mode, and onnxruntime's
own static quantization (quantize_static, QDQ, per-channel, same calibration data)."""
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from _shared import mlperf, sqnr_db
import mcu_codegen
from mcu_codegen.calibration import METHODS


def digits_model(work):
    """A 64-32-10 MLP trained with scikit-learn on 1,000 digits; the other 797 are held out."""
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    d = load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, test = order[:1000], order[1000:]
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=600, random_state=0).fit(x[train], y[train])
    (w1, w2), (b1, b2) = clf.coefs_, clf.intercepts_
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"], name="fc2"),
             helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1)]
    inits = [onnx.numpy_helper.from_array(v.astype(np.float32), k) for k, v in
             (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))]
    graph = helper.make_graph(nodes, "digits", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 64])],
                              [helper.make_tensor_value_info("probs", onnx.TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = Path(work) / "digits.onnx"
    onnx.save(model, path)
    return path, "x", x[train[:500]], x[test], y[test]


def ort_run(path, name, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def ort_static(path, name, calibration, work):
    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{name: calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)
    out = Path(work) / (Path(path).stem + "_ort_int8.onnx")
    quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    return out


def ours(path, name, calibration, x, method="minmax", **options):
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.representative_dataset = [{name: calibration}]
    conv.inference_input_type = conv.inference_output_type = "float32"
    conv.calibration_method = method
    for k, v in options.items():
        setattr(conv, k, v)
    model = conv.convert()
    shape = tuple(model.report["inputs"][0]["shape"])
    return next(iter(model.reference({name: x.reshape((len(x),) + shape)}).values())).reshape(len(x), -1)


def main():
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantizer advises pre-processing at WARNING
    with tempfile.TemporaryDirectory() as work:
        cases = []
        ad = mlperf.dataset("ad", "calibration"), mlperf.dataset("ad", "evaluation")
        cases.append(("ad (real log-mel)", mlperf.onnx_path("ad"), "input_1", ad[0], ad[1], None))
        path, name, cal, x, y = digits_model(work)
        cases.append(("digits MLP (sklearn)", path, name, cal, x, y))
        print(f"{'model':22} {'quantization':24} {'SQNR dB':>8} {'accuracy':>9}")
        for title, path, name, cal, x, y in cases:
            want = ort_run(path, name, x).reshape(len(x), -1)

            def row(label, got):
                acc = "" if y is None else f"{100 * np.mean(got.argmax(1) == y):.2f}%"
                print(f"{title:22} {label:24} {sqnr_db(want, got):8.1f} {acc:>9}")
            row("float (onnxruntime)", want)
            for method in METHODS:
                row(f"ours int8 {method}", ours(path, name, cal, x, method))
            row("ours int8 minmax+bc", ours(path, name, cal, x, bias_correction=True))
            row("ours int8 mse+clip+bc", ours(path, name, cal, x, "mse", weight_clipping=True, bias_correction=True))
            row("ours int16x8", ours(path, name, cal, x, mode="int16x8"))
            row("ours int16x8 clip+bc", ours(path, name, cal, x, mode="int16x8", weight_clipping=True,
                                             bias_correction=True))
            row("ours float32", ours(path, name, cal, x, mode="float32"))
            row("onnxruntime int8 QDQ", ort_run(ort_static(path, name, cal, work), name, x).reshape(len(x), -1))


if __name__ == "__main__":
    main()
