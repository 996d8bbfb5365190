"""The output folder: written whole or not at all, and never over what the tool did not write.

A folder we wrote holds MANIFEST (`mcu-codegen.sha256`, the format of `sha256sum`, so `sha256sum -c` checks it):
every file we wrote and its hash. Replacing a folder is allowed when it is empty, or when it holds exactly the
files of its manifest, unchanged; anything else (a user's notes, an edited model.c, a folder without a
manifest, a regular file) is refused, naming what is in the way, unless the caller forces it. A regular file is
never replaced by a folder, and neither is the current folder or one that holds an input of the command.

The new folder is built beside the target, then swapped in with two renames; a failure at any point (an
exception, Ctrl-C) leaves the old folder as it was and removes the partial one. Folders are made with
os.mkdir, so they get the umask's permissions like any other (tempfile.mkdtemp's 0700 would lock out a
build user or container other than the one who generated the code).
"""
import hashlib
import os
import secrets
import shutil
from pathlib import Path

from .ir import ConversionError

MANIFEST = "mcu-codegen.sha256"


def write(files, target, force=False, inputs=()):
    """files: {relative posix path: str | bytes}; target: the folder to (re)place; inputs: paths the command
    reads, which the folder must not hold. Returns the target's Path."""
    shown = str(target)
    path = Path(os.path.realpath(target))  # a symlinked folder: write where it points, keep the link
    try:
        _check_replaceable(path, shown, force, inputs)
        path.parent.mkdir(parents=True, exist_ok=True)
        _swap_in(files, path)
    except OSError as e:  # the user's environment (read-only, no permission, disk full), not a bug
        where = Path(e.filename) if e.filename else path
        if where.name.startswith(f".{path.name}.mcu-codegen-"):  # our scratch folder: name where it lives
            where = where.parent
        raise ConversionError(f"{shown}: cannot write the output folder ({where}: {e.strerror or e})") from None
    return path


def _check_replaceable(path, shown, force, inputs):
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            what = "is a file" if p == path else f"is inside {p}, which is a file"
            raise ConversionError(f"{shown}: {what}, not a folder; -o names the folder to write: choose another")
    cwd = Path.cwd().resolve()
    if path == cwd or path in cwd.parents:
        raise ConversionError(f"{shown}: is the current folder or holds it, and the output folder is replaced "
                              f"as a whole; name a new subfolder, e.g. -o {Path(shown) / 'model'}")
    for f in inputs:
        f = Path(os.path.realpath(f))
        if path in f.parents:
            raise ConversionError(f"{shown}: holds {f.relative_to(path)}, an input of this command; write the "
                                  "output to another folder")
    if force or not path.exists():
        return
    foreign, changed = _not_ours(path)
    if foreign:
        listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConversionError(f"{shown}: holds {listed}, which mcu-codegen did not write; move it away, choose "
                              "another -o folder, or add --force to replace the folder and everything in it")
    if changed:
        listed = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise ConversionError(f"{shown}: {listed} changed since mcu-codegen wrote it; keep your copy elsewhere, "
                              "or add --force to overwrite")


def _not_ours(path):
    """(entries no manifest lists, files whose content differs from the manifest), as relative paths."""
    manifest = _read_manifest(path / MANIFEST)
    entries = []  # (relative path, is a real folder); symlinks are entries, never followed
    for root, dirs, names in os.walk(path):
        for name in dirs + names:
            f = Path(root) / name
            entries.append((f.relative_to(path).as_posix(), f.is_dir() and not f.is_symlink()))
    entries = sorted(e for e in entries if e[0] != MANIFEST)
    if manifest is None:
        return [rel + "/" * is_dir for rel, is_dir in entries if "/" not in rel], []
    folders = {q.as_posix() for rel in manifest for q in Path(rel).parents}
    foreign, changed = [], []
    for rel, is_dir in entries:
        f = path / rel
        if is_dir:
            if rel not in folders:
                foreign.append(rel + "/")
        elif f.is_symlink() or not f.is_file() or rel not in manifest:
            foreign.append(rel)
        elif _sha256(f.read_bytes()) != manifest[rel]:
            changed.append(rel)
    return foreign, changed


def _read_manifest(f):
    if not f.is_file():
        return None
    manifest = {}
    for line in f.read_text(errors="replace").splitlines():
        digest, sep, rel = line.partition("  ")
        if sep and len(digest) == 64:
            manifest[rel] = digest
    return manifest


def manifest_text(files):
    return "".join(f"{_sha256(_bytes(files[rel]))}  {rel}\n" for rel in sorted(files))


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _bytes(content):
    return content if isinstance(content, bytes) else content.encode()


def _swap_in(files, path):
    token = secrets.token_hex(4)
    tmp = path.parent / f".{path.name}.mcu-codegen-new-{token}"
    old = path.parent / f".{path.name}.mcu-codegen-old-{token}"
    os.mkdir(tmp)
    try:
        for rel, content in files.items():
            f = tmp / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_bytes(content))
        (tmp / MANIFEST).write_text(manifest_text(files))
        if path.exists():
            os.rename(path, old)
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
