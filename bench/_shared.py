"""Bench scripts reuse the tests' view of the shared models (tests/mlperf.py)."""
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import mlperf  # noqa: E402,F401
from mcu_codegen import DataWarning  # noqa: E402

# ic takes whole numbers in [0, 255] on purpose (its input range): the warning about raw pixels does not apply
warnings.simplefilter("ignore", DataWarning)


def convert(case, io="int8", n_calibration=None, method="minmax"):
    import mcu_codegen
    conv = mcu_codegen.Converter.from_onnx(mlperf.onnx_path(case))
    conv.representative_dataset = [{"input_1": mlperf.dataset(case, "calibration", n_calibration)}]
    conv.inference_input_type = conv.inference_output_type = io
    conv.calibration_method = method
    return conv.convert()


def sqnr_db(reference, test):
    reference, test = np.asarray(reference, np.float64), np.asarray(test, np.float64)
    noise = np.sum((reference - test) ** 2)
    return float("inf") if noise == 0 else 10 * np.log10(np.sum(reference ** 2) / noise)


import numpy as np  # noqa: E402
