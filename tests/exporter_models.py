"""The exporter models of tests/models (made by tests/models/make_models.py) and how the tests and
bench/coverage.py run them: converted by the tool, run as C, against TFLM (a .tflite) or onnxruntime (ONNX).

An int8 .tflite keeps its own quantization: the C must equal TFLM bit for bit. A float model (ONNX, float
.tflite) is calibrated on the first half of its representative inputs (<name>.npz) and measured on the second
half, with float32 I/O (the C quantizes and dequantizes at the edges): the C must equal the NumPy reference bit
for bit, and its outputs come within an SQNR floor of the float model's (onnxruntime, or TFLM for a float
.tflite)."""
from pathlib import Path

import numpy as np

MODELS = Path(__file__).resolve().parent / "models"


def model_files():
    return sorted(p for p in MODELS.iterdir() if p.suffix in (".onnx", ".tflite"))


def data_path(path):
    """The representative inputs of a model file: <name>.npz, for <name>_int8.tflite the float model's."""
    path = Path(path)
    stem = path.stem[:-len("_int8")] if path.stem.endswith("_int8") else path.stem
    return path.with_name(stem + ".npz")


def data(path):
    with np.load(data_path(path), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def tflite_reference(path):
    """(int8 inputs, outputs) of TFLite's reference kernels stored beside an int8 .tflite that TFLM does not run as
    TFLite does (make_models.TFLITE_REFERENCE says why), or None."""
    ref = Path(path).with_name(Path(path).stem + ".tflite_ref.npz")
    if not ref.is_file():
        return None
    with np.load(ref, allow_pickle=False) as z:
        return z["inputs"], z["outputs"]


def is_quantized_tflite(path):
    return Path(path).suffix == ".tflite" and Path(path).stem.endswith("_int8")


def converter(path):
    import mcu_codegen
    path = Path(path)
    if path.suffix == ".tflite":
        return mcu_codegen.Converter.from_tflite(path)
    return mcu_codegen.Converter.from_onnx(path)


def halves(arrays):
    """(calibration, evaluation) halves of {name: (N, ...)}."""
    n = len(next(iter(arrays.values())))
    return ({k: v[: n // 2] for k, v in arrays.items()}, {k: v[n // 2:] for k, v in arrays.items()})


def convert(path, io="float32"):
    """The model file through the whole tool (a float one calibrated on the first half of its data: 8 samples
    for the two 96x96 and 64x64 models, fewer than the tool's warning asks for, on purpose: small files)."""
    import warnings

    from mcu_codegen import DataWarning
    conv = converter(path)
    if not is_quantized_tflite(path):
        conv.representative_dataset = [halves(data(path))[0]]
        conv.inference_input_type = conv.inference_output_type = io
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return conv.convert()


def tflm(path, feeds):
    """TFLM's interpreter on each sample from its reset state: feeds is a list of (N, *shape) arrays, one per
    model input; returns a list of (N, *shape) arrays, one per model output."""
    import tflite
    from tflite_micro import runtime
    n_outputs = tflite.Model.GetRootAsModel(Path(path).read_bytes(), 0).Subgraphs(0).OutputsLength()
    interp = runtime.Interpreter.from_file(str(path), arena_size=4 << 20)
    outs = []
    for i in range(len(feeds[0])):
        interp.reset()  # variable tensors (an LSTM's state) back to zero: each sample is one whole sequence
        for k, x in enumerate(feeds):
            interp.set_input(x[i].reshape(interp.get_input_details(k)["shape"]), k)
        interp.invoke()
        outs.append([interp.get_output(k).copy() for k in range(n_outputs)])
    return [np.stack([o[k] for o in outs]) for k in range(n_outputs)]


def onnxruntime(path, feeds):
    """{input name: (N, *shape)} -> the float model's outputs [(N, *shape)] (one sample per run)."""
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n = len(next(iter(feeds.values())))
    runs = [sess.run(None, {k: v[i:i + 1] for k, v in feeds.items()}) for i in range(n)]
    return [np.concatenate([r[k] for r in runs]) for k in range(len(runs[0]))]


def int8_feeds(model, path, n_random, seed=0):
    """Inputs of an int8 .tflite: its representative data quantized with the file's input scale, random int8
    values, all -128 and all 127."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for m, (name, x) in zip(model.report["inputs"], data(path).items()):
        shape = tuple(m["shape"])
        q = np.clip(np.round(x / m["scale"]) + m["zero_point"], -128, 127).reshape((len(x),) + shape)
        rand = rng.integers(-128, 128, (n_random,) + shape)
        edges = np.stack([np.full(shape, -128), np.full(shape, 127)])
        feeds[m["name"]] = np.concatenate([q, rand, edges]).astype(np.int8)
    return feeds


def sqnr_db(reference, test):
    reference, test = np.asarray(reference, np.float64), np.asarray(test, np.float64)
    noise = np.sum((reference - test) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(reference ** 2) / noise))


def float_reference(path, feeds):
    """The float model's outputs: onnxruntime for ONNX, TFLM for a float .tflite (TFLite's interpreter for one
    with an operator TFLM lacks: GELU)."""
    if Path(path).suffix == ".onnx":
        return onnxruntime(path, feeds)
    try:
        return tflm(path, list(feeds.values()))
    except RuntimeError:  # TFLM's "failed to allocate tensors": an operator it has no kernel for
        from tflite16 import run_litert
        x = next(iter(feeds.values()))
        return [run_litert(Path(path).read_bytes(), x.reshape((len(x), 1) + x.shape[1:]))]  # samples of batch 1
