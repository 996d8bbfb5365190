"""The output folder: written whole or not at all, and never over what the tool did not write.

A folder we wrote holds MANIFEST (`mcu-codegen.sha256`, the format of `sha256sum`, so `sha256sum -c` checks it):
every file we wrote and its hash. Replacing a folder is allowed when it is empty, or when it holds exactly the
files of its manifest, unchanged, and the manifest itself as we wrote it; anything else (a user's notes, an
edited model.c, a folder without a manifest, a manifest that is not a plain file, a folder that cannot be
listed, a mount point, a regular file) is refused, naming what is in the way, unless the caller forces it. A
regular file is never replaced by a folder, and neither is the current folder or one that holds an input of the
command, even when forced.

The new folder is built beside the target and exchanged with it in one atomic rename (Linux renameat2
RENAME_EXCHANGE; elsewhere two renames, the first undone if the second fails). The check and the swap hold a lock
on the parent folder, so two conversions into one place take turns; Ctrl-C, SIGTERM and SIGHUP are held back
while the folders are swapped and cleaned up, so an interruption leaves either the old folder or the new one,
and no scratch folder. Folders are made with os.mkdir, so they get the umask's permissions (tempfile.mkdtemp's
0700 would lock out a build user or container other than the one who generated the code); a replaced folder
keeps its own mode and group where we may set them.
"""
import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import warnings
from pathlib import Path

from .ir import ConversionError

MANIFEST = "mcu-codegen.sha256"
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def write(files, target, force=False, inputs=()):
    """files: {relative posix path: str | bytes}; target: the folder to (re)place; inputs: paths the command
    reads, which the folder must not hold. Returns the target's Path."""
    shown = str(target)
    path = Path(os.path.realpath(target))  # a symlinked folder: write where it points, keep the link
    created = []
    try:
        _check_placement(path, shown, inputs)
        created = _make_parents(path.parent)
        with _locked(path.parent):
            if not force:
                _check_ours(path, shown)
            _swap_in(files, path)
    except OSError as e:  # the user's environment (read-only, no permission, disk full), not a bug
        _remove_empty(created)
        where = Path(e.filename) if e.filename else path
        if where.name.startswith(".mcu-codegen-"):  # our scratch folder: name where it lives
            where = where.parent
        raise ConversionError(f"{shown}: cannot write the output folder ({where}: {e.strerror or e})") from None
    except BaseException:
        _remove_empty(created)
        raise
    return path


def _check_placement(path, shown, inputs):
    """What no --force may replace: a file, the current folder, a folder holding an input, a mount point."""
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
    if path.exists() and os.path.ismount(path):
        raise ConversionError(f"{shown}: is a mount point, which cannot be replaced; name a subfolder of it")


def _check_ours(path, shown):
    """Refuses a folder unless it is empty or holds exactly its manifest's files, unchanged."""
    if not path.exists():
        return
    entries = _entries(path, shown)
    manifest_path = path / MANIFEST
    if not entries:
        return
    if os.path.lexists(manifest_path) and (manifest_path.is_symlink() or not manifest_path.is_file()):
        raise ConversionError(f"{shown}: its {MANIFEST} is not a plain file, so mcu-codegen did not write it; "
                              "choose another -o folder, or add --force to replace the folder and everything in it")
    if not manifest_path.is_file():
        raise ConversionError(f"{shown}: has no {MANIFEST}, so it is not a folder mcu-codegen wrote (or one "
                              f"written before mcu-codegen 0.2, which kept no manifest); it holds {_listed(entries)}; "
                              "choose another -o folder, or add --force to replace the folder and everything in it")
    text = _read(manifest_path, shown)
    manifest = _parse_manifest(text)
    if manifest is None or manifest_text_of(manifest) != text:
        raise ConversionError(f"{shown}: {MANIFEST} was edited; keep your copy elsewhere, or add --force to "
                              "replace the folder")
    folders = {q.as_posix() for rel in manifest for q in Path(rel).parents}
    foreign, changed = [], []
    for rel, kind in entries:
        if rel == MANIFEST:
            continue
        if kind == "folder":
            if rel not in folders:
                foreign.append(rel + "/")
        elif kind != "file":
            foreign.append(f"{rel} ({kind})")
        elif rel not in manifest:
            foreign.append(rel)
        elif _sha256(_read_bytes(path / rel, shown)) != manifest[rel]:
            changed.append(rel)
    if foreign:
        raise ConversionError(f"{shown}: holds {_listed(foreign)}, which mcu-codegen did not write; move it away, "
                              "choose another -o folder, or add --force to replace the folder and everything in it")
    if changed:
        raise ConversionError(f"{shown}: {_listed(changed)} changed since mcu-codegen wrote it; keep your copy "
                              "elsewhere, or add --force to overwrite")


def _entries(path, shown):
    """[(relative path, 'folder' | 'file' | 'symlink' | 'special file')] under path; symlinks are never followed
    and a folder that cannot be listed is refused (its content is unknown)."""
    def unlistable(e):
        raise ConversionError(f"{shown}: cannot list {e.filename} ({e.strerror}), so what it holds is unknown; "
                              "choose another -o folder")
    out = []
    for root, dirs, names in os.walk(path, onerror=unlistable):
        for name in dirs + names:
            f = Path(root) / name
            kind = ("symlink" if f.is_symlink() else "folder" if f.is_dir() else "file" if f.is_file()
                    else "special file")
            out.append((f.relative_to(path).as_posix(), kind))
    return sorted(out)


def _listed(items):
    names = [i[0] if isinstance(i, tuple) else i for i in items]
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _read(f, shown):
    return _read_bytes(f, shown).decode("utf-8", errors="replace")


def _read_bytes(f, shown):
    try:
        return f.read_bytes()
    except OSError as e:
        raise ConversionError(f"{shown}: cannot read {f} ({e.strerror}) to check it is mcu-codegen's") from None


def _parse_manifest(text):
    """{relative path: lower-case sha256} from sha256sum's text or binary (`*`) lines; None if a line is neither."""
    manifest = {}
    for line in text.splitlines():
        digest, sep, rel = line.partition(" ")
        if not sep or len(digest) != 64 or rel[:1] not in (" ", "*") or not rel[1:]:
            return None
        manifest[rel[1:]] = digest.lower()
    return manifest


def manifest_text(files):
    return manifest_text_of({rel: _sha256(_bytes(content)) for rel, content in files.items()})


def manifest_text_of(manifest):
    return "".join(f"{manifest[rel]}  {rel}\n" for rel in sorted(manifest))


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _bytes(content):
    return content if isinstance(content, bytes) else content.encode()


def _make_parents(parent):
    """mkdir -p, returning the folders it made (deepest last), so that a failure can take them back."""
    missing = [p for p in (parent, *parent.parents) if not p.exists()]
    for p in reversed(missing):
        os.mkdir(p)
    return missing


def _remove_empty(folders):
    for p in folders:  # deepest first
        with contextlib.suppress(OSError):
            os.rmdir(p)


@contextlib.contextmanager
def _locked(folder):
    """An exclusive lock on the parent folder for the check and the swap (flock works on folders)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held():
    """Ctrl-C, SIGTERM and SIGHUP wait, and are delivered afterwards: the swap and the clean-up run whole. The
    Python handlers are swapped, not the signal mask: a signal the kernel hands to another thread (OpenBLAS
    keeps some) would still interrupt the main thread through its Python handler."""
    caught = []
    try:
        previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in HELD_SIGNALS}
    except ValueError:  # not the main thread: signals do not reach this code anyway
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in caught[:1]:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def _swap_in(files, path):
    token = secrets.token_hex(4)
    tmp, old = path.parent / f".mcu-codegen-{token}.new", path.parent / f".mcu-codegen-{token}.old"
    try:
        os.mkdir(tmp)
        for rel, content in files.items():
            f = tmp / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(_bytes(content))
        (tmp / MANIFEST).write_text(manifest_text(files))
        with _signals_held():
            if path.exists():
                _keep_metadata(path, tmp)
                if _exchange(tmp, path):
                    _remove_old(tmp)  # tmp now holds the old folder
                    return
                os.rename(path, old)
                try:
                    os.rename(tmp, path)
                except BaseException:
                    os.rename(old, path)
                    raise
                _remove_old(old)
            else:
                os.rename(tmp, path)
    finally:
        with _signals_held():
            if os.path.lexists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)


def _keep_metadata(old, new):
    """The replaced folder's mode (setgid, group-writable, ...) and group, where we may set them."""
    st = os.stat(old)
    with contextlib.suppress(OSError):
        os.chmod(new, st.st_mode & 0o7777)
    with contextlib.suppress(OSError):
        if os.stat(new).st_gid != st.st_gid:
            os.chown(new, -1, st.st_gid)


def _remove_old(folder):
    shutil.rmtree(folder, ignore_errors=True)
    if os.path.lexists(folder):
        warnings.warn(f"the replaced output folder could not be removed entirely; it is left at {folder}")


_RENAME_EXCHANGE = 2


def _exchange(a, b):
    """Atomically exchanges two folders (Linux renameat2); False where the system cannot, so the caller renames."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
