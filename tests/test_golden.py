"""Pyramid level 5: the generated files of a small model, compared with reviewed copies in tests/golden/.
After a deliberate change to the emitter, refresh them with MCU_CODEGEN_UPDATE_GOLDEN=1 and review the diff."""
import os
from pathlib import Path

import numpy as np
import onnx
from models import nchw_cnn

import mcu_codegen

GOLDEN = Path(__file__).resolve().parent / "golden" / "nchw_cnn"
FILES = ("model.h", "model.c", "report.json", "report.html", "CMakeLists.txt", "model.mk", "library.json",
         "library.properties", "zephyr/module.yml", "zephyr/CMakeLists.txt", "zephyr/Kconfig")


def test_generated_files_match_golden(tmp_path):
    onnx.save(nchw_cnn(), tmp_path / "nchw_cnn.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "nchw_cnn.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(0).normal(0, 1, (32, 1, 3, 16, 16))}]
    files = conv.convert().files
    if os.environ.get("MCU_CODEGEN_UPDATE_GOLDEN"):
        for name in FILES:
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_text(files[name])
    for name in FILES:
        assert files[name] == (GOLDEN / name).read_text(), f"{name} differs from tests/golden (see module doc)"
