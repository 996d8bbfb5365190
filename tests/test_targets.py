"""Issue 4: Cortex-M cross builds (-Wall -Wextra -Werror), runs on emulated cores in QEMU equal to the host
build, no software-float helpers in int8 models, exact and repeatable instruction counts."""
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from mlperf import dataset, onnx_path, ref, tflite_path

import mcu_codegen
from mcu_codegen import boards, target

EMULATED = ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"]
_models = {}


def model_for(case, path, io="int8", mode="int8"):
    key = (case, path, io, mode)
    if key not in _models:
        if path == "tflite":
            conv = mcu_codegen.Converter.from_tflite(tflite_path(case))
        else:
            conv = mcu_codegen.Converter.from_onnx(onnx_path(case))
            conv.representative_dataset = [{"input_1": dataset(case, "calibration", 20)}]
            conv.inference_input_type = conv.inference_output_type = io
            conv.mode = mode
        model = conv.convert()
        _models[key] = (model, model.save(tempfile.mkdtemp(prefix="mcu_target_test_") + "/project"))
    return _models[key]


def inputs_for(model, n=20):
    meta = model.report["inputs"][0]
    x = np.random.default_rng(3).integers(-128, 128, (n,) + tuple(meta["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    return {meta["name"]: x}


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("case,path", [("kws", "onnx"), ("kws", "tflite"), ("ic", "onnx"), ("ic", "tflite")])
def test_emulated_core_equals_host_build(board, case, path):
    model, project = model_for(case, path)
    feeds = inputs_for(model)
    got, counts = target.run_on_board(project, model.report, boards.load(board), feeds)
    host = model.build().run(feeds)
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])
    assert counts is None


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_a_model_converted_for_a_board_keeps_its_core_forms_and_equals_the_host(board, tmp_path):
    """convert --board (Converter.isa = target.isa_macros): each call site keeps the form the board's core takes
    and the portable one, the arena holds no other core's scratch (vww: the DSP 3x3 depthwise rows and the
    Helium ones differ), and the build for the board equals the host build bit for bit."""
    b = boards.load(board)
    conv = mcu_codegen.Converter.from_tflite(tflite_path("vww"))
    universal = conv.convert()
    conv.isa = target.isa_macros(b)
    model = conv.convert()
    own = {"mps2-an385-m0plus": "MCU_HAS_THUMB1", "mps3-an547": "MCU_HAS_MVE"}.get(board, "MCU_HAS_DSP")
    assert own in conv.isa and model.report["options"]["isa"] == sorted(conv.isa)
    source = model.files["model.c"]
    others = {"MCU_HAS_THUMB1", "MCU_HAS_DSP", "MCU_HAS_MVE"} - {own}
    assert f"#if {own}" in source and not any(f"#if {m}" in source or f"#elif {m}" in source for m in others)
    assert model.arena_size < universal.arena_size if own != "MCU_HAS_DSP" else model.arena_size <= universal.arena_size
    feeds = inputs_for(model, 3)
    got, _ = target.run_on_board(model.save(tmp_path / "project"), model.report, b, feeds)
    host = universal.build().run(feeds)
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("mode", ["int16x8", "float32", "dynamic"])
def test_modes_on_emulated_cores_equal_host_build(board, mode):
    """16x8 (int64 accumulators: on the M0+ through libgcc's 64-bit multiply) bit for bit. float32 and dynamic
    (hardware FPU on M4F/M7/M33/M55, software float on the M0+): the same float32 operations in the same order
    (-std=c99 keeps gcc from contracting them into fused multiply-adds; the hybrid kernels also keep each one
    its own statement), but softmax's expf, kws's last layer, comes from each C library (newlib here, glibc on
    the host), which may differ in the last bit: equal within 8 float32 ulps."""
    assert_mode_equals_host_build(board, mode)


def assert_mode_equals_host_build(board, mode):
    """kws in 16x8, float32 or dynamic on the board: 16x8 bit for bit, the float ones within 8 float32 ulps of the
    host build."""
    model, project = model_for("kws", "onnx", io="float32", mode=mode)
    x = dataset("kws", "evaluation", 5).reshape((5,) + tuple(model.report["inputs"][0]["shape"]))
    feeds = {"input_1": x.astype(np.float32)}
    got, _ = target.run_on_board(project, model.report, boards.load(board), feeds)
    host = model.build().run(feeds)["dense"]
    if mode == "int16x8":
        np.testing.assert_array_equal(got["dense"], host)
    else:
        assert np.all(np.abs(got["dense"] - host) <= 8 * np.spacing(np.abs(host))), np.abs(got["dense"] - host).max()


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("mode", ["dynamic", "float16"])
def test_dynamic_and_float16_on_emulated_cores_equal_host_build_bit_for_bit(board, mode, tmp_path):
    """conv, depthwise and fully connected (test_dynamic.weights_model) in the dynamic range and float16 modes:
    no libm, so every core, with an FPU or with libgcc's software float on the M0+, computes the same IEEE
    float32 operations as the host, in the same order: equal bit for bit. float16 on the FPU cores runs the
    VCVTB forms, on the M0+ and the host the integer widening: both exact."""
    import onnx
    from test_dynamic import weights_model
    onnx.save(weights_model(), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.mode = mode
    model = conv.convert()
    assert {n.attrs.get("compute") for n in model.graph.nodes if n.op != "reshape" and n.op != "transpose"} == \
        {"hybrid" if mode == "dynamic" else "float16"}
    project = model.save(tmp_path / "project")
    x = np.random.default_rng(4).normal(0, 1, (6, 1, 3, 8, 6)).astype(np.float32)
    x[0] = 0
    feeds = {"x": x}
    got, _ = target.run_on_board(project, model.report, boards.load(board), feeds)
    host = model.build().run(feeds)
    np.testing.assert_array_equal(got["y"], host["y"])
    if mode == "float16":  # the FPU cores really ran the VCVTB forms (the kernels are static: inlined, no symbol)
        elf = target.link_harness(project, model.report, boards.load(board), tmp_path)
        code = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True)
        assert ("vcvtb.f32.f16" in code.stdout) == (board != "mps2-an385-m0plus")


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_integer_models_link_no_float_helpers(board, mode, tmp_path):
    model, project = model_for("kws", "tflite") if mode == "int8" else model_for("kws", "onnx", mode=mode)
    board = boards.load(board)
    elf = target.link_harness(project, model.report, board, tmp_path)
    assert target.float_helpers(elf, board) == []
    assert "model_invoke" in target.symbols(elf, board)  # the model is really in the image that was checked


@pytest.mark.slow
def test_float_io_model_on_m0plus_does_link_float_helpers(tmp_path):
    """The symbol check can fail: float32 I/O on a core without an FPU needs libgcc's soft-float routines."""
    model, project = model_for("kws", "onnx", io="float32")
    board = boards.load("mps2-an385-m0plus")
    elf = target.link_harness(project, model.report, board, tmp_path)
    assert any(s.startswith("__aeabi_f") for s in target.float_helpers(elf, board))


@pytest.mark.slow
def test_instruction_counts_are_exact_and_repeatable():
    model, project = model_for("kws", "tflite")
    feeds = {model.report["inputs"][0]["name"]: ref("kws")["inputs_int8"]}
    board = boards.load("mps2-an386")
    first = target.run_on_board(project, model.report, board, feeds, count=True)[1]
    second = target.run_on_board(project, model.report, board, feeds, count=True)[1]
    assert first == second and len(first) == len(ref("kws")["inputs_int8"])
    macs = model.report["macs"]
    assert all(macs < c < 100 * macs for c in first)  # at least one instruction per MAC, and not absurd


def cli(*args):
    return subprocess.run([sys.executable, "-m", "mcu_codegen.cli", *map(str, args)], capture_output=True, text=True)


def test_boards_lists_every_profile():
    out = cli("boards").stdout
    for name in ["cortex-m0plus", "cortex-m4f", "cortex-m7", "cortex-m33", "cortex-m55", "nucleo-l4r5zi",
                 "nucleo-h7a3zi", "nucleo-u575zi", "nano33-ble-sense", "rpi-pico", "rpi-pico2", *EMULATED]:
        assert f"\n{name} " in out, name


def test_convert_refuses_a_board_too_small_and_says_by_how_much(tmp_path):
    r = cli("convert", tflite_path("ad"), "-o", tmp_path / "ad", "--board", "cortex-m0plus")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "does not fit cortex-m0plus: flash" in r.stderr and "exceeds 262144 B by" in r.stderr
    assert not (tmp_path / "ad").exists()


def test_convert_prints_the_budget_when_it_fits(tmp_path):
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws", "--board", "nucleo-l4r5zi")
    assert r.returncode == 0, r.stderr
    assert "flash" in r.stdout and "of   2097152 B" in r.stdout and "stack" in r.stdout


@pytest.mark.slow
def test_run_on_board_cli_counts(tmp_path):
    import json
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "kws" / "report.json").read_text())
    np.savez(tmp_path / "in.npz", **{report["inputs"][0]["name"]: ref("kws")["inputs_int8"][:2]})
    r = cli("run", tmp_path / "kws", "--board", "mps2-an386", "--input", tmp_path / "in.npz", "--output",
            tmp_path / "out.npz", "--count")
    assert r.returncode == 0, r.stderr
    assert "instructions per inference on mps2-an386" in r.stdout
    out = np.load(tmp_path / "out.npz")[report["outputs"][0]["name"]]
    np.testing.assert_array_equal(out, ref("kws")["outputs_tflm"][:2])
