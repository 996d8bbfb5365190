"""Issue 6: every case of tests/bad_inputs/cases.json through the CLI: exit status 2, the expected one-line
message, no traceback, nothing written."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES = json.loads((HERE / "cases.json").read_text())


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


def corpus_files():
    return {p: p.read_bytes() for p in sorted(HERE.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_is_one_clean_line(case, tmp_path):
    out = tmp_path / "out"
    args = [str(out) if a == "OUT" else a for a in case["args"]]
    before = corpus_files()  # the -o cases aim at the corpus folder itself: nothing there may change
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", *args], capture_output=True, text=True, cwd=HERE)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcu-codegen: error: "), r.stderr
    assert "Traceback" not in r.stderr and case["expect"] in lines[0], lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert corpus_files() == before


def test_accumulator_that_could_overflow_is_refused(tmp_path):
    """140,000 taps x 128 x 128 > 2^31 - 1 (the input zero point is folded into the bias, so |x| <= 128 per tap):
    refused at generation time, naming the node (no wider path yet)."""
    import numpy as np
    import onnx
    from helpers import onnx_model
    from onnx import helper
    k = 140_000
    w = np.full((2, k), 0.01, np.float32)
    model = onnx_model([helper.make_node("Gemm", ["x", "w"], ["y"], name="wide_fc", transB=1)], [("x", [1, k])],
                       [("y", [1, 2])], {"w": w})
    onnx.save(model, tmp_path / "wide.onnx")
    np.savez(tmp_path / "calib.npz", x=np.random.default_rng(0).normal(0, 1, (4, 1, k)).astype(np.float32))
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(tmp_path / "wide.onnx"),
                        "--calibration", str(tmp_path / "calib.npz"), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "node 'wide_fc' (fully_connected)" in r.stderr and "could overflow its int32 accumulator" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("data", ["single", "constant", "zeros"])
def test_degenerate_but_valid_calibration_data_converts(data, tmp_path):
    """A single sample, a constant input, all zeros (zero range): valid, and the C still equals the reference."""
    import numpy as np

    import mcu_codegen
    x = {"single": np.random.default_rng(0).normal(0, 1, (1, 4)), "constant": np.full((5, 1, 4), 0.75),
         "zeros": np.zeros((5, 1, 4))}[data].astype(np.float32)
    conv = mcu_codegen.Converter.from_onnx(HERE / "good.onnx")
    conv.representative_dataset = [{"x": x}]
    model = conv.convert()
    q = np.random.default_rng(1).integers(-128, 128, (6, 1, 4)).astype(np.int8)
    np.testing.assert_array_equal(model.build().run({"x": q})["y"], model.reference({"x": q})["y"])
