"""The same model, data and options give byte-identical output folders on every machine: whatever BLAS kernel
numpy's OpenBLAS picks for the CPU, however many threads it runs, whatever PYTHONHASHSEED. Each conversion
runs in its own process so that OpenBLAS reads its environment afresh. Calibration's float passes (conv, FC,
depthwise), the calibration methods' searches, bias correction and weight clipping all reach model.c."""
import os
import platform
import subprocess
import sys

import numpy as np
import onnx
import pytest
from mlperf import dataset, onnx_path
from models import nchw_cnn

# kernels every x86-64 CPU of the last decade runs (OpenBLAS refuses none of them, and falls back where a
# feature is missing); on other machines, the generic kernels of that architecture
CORETYPES = {"x86_64": ("Prescott", "SandyBridge", "Haswell", "Zen"),
             "aarch64": ("ARMV8", "CORTEXA57", "NEOVERSEN1")}.get(platform.machine(), ("",))
ENVIRONMENTS = [dict(OPENBLAS_CORETYPE=core, OPENBLAS_NUM_THREADS=str(threads), PYTHONHASHSEED=str(seed))
                for seed, (core, threads) in enumerate((c, t) for c in CORETYPES for t in (1, 2))]


def convert(tmp_path, tag, model, calibration, env, *options):
    out = tmp_path / tag
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(model), "--calibration",
                        str(calibration), "-o", str(out), "--no-data-warnings", *options],
                       capture_output=True, text=True, env={**os.environ, **env})
    assert r.returncode == 0, r.stderr
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("case", ["golden", "kws", "kws-entropy-clip-bc", "vww-mse"])
def test_byte_identical_under_every_blas_kernel_and_thread_count(tmp_path, case):
    if case == "golden":  # tests/test_golden.py's model and data
        model, data, name, options = tmp_path / "m.onnx", np.random.default_rng(0).normal(0, 1, (32, 1, 3, 16, 16)), \
            "x", ()
        onnx.save(nchw_cnn(), model)
    else:
        mlperf, _, method = case.partition("-")
        model, data, name = onnx_path(mlperf), dataset(mlperf, "calibration", 40), "input_1"
        options = {"": (), "entropy-clip-bc": ("--calibration-method", "entropy", "--weight-clipping",
                                               "--bias-correction"),
                   "mse": ("--calibration-method", "mse")}[method]
    np.savez(tmp_path / "cal.npz", **{name: data.astype(np.float32)})
    first = None
    for k, env in enumerate(ENVIRONMENTS):
        files = convert(tmp_path, f"out{k}", model, tmp_path / "cal.npz", env, *options)
        if first is None:
            first = files
            continue
        assert files.keys() == first.keys()
        differing = [f for f in files if files[f] != first[f]]
        assert not differing, f"{differing} differ under {env} from {ENVIRONMENTS[0]}"
