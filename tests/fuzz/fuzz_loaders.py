"""Coverage-guided fuzzing (atheris / libFuzzer) of the three readers of untrusted files: the ONNX loader, the
TFLite loader (each followed by canonicalize and every op's prepare: float32 mode for ONNX, the file's own
integers for TFLite) and the calibration .npz reader. The only exception allowed out
is ConversionError; anything else, or a crash, is a bug. New inputs that reach new code go to the corpus folder.

    python3 tests/fuzz/fuzz_loaders.py onnx -max_total_time=60 tests/fuzz/corpus/onnx
"""
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["mcu_codegen"]):
    from mcu_codegen import api, cli, frontend, passes, quantize, tflite_frontend
    from mcu_codegen.ir import ConversionError, Graph, Tensor

WORK = tempfile.mkdtemp(prefix="mcu_codegen_fuzz_")
# a one-input graph to calibrate against: what the calibration reader checks data for
GRAPH = Graph({"t0": Tensor("t0", (1, 4), source="x")}, [], ["t0"], ["t0"], "fuzz")


def _file(data, name):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def onnx_target(data):
    """Load, canonicalize, and prepare every op in float32 mode (no calibration data needed)."""
    try:
        quantize.quantize(passes.canonicalize(frontend.load(_file(data, "model.onnx"))), None, mode="float32")
    except ConversionError:
        pass


def tflite_target(data):
    """Load, then prepare every op from the file's own integers (int8 and 16x8 checks live there); a float file's
    in float32 mode, as ONNX."""
    try:
        graph = passes.canonicalize(tflite_frontend.load(_file(data, "model.tflite")))
        quantize.quantize(graph, None, mode="int8" if graph.quantized else "float32")
    except ConversionError:
        pass


def calibration_target(data):
    try:
        arrays = cli._load_npz(_file(data, "calib.npz"), "calibration")
        api.calibration_samples(GRAPH, [{"x": v} for v in arrays.values()][:1] or [{}])
    except ConversionError:
        pass


TARGETS = {"onnx": onnx_target, "tflite": tflite_target, "calibration": calibration_target}

if __name__ == "__main__":
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()
