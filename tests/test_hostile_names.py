"""Issue 6: names and strings from a model reach the generated files only as escaped comment text. A model
whose names carry comment terminators, newlines, #include, backslashes, quotes or non-UTF-8 bytes must give
the C compiler exactly the same tokens as the same model with plain names."""
import subprocess

import numpy as np
import onnx
from helpers import onnx_model
from mlperf import tflite_path
from onnx import helper

import mcu_codegen

EVIL = "*/ int pwned = 1; /* \n#include \"/etc/passwd\"\n#define model_invoke x \\\n 'q' \"q\" ??/"


def named_model(prefix):
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Gemm", [prefix + "in", prefix + "w"], [prefix + "h"], name=prefix + "fc", transB=1,
                              doc_string=prefix + "doc"),
             helper.make_node("Relu", [prefix + "h"], [prefix + "out"], name=prefix + "relu")]
    model = onnx_model(nodes, [(prefix + "in", [1, 8])], [(prefix + "out", [1, 4])],
                       {prefix + "w": rng.normal(0, 1, (4, 8)).astype(np.float32)})
    model.doc_string = prefix + "model doc"
    model.graph.name = prefix + "graph"
    return model


def tokens(project, tmp_path):
    """What the compiler sees: model.c preprocessed (comments and line markers gone)."""
    r = subprocess.run(["gcc", "-E", "-P", "-I", str(project), str(project / "model.c")], capture_output=True,
                       text=True, check=True)
    return r.stdout


def convert(model, tmp_path, tag):
    onnx.save(model, tmp_path / f"{tag}.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / f"{tag}.onnx")
    conv.representative_dataset = [[np.random.default_rng(1).normal(0, 1, (16, 1, 8)).astype(np.float32)]]
    return conv.convert().save(tmp_path / tag)


def test_hostile_onnx_names_change_no_token(tmp_path):
    plain = convert(named_model("p_"), tmp_path, "plain")
    evil = convert(named_model(EVIL), tmp_path, "evil")
    assert tokens(evil, tmp_path) == tokens(plain, tmp_path)
    for f in ("model.c", "model.h"):
        text = (evil / f).read_text()
        assert not any(line.lstrip().startswith(("#include \"/etc", "#define model_invoke")) for line in text.splitlines())
        assert "pwned = 1; /*" not in text and "*/ int pwned" not in text
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", str(evil / "model.c"),
                    "-I", str(evil), "-o", str(tmp_path / "evil.o")], check=True)


def _patch_tensor_name(data, old, new):
    assert len(old) == len(new)
    at = data.find(old)
    assert at > 0
    return data[:at] + new + data[at + len(old):]


def test_hostile_tflite_bytes_change_no_token(tmp_path):
    data = tflite_path("ad").read_bytes()
    model = mcu_codegen.Converter.from_tflite(tflite_path("ad")).convert()
    name = model.report["outputs"][0]["name"].encode()
    evil = b"*/\n#\xff\xfe\\\"'"[: len(name)].ljust(len(name), b"\x00")
    (tmp_path / "evil.tflite").write_bytes(_patch_tensor_name(data, name, evil))
    plain = model.save(tmp_path / "plain")
    hostile = mcu_codegen.Converter.from_tflite(tmp_path / "evil.tflite").convert().save(tmp_path / "evil")
    assert tokens(hostile, tmp_path) == tokens(plain, tmp_path)
