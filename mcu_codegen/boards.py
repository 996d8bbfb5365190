"""Board profiles: one TOML file per board in boards/ (core, FPU, flash, RAM, clock, compiler flags and, for
emulated boards, the QEMU machine and its memory map)."""
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .ir import ConversionError

_PACKAGE = Path(__file__).resolve().parent
BOARDS = next(p for p in (_PACKAGE / "boards", _PACKAGE.parent / "boards") if p.is_dir())


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    core: str
    fpu: str
    float_abi: str
    flash_bytes: int
    ram_bytes: int
    clock_hz: int
    cflags: tuple
    extensions: tuple = ()
    qemu_machine: str = None
    flash_origin: int = None
    ram_origin: int = None
    path: Path = field(default=None, compare=False)


def names():
    return sorted(p.stem for p in BOARDS.glob("*.toml"))


def load(name):
    path = BOARDS / f"{name}.toml"
    if not path.is_file():
        raise ConversionError(f"unknown board '{name}' (known: {', '.join(names())})")
    data = tomllib.loads(path.read_text())
    data["cflags"], data["extensions"] = tuple(data["cflags"]), tuple(data.get("extensions", ()))
    try:
        return Board(**data, path=path)
    except TypeError as e:
        raise ConversionError(f"{path}: {e}") from None
