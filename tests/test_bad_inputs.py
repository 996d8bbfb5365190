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


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_is_one_clean_line(case, tmp_path):
    out = tmp_path / "out"
    args = [str(out) if a == "OUT" else a for a in case["args"]]
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", *args], capture_output=True, text=True, cwd=HERE)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcu-codegen: error: "), r.stderr
    assert "Traceback" not in r.stderr and case["expect"] in lines[0], lines[0]
    assert not out.exists() and list(tmp_path.iterdir()) == []
