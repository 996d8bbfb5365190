"""Issue 14: RISC-V microcontrollers. Cross builds with Debian's riscv64-unknown-elf-gcc and picolibc for
rv32imc, rv32imac and rv32imafc, run on QEMU's virt machine (qemu-system-riscv32) through the same harness and
instruction-counting plugin as the Arm boards: bit-exact with the host build (and TFLM)."""
import subprocess
import sys

import numpy as np
import pytest
from mlperf import ref, tflite_path
from test_targets import assert_mode_equals_host_build, inputs_for, model_for

from mcu_codegen import boards, target

RISCV = ["qemu-virt-rv32imc", "qemu-virt-rv32imac", "qemu-virt-rv32imafc"]


@pytest.mark.slow
@pytest.mark.parametrize("board", RISCV)
def test_riscv_equals_host_build_and_tflm_with_repeatable_counts(board):
    model, project = model_for("kws", "tflite")
    board = boards.load(board)
    feeds = inputs_for(model)
    got, counts = target.run_on_board(project, model.report, board, feeds, count=True)
    host = model.build().run(feeds)
    for name in host:
        np.testing.assert_array_equal(got[name], host[name])
    x = ref("kws")["inputs_int8"]
    tflm, first = target.run_on_board(project, model.report, board, {"input_1": x}, count=True)
    np.testing.assert_array_equal(tflm["Identity"], ref("kws")["outputs_tflm"])
    again = target.run_on_board(project, model.report, board, {"input_1": x}, count=True)[1]
    assert first == again and len(first) == len(x)
    macs = model.report["macs"]
    assert all(macs < c < 100 * macs for c in counts)
    print(f"\n{board.name}: {len(feeds['input_1'])} + {len(x)} inputs equal to the host build and TFLM; "
          f"{np.mean(first):.0f} instructions per inference")


@pytest.mark.slow
@pytest.mark.parametrize("board", ["qemu-virt-rv32imc", "qemu-virt-rv32imafc"])
@pytest.mark.parametrize("mode", ["int16x8", "float32", "dynamic", "float16"])
def test_modes_on_riscv_equal_host_build(board, mode):
    """16x8 bit for bit (int64 accumulators); float32, dynamic range and float16 (its portable widening) on
    software float (rv32imc) and on the F extension (rv32imafc) within 8 float32 ulps: the same operations in
    the same order, expf from picolibc."""
    assert_mode_equals_host_build(board, mode)


@pytest.mark.slow
def test_int8_on_riscv_links_no_float_helpers_and_float_io_does(tmp_path):
    board = boards.load("qemu-virt-rv32imc")
    (tmp_path / "int8").mkdir()
    (tmp_path / "float").mkdir()
    model, project = model_for("kws", "tflite")
    elf = target.link_harness(project, model.report, board, tmp_path / "int8")
    assert target.float_helpers(elf, board) == [] and "model_invoke" in target.symbols(elf, board)
    model, project = model_for("kws", "onnx", io="float32")
    elf = target.link_harness(project, model.report, board, tmp_path / "float")
    assert {"__mulsf3", "__floatsisf"} & set(target.float_helpers(elf, board))


@pytest.mark.slow
def test_riscv_boards_in_the_cli(tmp_path):
    cli = [sys.executable, "-m", "mcu_codegen.cli"]
    listed = subprocess.run([*cli, "boards"], capture_output=True, text=True).stdout
    for name in [*RISCV, "esp32-c3", "gd32vf103", "ch32v307"]:
        assert f"\n{name} " in listed, name
    r = subprocess.run([*cli, "convert", "--board", "gd32vf103", "-o", tmp_path / "kws", tflite_path("kws")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "gd32vf103: GigaDevice" in r.stdout and "of    131072 B" in r.stdout and "of     32768 B" in r.stdout
    np.savez(tmp_path / "in.npz", input_1=ref("kws")["inputs_int8"])
    r = subprocess.run([*cli, "run", tmp_path / "kws", "--board", "qemu-virt-rv32imac", "--input", tmp_path / "in.npz",
                        "--count"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "instructions per inference on qemu-virt-rv32imac:" in r.stdout

