"""The output folder loses nothing: only what mcu-codegen wrote is replaced, atomically, with the umask's
permissions; a user's files, a regular file and the current folder are refused; Ctrl-C and unwritable places
are one line. Also the calibration-data warnings and the message that says which data convert needs."""
import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import onnx
import pytest
from mlperf import dataset, onnx_path, tflite_path
from models import nchw_cnn

import mcu_codegen
from mcu_codegen import output
from mcu_codegen.ir import ConversionError

CLI = [sys.executable, "-m", "mcu_codegen.cli"]
KWS = tflite_path("kws")  # converts without calibration: the quickest real model


def cli(*args, cwd=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def snapshot(folder):
    """Every entry under folder with its bytes (None for a folder), and its mode."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = (None if os.path.isdir(p) else open(p, "rb").read(),
                                               os.stat(p).st_mode)
    return out


def leftovers(parent):
    return [p.name for p in parent.iterdir() if p.name.startswith(".mcu-codegen-")]


def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcu-codegen: error: "), r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def model():
    return mcu_codegen.Converter.from_tflite(KWS).convert()


def test_folder_with_a_users_file_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "NOTES.md").write_text("my notes")
    before = snapshot(out)
    r = cli("convert", KWS, "-o", out)
    assert r.returncode == 2
    assert "NOTES.md" in one_error_line(r) and "--force" in r.stderr
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_regular_file_is_refused_and_kept_even_with_force(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("important")
    for extra in ((), ("--force",)):
        r = cli("convert", KWS, "-o", f, *extra)
        assert r.returncode == 2 and "is a file, not a folder" in one_error_line(r)
        assert f.read_text() == "important"
    r = cli("convert", KWS, "-o", f / "sub")
    assert r.returncode == 2 and "which is a file" in one_error_line(r)
    assert f.read_text() == "important" and leftovers(tmp_path) == []


def test_force_replaces_a_folder_with_foreign_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "NOTES.md").write_text("my notes")
    r = cli("convert", KWS, "-o", out, "--force")
    assert r.returncode == 0, r.stderr
    assert not (out / "NOTES.md").exists() and (out / "model.c").is_file()


def test_our_own_folder_is_replaced_without_force_and_the_manifest_checks(tmp_path, model):
    out = tmp_path / "m"
    model.save(out)
    model.save(out)  # the second time the folder is ours: no --force needed
    listed = {}
    for line in (out / output.MANIFEST).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    assert set(listed) == set(model.files)
    for rel, digest in listed.items():  # the sha256sum format: `sha256sum -c mcu-codegen.sha256` checks it
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("change", ["edited", "extra_file", "extra_folder", "symlink"])
def test_a_changed_folder_of_ours_is_refused(tmp_path, model, change):
    out = tmp_path / "m"
    model.save(out)
    if change == "edited":
        with open(out / "model.c", "a") as f:
            f.write("/* my fix */\n")
    elif change == "extra_file":
        (out / "runtime" / "mine.c").write_text("int x;\n")
    elif change == "extra_folder":
        (out / "docs").mkdir()
    else:
        (out / "link").symlink_to(tmp_path)
    before = snapshot(out)
    with pytest.raises(ConversionError, match="--force"):
        model.save(out)
    assert snapshot(out) == before and leftovers(tmp_path) == []
    model.save(out, force=True)
    assert snapshot(out) != before


def test_current_folder_is_refused_cleanly(tmp_path):
    project = tmp_path / "myproject"
    project.mkdir()
    (project / "main.c").write_text("int main(void) { return 0; }\n")
    before = snapshot(tmp_path)
    for target in (".", "..", project):  # the current folder, a folder that holds it, the same by full path
        r = cli("convert", KWS, "-o", target, "--force", cwd=project)
        assert r.returncode == 2 and "current folder" in one_error_line(r)
    assert snapshot(tmp_path) == before


def test_an_existing_parent_is_used_as_is(tmp_path):
    (tmp_path / "fw").mkdir()
    (tmp_path / "fw" / "main.c").write_text("int main(void) { return 0; }\n")
    r = cli("convert", KWS, "-o", tmp_path / "fw" / "models" / "kws")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "fw" / "main.c").read_text().startswith("int main")
    assert (tmp_path / "fw" / "models" / "kws" / "model.c").is_file()
    r = cli("convert", KWS, "-o", tmp_path / "fw")  # the parent itself holds the user's files: refused
    assert r.returncode == 2 and "main.c" in one_error_line(r)


def test_folder_holding_an_input_is_refused_even_with_force(tmp_path, model):
    out = tmp_path / "m"
    model.save(out)
    copy = out / "kws.tflite"
    copy.write_bytes(KWS.read_bytes())
    r = cli("convert", copy, "-o", out, "--force")
    assert r.returncode == 2 and "an input of this command" in one_error_line(r)
    assert copy.read_bytes() == KWS.read_bytes()


def test_permissions_follow_the_umask(tmp_path, model):
    old = os.umask(0o027)
    try:
        out = model.save(tmp_path / "m")
    finally:
        os.umask(old)
    for p in [out, *out.rglob("*")]:
        want = 0o750 if p.is_dir() else 0o640
        assert p.stat().st_mode & 0o777 == want, p
    old = os.umask(0o022)
    try:
        out = model.save(tmp_path / "m2")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o755 and (out / "model.c").stat().st_mode & 0o777 == 0o644


def test_a_replaced_folder_keeps_its_mode(tmp_path, model):
    out = model.save(tmp_path / "m")
    os.chmod(out, 0o2775)  # a shared, group-writable folder with setgid
    model.save(out)
    assert out.stat().st_mode & 0o7777 == 0o2775


def test_a_failure_while_writing_leaves_the_old_folder(tmp_path, model, monkeypatch):
    out = tmp_path / "m"
    model.save(out)
    before = snapshot(out)
    writes = []

    def failing_write(self, data):
        writes.append(self)
        if len(writes) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return original(self, data)

    original = type(out).write_bytes
    monkeypatch.setattr(type(out), "write_bytes", failing_write)
    with pytest.raises(ConversionError, match="No space left on device"):
        model.save(out)
    monkeypatch.undo()
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_a_failed_second_rename_restores_the_old_folder(tmp_path, model, monkeypatch):
    """Where the system cannot exchange two folders atomically: two renames, the first undone."""
    out = tmp_path / "m"
    model.save(out)
    before = snapshot(out)
    renames = []
    original = os.rename

    def failing_rename(src, dst):
        renames.append(dst)
        if len(renames) == 2:  # the new folder moving into place
            raise OSError(errno.EIO, "Input/output error", str(dst))
        return original(src, dst)

    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(ConversionError, match="Input/output error"):
        model.save(out)
    monkeypatch.undo()
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_ctrl_c_during_the_swap_waits_until_it_is_complete(tmp_path, model, monkeypatch):
    """A real SIGINT arriving while the folders are exchanged is held back: the new folder is in place, whole,
    before the KeyboardInterrupt is raised, and nothing is left beside it."""
    out = tmp_path / "m"
    model.save(out)
    (out / "model.c").write_text("old\n")
    os.remove(out / output.MANIFEST)  # make the folder distinguishable from the new one
    exchange = output._exchange

    def interrupted_exchange(a, b):
        os.kill(os.getpid(), signal.SIGINT)
        return exchange(a, b)

    monkeypatch.setattr(output, "_exchange", interrupted_exchange)
    with pytest.raises(KeyboardInterrupt):
        model.save(out, force=True)
    monkeypatch.undo()
    assert (out / "model.c").read_text() == model.files["model.c"] and (out / output.MANIFEST).is_file()
    assert leftovers(tmp_path) == []


def test_unwritable_output_is_one_line_exit_2(tmp_path, monkeypatch):
    r = cli("convert", KWS, "-o", "/sys/mcu-codegen-test")  # not writable, even by root
    assert r.returncode == 2 and "/sys/mcu-codegen-test: cannot write the output folder" in one_error_line(r)
    # a read-only filesystem, in process: the same one line, exit 2
    from mcu_codegen import cli as cli_module

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(os, "mkdir", read_only)
    assert cli_module.main(["convert", str(KWS), "-o", str(tmp_path / "ro" / "m")]) == 2


@pytest.mark.slow
@pytest.mark.parametrize("sig, status, line", [(signal.SIGINT, 130, "mcu-codegen: interrupted"),
                                              (signal.SIGTERM, 143, "mcu-codegen: interrupted (SIGTERM)")])
def test_a_signal_mid_conversion_is_one_line_and_keeps_the_old_output(tmp_path, sig, status, line):
    cal = tmp_path / "cal.npz"
    np.savez(cal, input_1=dataset("vww", "calibration", 600))
    out = tmp_path / "out"
    assert cli("convert", KWS, "-o", out).returncode == 0
    before = snapshot(out)
    p = subprocess.Popen([*CLI, "convert", str(onnx_path("vww")), "--calibration", str(cal), "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)  # past the imports, inside the calibration (which takes well over 10 s here)
    assert p.poll() is None, "the conversion ended before the signal: make it longer"
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == status
    assert err.strip().splitlines() == [line], err
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_convert_without_calibration_names_the_inputs_it_needs(tmp_path):
    onnx.save(nchw_cnn(), tmp_path / "m.onnx")
    r = cli("convert", tmp_path / "m.onnx", "-o", tmp_path / "out")
    assert r.returncode == 2
    assert "'x' (N, 1, 3, 16, 16)" in one_error_line(r)
    assert not (tmp_path / "out").exists()


def calibrate(tmp_path, data, *extra):
    onnx.save(nchw_cnn(), tmp_path / "m.onnx")
    np.savez(tmp_path / "cal.npz", x=data)
    return cli("convert", tmp_path / "m.onnx", "--calibration", tmp_path / "cal.npz", "-o", tmp_path / "out", *extra)


@pytest.mark.parametrize("data, message", [
    (np.random.default_rng(0).normal(0, 1, (1, 3, 16, 16)), "taken as 1 sample"),
    (np.random.default_rng(0).normal(0, 1, (5, 1, 3, 16, 16)), "has 5 samples"),
    (np.random.default_rng(0).integers(0, 256, (40, 1, 3, 16, 16)).astype(np.float32), "whole numbers in [0, 255]"),
])
def test_plausible_but_wrong_calibration_data_warns_in_one_line(tmp_path, data, message):
    r = calibrate(tmp_path, data)
    assert r.returncode == 0, r.stderr
    warned = [line for line in r.stderr.splitlines() if line.startswith("mcu-codegen: warning: ")]
    assert len(warned) == 1 and message in warned[0] and "--no-data-warnings silences this" in warned[0], r.stderr
    r = calibrate(tmp_path, data, "--no-data-warnings")
    assert r.returncode == 0 and r.stderr == ""


def test_good_calibration_data_and_normalized_images_do_not_warn(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (40, 1, 3, 16, 16)) / np.float32(255)
    r = calibrate(tmp_path, data.astype(np.float32))
    assert r.returncode == 0 and r.stderr == ""


def test_data_warnings_are_python_warnings_of_their_own_category(tmp_path):
    onnx.save(nchw_cnn(), tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(0).normal(0, 1, (3, 1, 3, 16, 16))}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        conv.convert()
    assert [w.category for w in caught] == [mcu_codegen.DataWarning]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", mcu_codegen.DataWarning)
        conv.convert()


def test_a_manifest_that_is_not_a_plain_file_is_refused(tmp_path):
    """A folder named like the manifest, holding a user's files, must not make the folder look like ours."""
    out = tmp_path / "out"
    (out / "mcu-codegen.sha256").mkdir(parents=True)
    (out / "mcu-codegen.sha256" / "notes.txt").write_text("precious")
    r = cli("convert", KWS, "-o", out)
    assert r.returncode == 2 and "is not a plain file" in one_error_line(r)
    assert (out / "mcu-codegen.sha256" / "notes.txt").read_text() == "precious"


def test_a_folder_that_cannot_be_listed_is_refused(tmp_path):
    """Without root's override of permission bits (setpriv drops it), a folder we cannot list is not 'empty'."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "NOTES.md").write_text("mine")
    os.chown(out, 65534, 65534)  # nobody's, write and search only
    os.chmod(out, 0o333)
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-chown", "--inh-caps=-all", "--"]
    r = subprocess.run([*drop, *CLI, "convert", str(KWS), "-o", str(out)], capture_output=True, text=True)
    os.chmod(out, 0o755)
    assert r.returncode == 2 and "cannot list" in one_error_line(r), r.stderr
    assert (out / "NOTES.md").read_text() == "mine" and leftovers(tmp_path) == []


def test_external_data_of_the_model_is_an_input_even_with_force(tmp_path):
    onnx_model = onnx.load(onnx_path("ad"))
    (tmp_path / "proj" / "data").mkdir(parents=True)
    onnx.save_model(onnx_model, tmp_path / "proj" / "model.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="data/weights.bin", size_threshold=1024)
    weights = (tmp_path / "proj" / "data" / "weights.bin").read_bytes()
    r = cli("convert", tmp_path / "proj" / "model.onnx", "--mode", "float32", "-o", tmp_path / "proj" / "data",
            "--force")
    assert r.returncode == 2 and "holds weights.bin, an input of this command" in one_error_line(r)
    assert (tmp_path / "proj" / "data" / "weights.bin").read_bytes() == weights


def test_manifest_formats_and_edits(tmp_path, model):
    out = model.save(tmp_path / "m")
    manifest = out / output.MANIFEST
    text = manifest.read_text()
    # sha256sum -b writes '*' before the name, and some tools write upper-case digests: both are ours
    manifest.write_text("".join(line[:64].upper() + " *" + line[66:] + "\n" for line in text.splitlines()))
    with pytest.raises(ConversionError, match="was edited"):
        model.save(out)  # not as we wrote it: refused, unless forced
    manifest.write_text(text + "# my notes\n")
    with pytest.raises(ConversionError, match="was edited"):
        model.save(out)
    manifest.unlink()
    with pytest.raises(ConversionError, match="has no mcu-codegen.sha256"):
        model.save(out)
    assert output._parse_manifest(text.upper().replace("  ", " *")) is not None


def test_concurrent_conversions_into_one_folder_take_turns(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen([*CLI, "convert", str(KWS), "-o", str(out)], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    for line in (out / output.MANIFEST).read_text().splitlines():
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    assert leftovers(tmp_path) == []


def test_parents_made_by_a_failed_run_are_taken_back(tmp_path, model, monkeypatch):
    def failing_write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(type(tmp_path), "write_bytes", failing_write)
    with pytest.raises(ConversionError, match="No space left on device"):
        model.save(tmp_path / "a" / "b" / "m")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_a_mount_point_is_refused():
    r = cli("convert", KWS, "-o", "/proc", "--force")
    assert r.returncode == 2 and "is a mount point" in one_error_line(r)


def test_run_output_may_not_be_its_input_or_inside_the_project(tmp_path, model):
    out = model.save(tmp_path / "m")
    x = tmp_path / "in.npz"
    np.savez(x, input_1=np.zeros((1, 1, 49, 10, 1), np.int8))
    before = x.read_bytes()
    r = cli("run", out, "--input", x, "--output", x, "--reference")
    assert r.returncode == 2 and "is the --input file" in one_error_line(r) and x.read_bytes() == before
    r = cli("run", out, "--input", x, "--output", out / "o.npz", "--reference")
    assert r.returncode == 2 and "inside the project folder" in one_error_line(r)
    r = cli("run", out, "--input", x, "--output", tmp_path / "no" / "such" / "o.npz", "--reference")
    assert r.returncode == 2 and "cannot write the outputs" in one_error_line(r)


def test_a_closed_pipe_is_no_error():
    """`mcu-codegen boards | head -1`: the reader goes away; no traceback, no 'internal error'."""
    p = subprocess.Popen([*CLI, "boards"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()  # gone before the first line is written: that write fails with EPIPE
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) in (0, 141) and err == ""


def test_host_runs_leave_nothing_in_the_temp_folder(tmp_path, model):
    """Every host run compiles the model; the scratch folder goes as soon as the library is loaded."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = model.save(tmp_path / "m")
    x = tmp_path / "in.npz"
    np.savez(x, input_1=np.zeros((2, 1, 49, 10, 1), np.int8))
    env = {**os.environ, "TMPDIR": str(scratch)}
    for extra in ((), ("--output", tmp_path / "o.npz")):
        r = subprocess.run([*CLI, "run", str(out), "--input", str(x), *map(str, extra)], capture_output=True,
                           text=True, env=env)
        assert r.returncode == 0, r.stderr
    assert "outputs (not saved: no --output)" in subprocess.run(
        [*CLI, "run", str(out), "--input", str(x)], capture_output=True, text=True, env=env).stdout
    script = "import sys, mcu_codegen; m = mcu_codegen.Converter.from_tflite(sys.argv[1]).convert(); m.build(); m.build()"
    r = subprocess.run([sys.executable, "-c", script, str(KWS)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert list(scratch.iterdir()) == []


def test_int8_data_for_a_float_model_warns(tmp_path):
    r = calibrate(tmp_path, np.random.default_rng(0).integers(-128, 128, (40, 1, 3, 16, 16)).astype(np.float32))
    assert r.returncode == 0 and "whole numbers in [-128, 127]" in r.stderr


def test_a_damaged_tflite_file_is_named_as_tflite(tmp_path):
    f = tmp_path / "junk.tflite"
    f.write_bytes(b"\x00" * 64)
    r = cli("convert", f, "-o", tmp_path / "out")
    assert r.returncode == 2 and "TFLite" in one_error_line(r)
