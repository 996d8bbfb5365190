"""Issue 14: `mcu-codegen starter`, a minimal app that runs a converted model on test vectors from the reference
and prints PASS or FAIL. Built as a user would (CMake and the generated toolchain file) and run by QEMU on every
emulated Cortex-M board; the portable part (main.c, port.c, the vectors) built by the host compiler."""
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest
from mlperf import ref, tflite_path
from models import nchw_cnn

import mcu_codegen
from mcu_codegen import boards
from mcu_codegen import starter as starter_module
from mcu_codegen.build import STRICT_FLAGS

CLI = [sys.executable, "-m", "mcu_codegen.cli"]
EMULATED = ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "qemu-virt-rv32imc",
            "qemu-virt-rv32imac", "qemu-virt-rv32imafc"]
# the app's own sources: C99 with warnings as errors (startup.c casts the stack address: not -pedantic); the
# model's library gets -pedantic too
APP_FLAGS = "-O2 -std=c99 -Wall -Wextra -Werror"


def cli(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def kws_folder(tmp_path_factory):
    """mcu-codegen convert kws.tflite -o fw/models/kws --name kws"""
    conv = mcu_codegen.Converter.from_tflite(tflite_path("kws"))
    conv.name = "kws"
    return conv.convert().save(tmp_path_factory.mktemp("fw") / "models" / "kws")


def starter(model, app, *args):
    r = cli("starter", model, "-o", app, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def cmake_and_qemu(app, build, board):
    """The commands the starter prints: cmake with its toolchain file, then QEMU; returns QEMU's result."""
    toolchain = starter_module.toolchain_file(boards.load(board))
    subprocess.run(["cmake", "-S", str(app), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={toolchain}",
                    f"-DCMAKE_C_FLAGS_RELEASE={APP_FLAGS}"], check=True, capture_output=True, cwd=app)
    with open(app / "CMakeLists.txt", "a") as f:  # the generated model's library under -pedantic as well
        f.write("target_compile_options(kws PRIVATE -pedantic)\n")
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return subprocess.run(starter_module.qemu_command(boards.load(board), str(build / "kws_starter.elf")),
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def vector_arrays(header, name="kws"):
    """{'input0': (N, size) array, 'output0': ...} read back from a test-vector header."""
    out = {}
    for kind, index, body in re.findall(rf"{name}_test_(input|output)(\d+)\[[^\]]+\]\[[^\]]+\] = \{{(.*?)\n\}};",
                                        header, re.S):
        rows = re.findall(r"\{([^{}]*)\}", body)
        out[f"{kind}{index}"] = np.array([[float(v) for v in r.replace("f", "").split(",") if v.strip()]
                                          for r in rows])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_starter_prints_pass_on_every_emulated_board(kws_folder, tmp_path, board):
    app = tmp_path / "app"
    printed = starter(kws_folder, app, "--board", board)
    assert printed.splitlines()[1] == "  kws_test_vectors.h: 8 test vectors, 4016 bytes of constants (flash)"
    assert printed.splitlines()[3:] == [f"  {line}" for line in starter_module.commands(boards.load(board), "kws")]
    assert sorted(p.name for p in app.iterdir()) == sorted([
        "CMakeLists.txt", starter_module.toolchain_file(boards.load(board)), "kws_test_vectors.h", "link.ld", "main.c",
        "mcu-codegen.sha256", "port.c", "startup.c"])
    r = cmake_and_qemu(app, tmp_path / "build", board)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "kws: 8 test vectors\nPASS: 8 of 8 test vectors bit-exact\n"
    print(f"\n{board}: {r.stdout.splitlines()[-1]}")


@pytest.mark.slow
def test_a_wrong_expected_value_fails_on_the_board(kws_folder, tmp_path):
    """The check is real: one expected value changed in the header, QEMU exits with 1 and names the element."""
    app = tmp_path / "app"
    starter(kws_folder, app, "--board", "mps2-an386", "--vectors", "3")
    header = app / "kws_test_vectors.h"
    arrays = vector_arrays(header.read_text())
    value = int(arrays["output0"][2][5])
    text = header.read_text()
    start = text.index("kws_test_output0")
    rows = text[start:].split("{\n        ")
    rows[3] = re.sub(r"^((?:-?\d+, ){5})-?\d+", rf"\g<1>{value + 1 if value < 127 else value - 1}", rows[3])
    header.write_text(text[:start] + "{\n        ".join(rows))
    r = cmake_and_qemu(app, tmp_path / "build", "mps2-an386")
    assert r.returncode == 1
    assert r.stdout.splitlines()[1:] == [f"FAIL vector 2 output 0 element 5: got {value}, expected "
                                         f"{value + 1 if value < 127 else value - 1}",
                                         "FAIL: 1 of 3 test vectors differ"]


def test_vectors_from_tflm_inputs_hold_tflm_outputs_and_pass_on_the_host(kws_folder, tmp_path):
    """--input: the expected outputs in the header are TFLM's own for TFLM's reference inputs; main.c, port.c and
    the vectors (what a user adds to a vendor project) build with the host compiler and print PASS."""
    x = ref("kws")["inputs_int8"]
    np.savez(tmp_path / "in.npz", input_1=x)
    app = tmp_path / "app"
    printed = starter(kws_folder, app, "--board", "nucleo-l4r5zi", "--input", tmp_path / "in.npz")
    assert "nucleo-l4r5zi is not emulated" in printed
    assert sorted(p.name for p in app.iterdir()) == ["kws_test_vectors.h", "main.c", "mcu-codegen.sha256", "port.c"]
    arrays = vector_arrays((app / "kws_test_vectors.h").read_text())
    np.testing.assert_array_equal(arrays["input0"], x.reshape(len(x), -1))
    np.testing.assert_array_equal(arrays["output0"], ref("kws")["outputs_tflm"].reshape(len(x), -1))
    exe = tmp_path / "host"
    subprocess.run(["gcc", *STRICT_FLAGS, "-O2", "-I", str(kws_folder), str(app / "main.c"), str(app / "port.c"),
                    str(kws_folder / "kws.c"), "-o", str(exe)], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, f"kws: {len(x)} test vectors\nPASS: {len(x)} of {len(x)} test vectors "
                                           "bit-exact\n")


@pytest.mark.parametrize("mode,io", [("int16x8", None), ("int8", "float32"), ("float32", None)])
def test_other_modes_and_io_types_pass_on_the_host(tmp_path, mode, io):
    """16x8 (int16 vectors), float I/O of an int8 model (dequantized outputs: still exact) and float32 (within
    the stated tolerance); the generated float inputs of a quantized model lie on its quantization grid."""
    conv = mcu_codegen.Converter.from_onnx(_small_onnx(tmp_path))
    conv.representative_dataset = [{"x": np.random.default_rng(0).normal(0, 1, (32, 1, 3, 16, 16))}]
    conv.name, conv.mode, conv.inference_input_type, conv.inference_output_type = "kws", mode, io, io
    folder = conv.convert().save(tmp_path / "model")
    app = tmp_path / "app"
    starter(folder, app, "--board", "cortex-m4f", "--vectors", "5")
    header = (app / "kws_test_vectors.h").read_text()
    ctype = {"int16x8": "int16_t", "int8": "float", "float32": "float"}[mode]
    assert f"static const {ctype} kws_test_input0[KWS_TEST_VECTORS]" in header
    assert ("KWS_TEST_OUTPUT0_TOLERANCE" in header) == (mode == "float32")
    exe = tmp_path / "host"
    subprocess.run(["gcc", *STRICT_FLAGS, "-O2", "-I", str(folder), str(app / "main.c"), str(app / "port.c"),
                    str(folder / "kws.c"), "-o", str(exe), "-lm"], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    verdict = "within the tolerance" if mode == "float32" else "bit-exact"
    assert (r.returncode, r.stdout) == (0, f"kws: 5 test vectors\nPASS: 5 of 5 test vectors {verdict}\n")


def test_vectors_of_another_conversion_do_not_compile(kws_folder, tmp_path):
    """The header names the conversion it belongs to (the model hash): convert again with other kernels, and the
    old vectors stop the build with one #error instead of a FAIL that would blame the board."""
    app = tmp_path / "app"
    starter(kws_folder, app, "--board", "cortex-m4f", "--vectors", "2")
    conv = mcu_codegen.Converter.from_tflite(tflite_path("kws"))
    conv.name, conv.optimize = "kws", "size"
    other = conv.convert().save(tmp_path / "kws")
    r = subprocess.run(["gcc", *STRICT_FLAGS, "-I", str(other), "-c", str(app / "main.c"), "-o", str(tmp_path / "m.o")],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "#error \"kws_test_vectors.h belongs to another conversion of kws: run mcu-codegen starter again\"" in r.stderr


def _small_onnx(tmp_path):
    """The small NCHW CNN of the build-system tests."""
    path = tmp_path / "small.onnx"
    onnx.save(nchw_cnn(seed=3), path)
    return path


def test_starter_files_are_byte_stable_and_hold_no_paths(kws_folder, tmp_path):
    first, second = tmp_path / "one" / "app", tmp_path / "two" / "app"
    starter(kws_folder, first, "--board", "mps2-an505")
    starter(kws_folder, second, "--board", "mps2-an505")
    for f in first.iterdir():
        text = f.read_text()
        assert str(tmp_path) not in text, f.name
        if f.name != "CMakeLists.txt":  # the model folder's place relative to the app's
            assert text == (second / f.name).read_text(), f.name
    assert 'MODEL_DIR "${CMAKE_CURRENT_LIST_DIR}/../../' in (first / "CMakeLists.txt").read_text()


@pytest.mark.parametrize("case", ["no folder", "not converted", "unknown board", "inside the model", "no vectors",
                                  "wrong input", "both"])
def test_bad_starter_input_is_one_line_exit_2(kws_folder, tmp_path, case):
    (tmp_path / "empty").mkdir()
    np.savez(tmp_path / "bad.npz", input_1=np.zeros((2, 7), np.int8))
    args = {"no folder": [tmp_path / "nothing", "--board", "mps2-an386"],
            "not converted": [tmp_path / "empty", "--board", "mps2-an386"],
            "unknown board": [kws_folder, "--board", "stm32-nonesuch"],
            "inside the model": [kws_folder, "--board", "mps2-an386"],
            "no vectors": [kws_folder, "--board", "mps2-an386", "--vectors", "0"],
            "wrong input": [kws_folder, "--board", "mps2-an386", "--input", tmp_path / "bad.npz"],
            "both": [kws_folder, "--board", "mps2-an386", "--input", tmp_path / "bad.npz", "--vectors", "2"]}[case]
    app = kws_folder / "app" if case == "inside the model" else tmp_path / "app"
    r = cli("starter", *args, "-o", app)
    expected = {"no folder": "no such model folder", "not converted": "not a folder written by mcu-codegen convert",
                "unknown board": "unknown board 'stm32-nonesuch'", "inside the model": "is inside the model folder",
                "no vectors": "--vectors 0: give 1 to 1000", "wrong input": "input 'input_1' has shape (2, 7)",
                "both": "choose one"}[case]
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("mcu-codegen: error: ") and expected in r.stderr, r.stderr
    assert not app.exists()
