"""Issue 14: the package as a wheel, installed outside the repository. The wheel is built offline from a copy of
the sources (pip wheel --no-build-isolation: the installed setuptools), installed with --no-index --no-deps into
a fresh venv (its dependencies from the system's site-packages) and run from another folder: it converts kws
into the same files as the repository does, and its starter prints PASS on an emulated board."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from mlperf import tflite_path
from test_starter import cmake_and_qemu

import mcu_codegen

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "mcu_codegen", "templates", "runtime_c", "boards"]


def run(cmd, cwd, env):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, f"{cmd}: {r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("packaging")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", tmp / "dist",
         src], tmp, env)
    wheel = next((tmp / "dist").glob("mcu_codegen-*.whl"))
    run([sys.executable, "-m", "venv", "--system-site-packages", tmp / "venv"], tmp, env)
    # --ignore-installed: the system may hold an editable install of the repository, which must not be used
    run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
         wheel], tmp, env)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return dict(tmp=tmp, wheel=wheel, venv=tmp / "venv", env=env, cwd=elsewhere)


@pytest.mark.slow
def test_wheel_holds_the_templates_runtime_boards_and_plugin(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for path in ["templates/model.c.j2", "templates/report.html.j2", "templates/harness/startup.c.j2",
                 "templates/starter/main.c.j2", "templates/buildsys/CMakeLists.txt.j2", "runtime_c/include/mcu_nn.h",
                 "runtime_c/src/mcu_conv2d_s8.c", "boards/mps2-an386.toml", "boards/qemu-virt-rv32imac.toml",
                 "qemu/count_insns.c"]:
        assert f"mcu_codegen/{path}" in names, path
    templates = {p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.j2")}
    assert {f"mcu_codegen/templates/{t}" for t in templates} <= names
    runtime = {p.relative_to(ROOT).as_posix() for p in (ROOT / "runtime_c").rglob("*.[ch]")}
    assert {f"mcu_codegen/{r}" for r in runtime} <= names
    meta = zipfile.ZipFile(installed["wheel"]).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert "Requires-Python: >=3.10" in meta and "License: Apache-2.0" in meta
    assert any(n.endswith(".dist-info/LICENSE") for n in names)


@pytest.mark.slow
def test_installed_wheel_converts_like_the_repository_and_its_starter_passes(installed, tmp_path):
    python, cli, cwd, env = installed["venv"] / "bin" / "python", installed["venv"] / "bin" / "mcu-codegen", \
        installed["cwd"], installed["env"]
    where = run([python, "-c", "import mcu_codegen; print(mcu_codegen.__file__)"], cwd, env).strip()
    assert Path(where).is_relative_to(installed["venv"]) and not Path(where).is_relative_to(ROOT), where
    out = cwd / "fw" / "kws"
    printed = run([cli, "convert", tflite_path("kws"), "-o", out, "--name", "kws"], cwd, env)
    assert "arena 16448 bytes" in printed
    conv = mcu_codegen.Converter.from_tflite(tflite_path("kws"))
    conv.name = "kws"
    here = conv.convert().files
    got = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(got) == set(here) | {"mcu-codegen.sha256"}
    for path, content in here.items():
        assert got[path] == (content if isinstance(content, bytes) else content.encode()), path
    assert "qemu-virt-rv32imac" in run([cli, "boards"], cwd, env)
    run([cli, "starter", out, "--board", "mps2-an386", "-o", cwd / "app", "--vectors", "3"], cwd, env)
    r = cmake_and_qemu(cwd / "app", tmp_path / "build", "mps2-an386")
    assert (r.returncode, r.stdout.splitlines()[-1]) == (0, "PASS: 3 of 3 test vectors bit-exact")
