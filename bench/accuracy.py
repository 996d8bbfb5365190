"""Our int8 reference against the float model (onnxruntime) on each shared model's evaluation inputs:
output SQNR in dB and, for classifiers, top-1 agreement. Data: see tests/mlperf.py."""
import numpy as np
import onnxruntime as ort

from _shared import convert, mlperf, sqnr_db
from mcu_codegen.calibration import METHODS


def measure(case, method="minmax"):
    model = convert(case, "float32", method=method)
    x = mlperf.dataset(case, "evaluation")
    sess = ort.InferenceSession(str(mlperf.onnx_path(case)), providers=["CPUExecutionProvider"])
    want = np.concatenate([sess.run(None, {"input_1": x[i:i + 1]})[0] for i in range(len(x))])
    got = next(iter(model.reference({"input_1": x.reshape((len(x), 1) + x.shape[1:])}).values()))
    got = got.reshape(want.shape)
    agree = float(np.mean(want.argmax(-1) == got.argmax(-1))) if case in mlperf.CLASSIFIERS else None
    return len(x), sqnr_db(want, got), agree


def main():
    print(f"{'model':6} {'calibration':11} {'inputs':>6} {'output SQNR dB':>15} {'top-1 agreement':>16}")
    for case in mlperf.CASES:
        for method in METHODS:
            n, sqnr, agree = measure(case, method)
            print(f"{case:6} {method:11} {n:6d} {sqnr:15.1f} {'' if agree is None else f'{100 * agree:.1f}%':>16}")


if __name__ == "__main__":
    main()
