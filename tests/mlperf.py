"""The MLPerf Tiny models in ../shared and the data we calibrate and evaluate them with.

Only ad ships real inputs (196 log-mel windows): the first half calibrates, the second half evaluates.
kws ships one real MFCC input: calibration and evaluation use it with time shifts, gains and a little noise.
vww and ic ship none: we use random crops of the two real photographs bundled with scikit-learn
(load_sample_images), resized to the model's input, at the model's input range (vww [0,1], ic [0,255]).
They are real natural-image statistics, not the models' data sets: accuracy figures measure agreement with
the float model, not task accuracy. Calibration and evaluation sets never share a sample (different seeds).
"""
from functools import lru_cache
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf-tiny"
CASES = ("kws", "vww", "ic", "ad")
CLASSIFIERS = ("kws", "vww", "ic")


def onnx_path(case):
    return SHARED / case / f"{case}_float.onnx"


def ref(case):
    """TFLM's reference file: int8 inputs/outputs of the int8 model, and its input quantization."""
    with np.load(SHARED / "ref" / f"{case}.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@lru_cache(maxsize=None)
def _photos():
    from sklearn.datasets import load_sample_images
    return [np.asarray(im, dtype=np.uint8) for im in load_sample_images().images]


def _image_crops(n, size, seed):
    from PIL import Image
    rng = np.random.default_rng(seed)
    out = np.empty((n, size, size, 3), np.float32)
    for i in range(n):
        photo = _photos()[rng.integers(len(_photos()))]
        side = int(rng.integers(size, min(photo.shape[:2]) + 1))
        y, x = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        crop = Image.fromarray(photo[y:y + side, x:x + side]).resize((size, size), Image.BILINEAR)
        img = np.asarray(crop, np.float32)
        out[i] = img[:, ::-1] if rng.random() < 0.5 else img
    return out


def _kws_variants(n, seed):
    r = ref("kws")
    real = r["inputs_int8"][-1].astype(np.float32)  # the one real input is stored last
    mfcc = (real - float(r["input_zero_point"])) * float(r["input_scale"])  # (1, 49, 10, 1)
    rng = np.random.default_rng(seed)
    out = np.empty((n,) + mfcc.shape[1:], np.float32)
    for i in range(n):
        shifted = np.roll(mfcc[0], int(rng.integers(-8, 9)), axis=0)
        out[i] = shifted * rng.uniform(0.85, 1.15) + rng.normal(0, 0.05 * mfcc.std(), mfcc.shape[1:])
    return out


def dataset(case, split, n=None):
    """float32 inputs (N, *input shape without batch) for split 'calibration' or 'evaluation'."""
    seed = {"calibration": 0, "evaluation": 1}[split]
    if case == "ad":
        with np.load(SHARED / "ad" / "ad_real_inputs.npz", allow_pickle=False) as z:
            x = z["input_1"].astype(np.float32)
        half = len(x) // 2
        x = x[:half] if split == "calibration" else x[half:]
        return x[:n] if n else x
    n = n or 100
    if case == "kws":
        return _kws_variants(n, seed)
    if case == "vww":
        return _image_crops(n, 96, seed) / np.float32(255.0)
    if case == "ic":
        return _image_crops(n, 32, seed)
    raise ValueError(case)


def input_name(case):
    return "input_1"


INT8_TFLITE = {"kws": "kws/kws_ref_model.tflite", "vww": "vww/vww_96_int8.tflite",
               "ic": "ic/pretrainedResnet_quant.tflite", "ad": "ad/ad01_int8.tflite"}


def tflite_path(case):
    return SHARED / INT8_TFLITE[case]
