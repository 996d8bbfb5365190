"""Issue 14: the output folder in other people's builds. Every .c under a tree holding several models compiles on
its own and the lot links (a glob build); the generated CMakeLists.txt and <name>.mk build the model on the host
and for an emulated Cortex-M4 (QEMU), equal to the reference bit for bit."""
import hashlib
import json
import re
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from mlperf import ref, tflite_path
from models import nchw_cnn

import mcu_codegen
from mcu_codegen import boards, target
from mcu_codegen.build import STRICT_FLAGS

# a program that runs each model on its input bytes from stdin (sample by sample, model by model), outputs to stdout
MAIN = r"""#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
{includes}
static int run(void *arena, void *(*input)(void *, int), void *(*output)(void *, int), int (*invoke)(void *),
               size_t in_bytes, size_t out_bytes)
{{
    if (fread(input(arena, 0), 1, in_bytes, stdin) != in_bytes) {{
        return 1;
    }}
    if (invoke(arena) != 0) {{
        return 2;
    }}
    return fwrite(output(arena, 0), 1, out_bytes, stdout) == out_bytes ? 0 : 3;
}}
#define RUN(m, M) run(m##_arena, m##_input, m##_output, m##_invoke, M##_INPUT0_SIZE * sizeof(M##_INPUT0_TYPE), \
                      M##_OUTPUT0_SIZE * sizeof(M##_OUTPUT0_TYPE))
{arenas}
int main(int argc, char **argv)
{{
    const int samples = argc > 1 ? atoi(argv[1]) : 0;
    for (int s = 0; s < samples; ++s) {{
{runs}
    }}
    return 0;
}}
"""


def main_source(names):
    return MAIN.format(
        includes="".join(f'#include "{n}.h"\n' for n in names),
        arenas="".join(f"static uint32_t {n}_arena[({n.upper()}_ARENA_SIZE + 3) / 4];\n" for n in names),
        runs="\n".join(f"        if (RUN({n}, {n.upper()}) != 0) {{\n            return 1;\n        }}" for n in names))


def convert_small(tmp_path, name, seed, mode="int8"):
    onnx.save(nchw_cnn(seed=seed), tmp_path / f"{name}.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / f"{name}.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(seed).normal(0, 1, (32, 1, 3, 16, 16))}]
    conv.name, conv.mode = name, mode
    return conv.convert()


def random_feeds(model, n, seed):
    meta = model.report["inputs"][0]
    info = np.iinfo(meta["dtype"])
    x = np.random.default_rng(seed).integers(info.min, info.max + 1, (n,) + tuple(meta["shape"])).astype(meta["dtype"])
    x[0], x[1] = info.min, info.max
    return {meta["name"]: x}


def run_program(exe, models, feeds, n):
    """Runs the MAIN program on n samples; returns one {output name: (n, *shape) array} per model."""
    blob = b"".join(np.ascontiguousarray(next(iter(f.values()))[s]).tobytes() for s in range(n) for f in feeds)
    raw = subprocess.run([str(exe), str(n)], input=blob, capture_output=True, check=True).stdout
    metas = [m.report["outputs"][0] for m in models]
    sizes = [int(np.prod(o["shape"])) * np.dtype(o["dtype"]).itemsize for o in metas]
    assert len(raw) == n * sum(sizes)
    outs, pos = [[] for _ in models], 0
    for _ in range(n):
        for k, (o, b) in enumerate(zip(metas, sizes)):
            outs[k].append(np.frombuffer(raw[pos:pos + b], o["dtype"]).reshape(o["shape"]))
            pos += b
    return [{o["name"]: np.stack(v)} for o, v in zip(metas, outs)]


def assert_equal_references(models, feeds, got):
    for model, f, g in zip(models, feeds, got):
        want = model.reference(f)
        for name in want:
            np.testing.assert_array_equal(g[name], want[name])


@pytest.fixture(scope="module")
def three_models(tmp_path_factory):
    """Two int8 models that use the same kernels (the clash of issue 14) and a 16x8 one, in a firmware tree."""
    tmp = tmp_path_factory.mktemp("models")
    models = [convert_small(tmp, "cnn_a", 0), convert_small(tmp, "cnn_b", 1), convert_small(tmp, "cnn_c", 2, "int16x8")]
    kernels = [f for f in models[0].files if f.endswith(".inc")]
    assert "runtime/mcu_conv2d_fast_s8.inc" in kernels
    assert all(models[0].files[f] == models[1].files[f] for f in kernels)
    return models


def firmware_tree(root, models):
    """fw/main.c and fw/models/<name>/ for each model (the third one a level deeper); returns fw/."""
    fw = root / "fw"
    for k, model in enumerate(models):
        model.save(fw / "models" / ("extra/" if k == 2 else "") / model.name)
    (fw / "main.c").write_text(main_source([m.name for m in models]))
    return fw


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_glob_build_of_three_models_links_and_equals_the_references(three_models, tmp_path, cc):
    """Every .c under the tree, found recursively, compiled one by one with the strict flags, linked together."""
    fw = firmware_tree(tmp_path, three_models)
    sources = sorted(fw.rglob("*.c"))
    assert [p.name for p in sources] == ["main.c", "cnn_a.c", "cnn_b.c", "cnn_c.c"]  # the kernels are not .c files
    objects = []
    for src in sources:
        objects.append(tmp_path / f"{src.stem}.o")
        includes = [f"-I{m.parent}" for m in fw.rglob("*.h") if m.parent.name != "runtime"] if src.name == "main.c" else []
        subprocess.run([cc, *STRICT_FLAGS, "-O2", *includes, "-c", str(src), "-o", str(objects[-1])], check=True)
    exe = tmp_path / "app"
    subprocess.run([cc, *map(str, objects), "-o", str(exe), "-lm"], check=True)
    feeds = [random_feeds(m, 12, seed=k) for k, m in enumerate(three_models)]
    got = run_program(exe, three_models, feeds, 12)
    assert_equal_references(three_models, feeds, got)
    print(f"\n{cc}: {len(sources)} .c files globbed, 3 models x 12 inputs equal to the references")


def cmake_build(app, build, *args):
    subprocess.run(["cmake", "-S", str(app), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", *args], check=True,
                   capture_output=True)
    r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


STRICT = " ".join(STRICT_FLAGS)
HOST_APP = f"""cmake_minimum_required(VERSION 3.13)
project(app C)
set(CMAKE_C_FLAGS "{STRICT}")
add_subdirectory(models/cnn_a)
add_subdirectory(models/cnn_b)
add_subdirectory(models/extra/cnn_c)
add_executable(app main.c)
target_link_libraries(app PRIVATE cnn_a cnn_b cnn_c)
"""


def test_cmake_host_build_of_three_models(three_models, tmp_path):
    """add_subdirectory + target_link_libraries, as the README says: the include folder comes with the target."""
    fw = firmware_tree(tmp_path, three_models)
    (fw / "CMakeLists.txt").write_text(HOST_APP)
    cmake_build(fw, tmp_path / "build")
    feeds = [random_feeds(m, 6, seed=10 + k) for k, m in enumerate(three_models)]
    got = run_program(tmp_path / "build" / "app", three_models, feeds, 6)
    assert_equal_references(three_models, feeds, got)
    libs = sorted(p.name for p in (tmp_path / "build").rglob("*.a"))
    assert libs == ["libcnn_a.a", "libcnn_b.a", "libcnn_c.a"]
    print(f"\ncmake host build: {', '.join(libs)}; 3 models x 6 inputs equal to the references")


HOST_MAKEFILE = f"""include models/cnn_a/cnn_a.mk
include models/cnn_b/cnn_b.mk
include models/extra/cnn_c/cnn_c.mk
CFLAGS := {STRICT} -O2
OBJS := build/main.o $(CNN_A_SRCS:%.c=build/%.o) $(CNN_B_SRCS:%.c=build/%.o) $(CNN_C_SRCS:%.c=build/%.o)
build/%.o: %.c
\t@mkdir -p $(@D)
\t$(CC) $(CFLAGS) $(CNN_A_CFLAGS) $(CNN_B_CFLAGS) $(CNN_C_CFLAGS) -c $< -o $@
app: $(OBJS)
\t$(CC) $(OBJS) -o $@ $(CNN_A_LDLIBS) $(CNN_B_LDLIBS) $(CNN_C_LDLIBS)
"""


def test_make_host_build_of_three_models(three_models, tmp_path):
    """include <name>.mk for each model; its variables name the sources and the include folder."""
    fw = firmware_tree(tmp_path, three_models)
    (fw / "Makefile").write_text(HOST_MAKEFILE)
    r = subprocess.run(["make", "-C", str(fw), "app"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    feeds = [random_feeds(m, 6, seed=20 + k) for k, m in enumerate(three_models)]
    got = run_program(fw / "app", three_models, feeds, 6)
    assert_equal_references(three_models, feeds, got)
    assert "models/extra/cnn_c/cnn_c.c" in r.stdout  # the paths are the include line's
    # the objects live outside the generated folders, so a model can be converted again without --force
    for model in three_models:
        model.save(fw / "models" / ("extra/" if model.name == "cnn_c" else "") / model.name)
    print("\nmake host build: 3 models x 6 inputs equal to the references")


# -- the same for an emulated Cortex-M4 (mps2-an386): arm-none-eabi-gcc, the harness of `run --board`, QEMU ------
BOARD = "mps2-an386"
TOOLCHAIN = """set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "{cflags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "{cflags}")
"""
CROSS_APP = """cmake_minimum_required(VERSION 3.13)
project(app C)
set(CMAKE_C_FLAGS_RELEASE "{flags}")
add_subdirectory(models/kws)
target_compile_options(kws PRIVATE -pedantic)
add_executable(app.elf harness.c)
target_link_libraries(app.elf PRIVATE kws)
target_link_options(app.elf PRIVATE {link} -T${{CMAKE_CURRENT_SOURCE_DIR}}/link.ld)
"""
CROSS_MAKEFILE = """include models/kws/kws.mk
CC := {cc}
ARCH := {cflags}
CFLAGS := $(ARCH) {flags}
OBJS := build/harness.o $(KWS_SRCS:%.c=build/%.o)
$(KWS_SRCS:%.c=build/%.o): CFLAGS += -pedantic
build/%.o: %.c
\t@mkdir -p $(@D)
\t$(CC) $(CFLAGS) $(KWS_CFLAGS) -c $< -o $@
app.elf: $(OBJS)
\t$(CC) $(ARCH) $(OBJS) {link} -T link.ld -o $@ $(KWS_LDLIBS)
"""


@pytest.fixture(scope="module")
def kws():
    """The user's workflow: mcu-codegen convert kws.tflite -o fw/models/kws --name kws."""
    conv = mcu_codegen.Converter.from_tflite(tflite_path("kws"))
    conv.name = "kws"
    return conv.convert()


def cross_tree(tmp_path, model, name=BOARD):
    board = boards.load(name)
    fw = tmp_path / "fw"
    model.save(fw / "models" / "kws")
    target.write_harness(model.report, board, fw)
    cflags = target.cflags(board)  # the board's, and what its C library needs to compile (picolibc: its headers)
    fmt = dict(cc=target.tool(board, "gcc"), cflags=" ".join(cflags), flags=" ".join(target.HARNESS_FLAGS),
               link=" ".join(f for f in target.link_flags(board) if f not in cflags))  # each spec once
    return board, fw, fmt


def assert_runs_like_tflm(elf, model, board):
    x = ref("kws")["inputs_int8"]
    got, _ = target.run_elf(elf, model.report, board, {model.report["inputs"][0]["name"]: x})
    name = model.report["outputs"][0]["name"]
    np.testing.assert_array_equal(got[name], model.reference(x)[name])
    np.testing.assert_array_equal(got[name], ref("kws")["outputs_tflm"])
    return len(x)


@pytest.mark.slow
def test_cmake_cross_build_runs_on_the_emulated_m4(kws, tmp_path):
    board, fw, fmt = cross_tree(tmp_path, kws)
    (tmp_path / "arm-none-eabi.cmake").write_text(TOOLCHAIN.format(**fmt))
    (fw / "CMakeLists.txt").write_text(CROSS_APP.format(**fmt))
    cmake_build(fw, tmp_path / "build", f"-DCMAKE_TOOLCHAIN_FILE={tmp_path / 'arm-none-eabi.cmake'}")
    n = assert_runs_like_tflm(tmp_path / "build" / "app.elf", kws, board)
    print(f"\ncmake cross build ({BOARD}, QEMU): {n} TFLM reference inputs, outputs equal to the reference and TFLM")


@pytest.mark.slow
@pytest.mark.parametrize("board_name", [BOARD, "qemu-virt-rv32imac"])
def test_make_cross_build_runs_on_the_emulated_board(kws, tmp_path, board_name):
    """The Make recipe for the emulated Cortex-M4 and for RISC-V (riscv64-unknown-elf-gcc, picolibc)."""
    board, fw, fmt = cross_tree(tmp_path, kws, board_name)
    (fw / "Makefile").write_text(CROSS_MAKEFILE.format(**fmt))
    r = subprocess.run(["make", "-C", str(fw), "app.elf"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    n = assert_runs_like_tflm(fw / "app.elf", kws, board)
    print(f"\nmake cross build ({board_name}, QEMU): {n} TFLM reference inputs, outputs equal to the reference and "
          "TFLM")


def test_float32_model_links_libm_in_cmake_and_make(tmp_path):
    """expf (float32 softmax) is in libm: both build files say so, and the CMake build links and runs."""
    model = convert_small(tmp_path, "cnn_f", 3, "float32")
    assert "target_link_libraries(cnn_f PRIVATE m)" in model.files["CMakeLists.txt"]
    assert "CNN_F_LDLIBS := -lm\n" in model.files["cnn_f.mk"]
    assert "ldflags=-lm\n" in model.files["library.properties"] and "select REQUIRES_FULL_LIBC" in model.files[
        "zephyr/Kconfig"] and json.loads(model.files["library.json"])["build"]["flags"] == "-lm"
    fw = firmware_tree(tmp_path, [model])
    (fw / "CMakeLists.txt").write_text(f"""cmake_minimum_required(VERSION 3.13)
project(app C)
set(CMAKE_C_FLAGS "{STRICT}")
set(CMAKE_C_FLAGS_RELEASE "-O2")
add_subdirectory(models/cnn_f)
add_executable(app main.c)
target_link_libraries(app PRIVATE cnn_f)
""")
    cmake_build(fw, tmp_path / "build")
    x = np.random.default_rng(4).normal(0, 1, (4, 1, 3, 16, 16)).astype(np.float32)
    got = run_program(tmp_path / "build" / "app", [model], [{"x": x}], 4)[0]
    np.testing.assert_array_equal(got["probs"], model.build().run({"x": x})["probs"])  # the same C, the same -O2
    int8 = convert_small(tmp_path, "cnn_i", 3)
    assert " m)" not in int8.files["CMakeLists.txt"] and "CNN_I_LDLIBS :=\n" in int8.files["cnn_i.mk"]
    assert "-lm" not in int8.files["library.properties"] + int8.files["library.json"]
    assert "LIBC" not in int8.files["zephyr/Kconfig"]


def test_names_cmake_reserves_are_refused(tmp_path):
    with pytest.raises(mcu_codegen.ConversionError, match="CMake reserves"):
        convert_small(tmp_path, "test", 0)


# -- packaging: the license and its SPDX lines ------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"  # apache.org/licenses/LICENSE-2.0.txt
SPDX = "SPDX-License-Identifier: Apache-2.0"


def test_license_is_the_full_apache_2_text_and_pyproject_declares_it():
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    assert "License :: OSI Approved :: Apache Software License" in project["classifiers"]


def test_runtime_and_generated_files_carry_spdx_lines(three_models):
    runtime = sorted((ROOT / "runtime_c").rglob("*.[ch]"))
    assert len(runtime) > 20 and all(p.read_text().splitlines()[0] == f"/* {SPDX} */" for p in runtime)
    for model in three_models:
        text = {k: v for k, v in model.files.items() if isinstance(v, str) and not k.endswith(".json")}
        assert set(text) >= {f"{model.name}.c", f"{model.name}.h", "CMakeLists.txt", f"{model.name}.mk",
                             "library.properties", "zephyr/module.yml", "zephyr/CMakeLists.txt", "zephyr/Kconfig"}
        for path, content in text.items():
            assert SPDX in content.splitlines()[0], path
        # the weights are the user's: the model's files say so, naming the model they come from
        assert "stays under that model's own terms" in text[f"{model.name}.c"]
        assert f"derived from {model.name}.onnx" in text[f"{model.name}.h"]


# -- Zephyr, PlatformIO and Arduino metadata, checked against their documented schemas ---------------------------
# Zephyr: scripts/zephyr_module.py's METADATA_SCHEMA (pykwalify) and the checks that script makes on the paths
ZEPHYR_TOP_KEYS = {"name", "build", "tests", "samples", "boards", "blobs"}
ZEPHYR_BUILD_KEYS = {"cmake", "kconfig", "cmake-ext", "kconfig-ext", "sysbuild-cmake", "sysbuild-kconfig",
                     "sysbuild-cmake-ext", "sysbuild-kconfig-ext", "depends", "settings"}
# PlatformIO: docs.platformio.org manifests/library-json/fields (name: required, at most 50 characters of a-z,
# digits and dashes, not at either end, no two in a row; version: required, at most 20, semantic versioning;
# description: at most 255)
PIO_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\Z")
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\Z")
# Arduino: the library specification (rev. 2.2) and arduino-lint's library.properties schema ("specification" level)
ARDUINO_REQUIRED = {"name", "version", "author", "maintainer", "sentence", "paragraph", "url"}
ARDUINO_NAME = re.compile(r"([a-zA-Z][a-zA-Z0-9 _.\-]*|[0-9][a-zA-Z0-9 _.\-]*[a-zA-Z][a-zA-Z0-9 _.\-]*)\Z")
ARDUINO_CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
                      "Data Storage", "Data Processing", "Other"}


def properties(text):
    """A .properties file as Arduino reads it: key=value lines, # comments."""
    pairs = [line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert all(len(p) == 2 for p in pairs)
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.mark.parametrize("index", [0, 1, 2])
def test_zephyr_module_matches_the_module_schema(three_models, tmp_path, index):
    model = three_models[index]
    root = model.save(tmp_path / model.name)
    meta = yaml.safe_load((root / "zephyr" / "module.yml").read_text())
    assert set(meta) <= ZEPHYR_TOP_KEYS and set(meta["build"]) <= ZEPHYR_BUILD_KEYS
    assert isinstance(meta["name"], str) and all(isinstance(meta["build"][k], str) for k in ("cmake", "kconfig"))
    assert (root / meta["build"]["cmake"] / "CMakeLists.txt").is_file() and (root / meta["build"]["kconfig"]).is_file()
    # the module names sanitized by Zephyr stay distinct between models
    assert re.sub("[^a-zA-Z0-9]", "_", meta["name"]).upper() == f"MCU_CODEGEN_{model.name.upper()}"
    kconfig = (root / "zephyr" / "Kconfig").read_text()
    symbol = re.search(r"^config (\w+)$", kconfig, re.M).group(1)
    assert re.search(r"^\tbool \"[^\"]+\"$", kconfig, re.M) and f"if(CONFIG_{symbol})" in (root / "zephyr" /
                                                                                        "CMakeLists.txt").read_text()


def test_zephyr_cmake_builds_the_model_with_zephyr_functions_stubbed(three_models, tmp_path):
    """The module's CMakeLists.txt under stand-ins of Zephyr's zephyr_library_* functions (same signatures): it
    names the model's source and include folder correctly, and two models' modules coexist."""
    fw = firmware_tree(tmp_path, three_models[:2])
    stubs = "\n".join([
        "cmake_minimum_required(VERSION 3.13)", "project(app C)", f'set(CMAKE_C_FLAGS "{STRICT}")',
        "add_library(zephyr_interface INTERFACE)",
        "macro(zephyr_library_named n)\n  set(ZEPHYR_CURRENT_LIBRARY ${n})\n  add_library(${n} STATIC)\n"
        "  target_link_libraries(${n} PRIVATE zephyr_interface)\nendmacro()",
        "function(zephyr_library_sources)\n  target_sources(${ZEPHYR_CURRENT_LIBRARY} PRIVATE ${ARGN})\nendfunction()",
        "function(zephyr_include_directories)\n  target_include_directories(zephyr_interface INTERFACE ${ARGN})\n"
        "endfunction()",
        "set(CONFIG_MCU_CODEGEN_CNN_A y)", "set(CONFIG_MCU_CODEGEN_CNN_B y)",
        "add_subdirectory(models/cnn_a/zephyr cnn_a)", "add_subdirectory(models/cnn_b/zephyr cnn_b)",
        "add_executable(app main.c)", "target_link_libraries(app PRIVATE zephyr_interface cnn_a cnn_b)", ""])
    (fw / "CMakeLists.txt").write_text(stubs)
    cmake_build(fw, tmp_path / "build")
    feeds = [random_feeds(m, 4, seed=30 + k) for k, m in enumerate(three_models[:2])]
    assert_equal_references(three_models[:2], feeds, run_program(tmp_path / "build" / "app", three_models[:2], feeds, 4))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_platformio_library_json_matches_the_documented_fields(three_models, tmp_path, index):
    model = three_models[index]
    root = model.save(tmp_path / model.name)
    lib = json.loads((root / "library.json").read_text())
    assert PIO_NAME.match(lib["name"]) and len(lib["name"]) <= 50
    assert SEMVER.match(lib["version"]) and len(lib["version"]) <= 20
    assert 0 < len(lib["description"]) <= 255
    assert (root / lib["headers"]).is_file()
    build = lib["build"]
    assert (root / build["srcDir"]).is_dir() and (root / build["includeDir"] / f"{model.name}.h").is_file()
    # srcFilter "+<file>" relative to srcDir: the model's one .c, which is also every .c PlatformIO could find
    assert build["srcFilter"] == f"+<{model.name}.c>"
    assert sorted(p.relative_to(root) for p in root.rglob("*.c")) == [Path(f"{model.name}.c")]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_arduino_library_properties_match_the_specification(three_models, tmp_path, index):
    model = three_models[index]
    root = model.save(tmp_path / model.name)
    props = properties((root / "library.properties").read_text())
    assert ARDUINO_REQUIRED <= set(props) and all(props[k] for k in ARDUINO_REQUIRED)
    assert ARDUINO_NAME.match(props["name"]) and len(props["name"]) <= 63 and not props["name"].startswith("Arduino")
    assert SEMVER.match(props["version"]) and props["category"] in ARDUINO_CATEGORIES
    assert re.match(r"https?://[^\s/]+/", props["url"]) and props["architectures"] == "*"
    assert (root / props["includes"]).is_file()
    # the flat layout (no src/ folder): the root is compiled, not recursively; runtime/ has no .c to compile
    assert not (root / "src").exists() and [p.name for p in root.glob("*.c")] == [f"{model.name}.c"]
    assert not list((root / "runtime").glob("*.c"))


def test_output_folder_is_byte_stable_and_holds_no_paths(tmp_path):
    """The same model converted from two folders: every file identical, no folder of the machine in any of them."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = convert_small(tmp_path / "one", "kws", 5), convert_small(tmp_path / "two", "kws", 5)
    assert first.files.keys() == second.files.keys() and len(first.files) > 15
    for path, content in first.files.items():
        assert content == second.files[path], path
        if isinstance(content, str):
            assert str(tmp_path) not in content and str(ROOT) not in content, path
