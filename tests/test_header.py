"""Issue 14: what the generated header tells a firmware (shape macros, tool version, model hash, class labels,
placement of the weights and the arena) and board profiles of the user's own (a .toml path, several RAM
regions of which the arena must fit one)."""
import hashlib
import json
import re
import subprocess
import sys

import pytest
from mlperf import tflite_path
from test_starter import cmake_and_qemu, starter

import mcu_codegen
from mcu_codegen import boards, emit
from mcu_codegen.build import STRICT_FLAGS

CLI = [sys.executable, "-m", "mcu_codegen.cli"]
KWS_LABELS = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop",
              '"go" \\ ??= */ /* grüß 日本']  # quotes, a backslash, a trigraph, comment delimiters, UTF-8


def cli(*args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def kws_labelled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kws")
    (tmp / "labels.txt").write_text("\n".join(KWS_LABELS) + "\n", encoding="utf-8")
    r = cli("convert", tflite_path("kws"), "-o", tmp / "kws", "--name", "kws", "--labels", tmp / "labels.txt")
    assert r.returncode == 0, r.stderr
    return tmp / "kws"


# a program that prints what the header says: shapes, version, hash, labels (one per line, as bytes)
PRINT_HEADER = r"""#include <stdio.h>
#include "kws.h"
static const int in_shape[KWS_INPUT0_RANK] = KWS_INPUT0_SHAPE;
static const int out_shape[] = KWS_OUTPUT0_SHAPE;
int main(void)
{
    printf("%s %s %08lx\n", KWS_MCU_CODEGEN_VERSION, KWS_MODEL_HASH, (unsigned long)KWS_MODEL_ID);
    for (int k = 0; k < KWS_INPUT0_RANK; ++k) printf("%d ", in_shape[k]);
    printf("| %d %d %d %d | %d %d | %d\n", KWS_INPUT0_DIM0, KWS_INPUT0_DIM1, KWS_INPUT0_DIM2, KWS_INPUT0_DIM3,
           out_shape[0], KWS_OUTPUT0_DIM1, KWS_OUTPUT0_RANK);
    for (int k = 0; k < KWS_NUM_LABELS; ++k) printf("%s\n", kws_labels[k]);
    return 0;
}
"""


def test_header_gives_shapes_version_hash_and_labels(kws_labelled, tmp_path):
    (tmp_path / "main.c").write_text(PRINT_HEADER)
    exe = tmp_path / "print"
    subprocess.run(["gcc", *STRICT_FLAGS, "-I", str(kws_labelled), str(tmp_path / "main.c"),
                    str(kws_labelled / "kws.c"), "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], capture_output=True, check=True).stdout.decode("utf-8").split("\n")
    report = json.loads((kws_labelled / "report.json").read_text())
    assert lines[0] == f"{mcu_codegen.__version__} {report['model_hash']} {report['model_hash'][:8]}"
    assert lines[1] == "1 49 10 1 | 1 49 10 1 | 1 12 | 2"
    assert lines[2:-1] == KWS_LABELS  # every byte as in the file
    assert report["labels"] == KWS_LABELS and report["tool_version"] == mcu_codegen.__version__
    # the hash: of the C without its comments and of the runtime files, computed here independently
    files = {p.relative_to(kws_labelled).as_posix(): p.read_text() for p in kws_labelled.rglob("*")
             if p.is_file() and (p.name == "kws.c" or p.parent.name == "runtime")}
    digest = hashlib.sha256()
    for path in sorted(files):
        text = re.sub(r"/\*.*?\*/", "", files[path], flags=re.S) if path == "kws.c" else files[path]
        digest.update(f"{path}\0{len(text)}\0{text}".encode())
    assert digest.hexdigest() == report["model_hash"]


def test_model_hash_follows_the_code_not_the_names(tmp_path):
    conv = mcu_codegen.Converter.from_tflite(tflite_path("kws"))
    base = conv.convert()
    conv.optimize = "size"
    other_kernels = conv.convert()
    conv.optimize, conv.labels = "speed", [f"class {k}" for k in range(12)]
    labelled = conv.convert()
    hashes = {m.report["model_hash"] for m in (base, other_kernels, labelled)}
    assert len(hashes) == 3
    again = mcu_codegen.Converter.from_tflite(tflite_path("kws")).convert()
    assert again.report["model_hash"] == base.report["model_hash"]


@pytest.mark.parametrize("lines,message", [
    (["a"] * 5, "labels: 5 given, but output 'Identity' 1x12 has 12 classes"),
    (["a"] * 5 + [""] + ["b"] * 6, "label 6 ('') is not one non-empty line"),
])
def test_labels_that_do_not_fit_the_output_are_refused(tmp_path, lines, message):
    (tmp_path / "labels.txt").write_text("\n".join(lines) + "\n")
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws", "--labels", tmp_path / "labels.txt")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert r.stderr.startswith(f"mcu-codegen: error: {tmp_path / 'labels.txt'}: ")
    assert not (tmp_path / "kws").exists()


def test_c_string_escapes_round_trip():
    for text in KWS_LABELS + ["a\tb", "\x7f", "é"]:
        literal = emit.c_string(text)
        assert re.fullmatch(r'"[ !#-)+-.0-9:->@-\[\]-~]*"', literal.replace("\\", "]")), literal
        decoded = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), literal[1:-1].encode())
        assert decoded == text.encode()


@pytest.mark.slow
def test_weights_and_arena_sections_place_them_and_the_starter_still_passes(kws_labelled, tmp_path):
    """-DKWS_WEIGHTS_SECTION and -DKWS_ARENA_SECTION: every weight array and parameter struct of kws.c in the
    named section (its size: the .rodata of a build without), the starter's arena in its own; still PASS."""
    app = tmp_path / "app"
    starter(kws_labelled, app, "--board", "mps2-an386", "--vectors", "3")
    with open(app / "CMakeLists.txt", "a") as f:
        f.write("target_compile_definitions(kws PUBLIC KWS_WEIGHTS_SECTION=\".model_weights\" "
                "KWS_ARENA_SECTION=\".bss.model_arena\")\n")
    r = cmake_and_qemu(app, tmp_path / "build", "mps2-an386")
    assert (r.returncode, r.stdout.splitlines()[-1]) == (0, "PASS: 3 of 3 test vectors bit-exact")
    sections = subprocess.run(["arm-none-eabi-objdump", "-h", str(tmp_path / "build" / "kws" / "libkws.a")],
                              capture_output=True, text=True, check=True).stdout
    placed = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"^\s*\d+\s+(\S+)\s+([0-9a-f]{8})", sections, re.M)}
    plain = subprocess.run(["arm-none-eabi-gcc", *boards.load("mps2-an386").cflags, "-O2", "-ffunction-sections",
                            "-fdata-sections", "-I", str(kws_labelled), "-c", str(kws_labelled / "kws.c"), "-o",
                            str(tmp_path / "plain.o")], capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    plain_sections = subprocess.run(["arm-none-eabi-size", "-A", str(tmp_path / "plain.o")], capture_output=True,
                                    text=True, check=True).stdout
    rodata = sum(int(line.split()[1]) for line in plain_sections.splitlines() if line.startswith(".rodata.n"))
    assert placed[".model_weights"] == rodata > 29000
    main_object = tmp_path / "build" / "CMakeFiles" / "kws_starter.elf.dir" / "main.c.obj"
    symbols = subprocess.run(["arm-none-eabi-objdump", "-t", str(main_object)],
                             capture_output=True, text=True, check=True).stdout
    assert re.search(r"\.bss\.model_arena\s+00004040 arena$", symbols, re.M), symbols  # 16448 B


# -- a board profile of the user's own, several RAM regions ------------------------------------------------------
AN386 = (boards.BOARDS / "mps2-an386.toml").read_text()
REGIONS = """
[[ram]]
name = "DTCM"
origin = 0x20000000
bytes = {first}
[[ram]]
name = "SRAM"
origin = 0x20100000
bytes = {second}
"""


def user_board(tmp_path, text):
    path = tmp_path / "my-board.toml"
    path.write_text(text)
    return path


def test_the_arena_goes_in_the_first_ram_region_that_holds_it(tmp_path):
    board = user_board(tmp_path, AN386.replace('"mps2-an386"', '"my-board"', 1)
                       + REGIONS.format(first=8192, second=65536))
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws", "--board", board)
    assert r.returncode == 0, r.stderr
    assert "my-board: Arm MPS2 AN386" in r.stdout
    assert "arena in SRAM at 0x20100000: 16256 B of 65536 B  24.8% (the first RAM region that holds it; the " \
           "others: DTCM 8192 B)" in r.stdout
    roomy = user_board(tmp_path, AN386 + REGIONS.format(first=16384, second=65536))  # the M4's forms' 16256 B
    assert "arena in DTCM at 0x20000000" in cli("convert", tflite_path("kws"), "-o", tmp_path / "k2", "--board",
                                                roomy).stdout
    small = user_board(tmp_path, AN386 + REGIONS.format(first=8192, second=4096))
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "k3", "--board", small)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "the arena (16256 B) fits none of its RAM regions (largest: DTCM, 8192 B, 8064 B short)" in r.stderr
    assert not (tmp_path / "k3").exists()


def test_a_user_board_file_runs_the_starter(kws_labelled, tmp_path):
    board = user_board(tmp_path, AN386.replace('"mps2-an386"', '"my-board"', 1))
    app = tmp_path / "app"
    assert "-M mps2-an386" in starter(kws_labelled, app, "--board", board, "--vectors", "2")
    assert "for my-board" in (app / "startup.c").read_text()


@pytest.mark.parametrize("edit,message", [
    (lambda t: t + 'colour = "blue"\n', "unknown key 'colour'"),
    (lambda t: t.replace('clock_hz = 25000000\n', ''), "no 'clock_hz'"),
    (lambda t: t.replace('ram_bytes = 4194304', 'ram_bytes = "4 MB"'), "ram_bytes = '4 MB' is not a int"),
    (lambda t: t.replace('flash_bytes = 4194304', 'flash_bytes = 0'), "flash_bytes = 0 is not a size"),
    (lambda t: t.replace('"mps2-an386"', '"my board; rm -rf"', 1), "is not 1 to 64 letters"),
    (lambda t: t + '[[ram]]\nname = "X"\n', "[[ram]] 1 needs name and bytes"),
    (lambda t: t + '[[ram]]\nname = "X"\nbytes = 99999999999\n', "a size of 1 to ram_bytes"),
    (lambda t: t + "[[ram\n", "not a readable TOML board profile"),
    (lambda t: t.replace('core = "cortex-m4"', 'core = "cortex-m7"'), "cflags say -mcpu=cortex-m4, but core = "
     "'cortex-m7'"),
    (lambda t: t.replace('"-mcpu=cortex-m4"', '"-mcpu=cortex-m4+nofp"').replace('fpu = "fpv4-sp-d16"', 'fpu = "none"')
     .replace('"-mfpu=fpv4-sp-d16", ', ''),
     "fpu = 'none' needs float_abi = 'soft'"),
    (lambda t: t.replace('"-mthumb"', '"-mthumb", "-mno-such-flag"'), "arm-none-eabi-gcc failed with this board "
     "profile's cflags or memory map: arm-none-eabi-gcc: error: unrecognized command-line option '-mno-such-flag'"),
])
def test_bad_board_files_are_one_line_errors(tmp_path, edit, message):
    board = user_board(tmp_path, edit(AN386))
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws", "--board", board)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert str(board) in r.stderr and not (tmp_path / "kws").exists()
    r = cli("convert", tflite_path("kws"), "-o", tmp_path / "kws", "--board", tmp_path / "none.toml")
    assert r.returncode == 2 and "none.toml: no such board profile" in r.stderr

