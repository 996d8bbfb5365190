"""Issue 6: a bounded coverage-guided fuzzing run (atheris / libFuzzer) of each loader of untrusted files, about
two minutes in all. The kept corpus (tests/fuzz/corpus) is replayed first; new inputs go to a temporary folder
(grow the kept corpus by running tests/fuzz/fuzz_loaders.py by hand). Only ConversionError may escape."""
import subprocess
import sys
from pathlib import Path

import pytest
from mlperf import SHARED

FUZZ = Path(__file__).resolve().parent / "fuzz"
SECONDS = {"onnx": 50, "tflite": 35, "calibration": 25}
EXTRA_SEEDS = {"tflite": [SHARED / "kws"]}


@pytest.mark.slow
@pytest.mark.parametrize("target", list(SECONDS))
def test_loader_raises_only_conversion_error(target, tmp_path):
    new = tmp_path / "new"
    new.mkdir()
    inputs = [FUZZ / "corpus" / target, FUZZ / "seeds" / target, *EXTRA_SEEDS.get(target, [])]
    # a fixed seed: the same mutations on every CI run, so that a failure reproduces
    cmd = [sys.executable, str(FUZZ / "fuzz_loaders.py"), target, f"-max_total_time={SECONDS[target]}", "-seed=1",
           "-rss_limit_mb=4096", "-timeout=20", f"-artifact_prefix={tmp_path}/", str(new),
           *[str(p) for p in inputs if p.is_dir()]]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS[target] + 120)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(p.name for p in tmp_path.glob("timeout-*"))
    assert r.returncode == 0 and not crashes, r.stderr[-3000:]
    assert "Done" in r.stderr  # libFuzzer's closing line: the run happened
