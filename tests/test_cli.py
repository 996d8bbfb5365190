"""The command line as a user meets it: convert, run, dump, and the error paths (one line, exit 2, nothing written)."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from mlperf import SHARED, dataset, onnx_path
from models import nchw_cnn, unsupported

CLI = [sys.executable, "-m", "mcu_codegen.cli"]


def cli(*args, env=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def ad_calibration(tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "ad_cal.npz"
    np.savez(path, input_1=dataset("ad", "calibration"))
    return path


def test_convert_then_run_c_equals_reference(tmp_path, ad_calibration):
    out = tmp_path / "ad"
    r = cli("convert", onnx_path("ad"), "--calibration", ad_calibration, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "arena 2056 bytes" in r.stdout  # 768 + the DSP one-row form's widened row (1,288 B)
    assert sorted(p.name for p in out.iterdir()) == ["CMakeLists.txt", "library.json", "library.properties",
                                                     "mcu-codegen.sha256", "model.c", "model.h", "model.mk",
                                                     "reference.npz", "report.html", "report.json", "runtime",
                                                     "zephyr"]
    # the firmware build: every .c in the folder, as is
    subprocess.run(["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", str(out), "-c",
                    *map(str, out.glob("*.c")), "-o", str(tmp_path / "model.o")], check=True)
    x = np.random.default_rng(0).integers(-128, 128, (7, 1, 640)).astype(np.int8)
    np.savez(tmp_path / "in.npz", input_1=x)
    assert cli("run", out, "--input", tmp_path / "in.npz", "--output", tmp_path / "c.npz").returncode == 0
    r = cli("run", out, "--input", tmp_path / "in.npz", "--output", tmp_path / "ref.npz", "--reference")
    assert r.returncode == 0, r.stderr
    c, ref = np.load(tmp_path / "c.npz"), np.load(tmp_path / "ref.npz")
    assert c["Identity"].shape == (7, 1, 640)
    np.testing.assert_array_equal(c["Identity"], ref["Identity"])


@pytest.mark.parametrize("mode", ["int16x8", "float32"])
def test_other_modes_run_from_the_folder_alone(tmp_path, ad_calibration, mode):
    """reference.npz carries what each mode's twin needs (float32: the float attributes): `run --reference` from
    the folder equals the in-memory reference exactly, and the C equals it (16x8) or is within float rounding."""
    import mcu_codegen
    out = tmp_path / mode
    r = cli("convert", onnx_path("ad"), "--calibration", ad_calibration, "--mode", mode, "-o", out)
    assert r.returncode == 0, r.stderr
    conv = mcu_codegen.Converter.from_onnx(onnx_path("ad"))
    conv.representative_dataset = [{"input_1": dataset("ad", "calibration")}]
    conv.mode = mode
    x = dataset("ad", "evaluation", 7).reshape(7, 1, 640)
    if mode == "int16x8":
        meta = conv.convert().report["inputs"][0]
        x = np.clip(np.round(x / meta["scale"]), -32768, 32767).astype(np.int16)
    np.savez(tmp_path / "in.npz", input_1=x)
    for kind, extra in (("c", ()), ("ref", ("--reference",))):
        r = cli("run", out, "--input", tmp_path / "in.npz", "--output", tmp_path / f"{kind}.npz", *extra)
        assert r.returncode == 0, r.stderr
    c, ref = np.load(tmp_path / "c.npz")["Identity"], np.load(tmp_path / "ref.npz")["Identity"]
    np.testing.assert_array_equal(ref, conv.convert().reference({"input_1": x})["Identity"])
    if mode == "int16x8":
        np.testing.assert_array_equal(c, ref)
    else:
        assert np.abs(c - ref).max() <= 1e-4 * np.abs(ref).max()


@pytest.mark.parametrize("stage,heading", [("float", "clamp"), ("quant", "scale"), ("plan", "offset")])
def test_dump_prints_a_stage_and_writes_nothing(tmp_path, ad_calibration, stage, heading):
    r = cli("convert", onnx_path("ad"), "--calibration", ad_calibration, "-o", tmp_path / "out", "--dump", stage)
    assert r.returncode == 0, r.stderr
    assert heading in r.stdout.splitlines()[0]
    assert ("fully_connected" in r.stdout) if stage != "plan" else ("lower bound 2056" in r.stdout)
    assert not (tmp_path / "out").exists()


def test_report_has_arena_map(tmp_path, ad_calibration):
    import json
    cli("convert", onnx_path("ad"), "--calibration", ad_calibration, "-o", tmp_path / "ad", "--name", "anomaly")
    report = json.loads((tmp_path / "ad" / "report.json").read_text())
    assert report["name"] == "anomaly" and (tmp_path / "ad" / "anomaly.h").exists()
    assert report["arena_size"] == 2056 and report["weight_bytes"] > 270_000
    node = report["nodes"][0]
    assert {"op", "inputs", "output", "macs", "offset", "size", "lifetime"} <= set(node)
    assert node["macs"] == 640 * 128


def _assert_clean_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_unsupported_ops_listed_together_exit_2_nothing_written(tmp_path):
    path = tmp_path / "bad.onnx"
    onnx.save(unsupported(), path)
    np.savez(tmp_path / "cal.npz", x=np.zeros((2, 1, 4), np.float32))
    r = cli("convert", path, "--calibration", tmp_path / "cal.npz", "-o", tmp_path / "out")
    _assert_clean_error(r, "2 unsupported node(s)", "'gate' (Erf)", "'squash' (Sin)", "bad.onnx")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failure_leaves_an_existing_output_folder_alone(tmp_path, ad_calibration):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    np.savez(tmp_path / "wrong.npz", other=np.zeros((2, 640), np.float32), another=np.zeros((2, 640), np.float32))
    r = cli("convert", onnx_path("ad"), "--calibration", tmp_path / "wrong.npz", "-o", out)
    _assert_clean_error(r, "wrong.npz", "'other'")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("content,fragment", [(b"not a model", "not a readable ONNX model"), (None, "no such file")])
def test_unreadable_model(tmp_path, content, fragment):
    path = tmp_path / "m.onnx"
    if content is not None:
        path.write_bytes(content)
    _assert_clean_error(cli("convert", path, "-o", tmp_path / "out", "--dump", "float"), fragment, "m.onnx")


def test_old_opset_is_refused(tmp_path):
    model = nchw_cnn()
    model.opset_import[0].version = 6  # 7 to 10 are upgraded (tests/test_onnx_passes.py)
    onnx.save(model, tmp_path / "old.onnx")
    _assert_clean_error(cli("convert", tmp_path / "old.onnx", "--dump", "float"), "opset 6", "7 to 21")


def test_pickled_calibration_is_refused(tmp_path):
    np.savez(tmp_path / "pickled.npz", input_1=np.array([{"a": 1}], dtype=object))
    r = cli("convert", onnx_path("ad"), "--calibration", tmp_path / "pickled.npz", "-o", tmp_path / "out")
    _assert_clean_error(r, "pickled.npz")


def test_output_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    np.savez(tmp_path / "kws.npz", input_1=dataset("kws", "calibration", 20))
    trees = []
    for seed in ("0", "12345"):
        out = tmp_path / f"out{seed}"
        r = subprocess.run([*CLI, "convert", str(onnx_path("kws")), "--calibration", str(tmp_path / "kws.npz"),
                            "-o", str(out)], env=dict(os.environ, PYTHONHASHSEED=seed), capture_output=True)
        assert r.returncode == 0, r.stderr
        trees.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1] and len(trees[0]) >= 6


def test_one_array_for_a_one_input_model_is_taken_whatever_its_name(tmp_path):
    """The MLPerf Tiny input files name their array 'input' where the model says 'input_1': one input, one
    array, nothing to mismatch."""
    out = tmp_path / "kws"
    assert cli("convert", SHARED / "kws" / "kws_ref_model.tflite", "-o", out).returncode == 0
    r = cli("run", out, "--input", SHARED / "kws" / "kws_real_input_int8.npz", "--output", tmp_path / "y.npz")
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "y.npz") as y:
        assert y[y.files[0]].shape[-1] == 12


def test_dump_plan_shows_the_scratch_buffers(tmp_path):
    """kws's DSP matrix products and 3x3 depthwise rows work in scratch buffers of the arena: --dump plan lists
    them with their node; converted for the M0+ (--board), the arena holds only the Thumb-1 forms' scratch."""
    r = cli("convert", SHARED / "kws" / "kws_ref_model.tflite", "--dump", "plan")
    assert r.returncode == 0, r.stderr
    assert "2 conv2d (scratch)" in r.stdout and "1 depthwise_conv2d (scratch)" in r.stdout
    assert "arena 16448 bytes" in r.stdout
    r = cli("convert", SHARED / "kws" / "kws_ref_model.tflite", "--dump", "plan", "--board", "mps2-an385-m0plus")
    assert r.returncode == 0, r.stderr
    assert "arena 11840 bytes" in r.stdout
