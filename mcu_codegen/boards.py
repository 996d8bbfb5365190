"""Board profiles: one TOML file per board in boards/ (core, FPU, flash, RAM and its regions, clock, compiler
flags and, for emulated boards, the QEMU machine and its memory map), or a user's own file given by its path."""
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli is the same parser (it became tomllib in 3.11)
    import tomli as tomllib
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

from .ir import ConversionError

_PACKAGE = Path(__file__).resolve().parent
BOARDS = next(p for p in (_PACKAGE / "boards", _PACKAGE.parent / "boards") if p.is_dir())


@dataclass(frozen=True)
class RamRegion:
    name: str
    bytes: int
    origin: int = None


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
    # the RAM blocks, in the order the arena should prefer them (e.g. a tightly coupled RAM first): the arena is
    # one block of memory, so it must fit one of them; no [[ram]] tables: one region of ram_bytes
    ram: tuple = ()
    arch: str = "arm"  # or "riscv" (target.TOOLCHAINS: the cross compiler, C library and QEMU of each)
    path: Path = field(default=None, compare=False)

    @property
    def ram_regions(self):
        return self.ram or (RamRegion("RAM", self.ram_bytes, self.ram_origin),)


# what each key of a profile holds (a user's file is checked against it, naming the key at fault)
_TYPES = {"name": str, "description": str, "core": str, "fpu": str, "float_abi": str, "flash_bytes": int,
          "ram_bytes": int, "clock_hz": int, "cflags": list, "extensions": list, "qemu_machine": str,
          "flash_origin": int, "ram_origin": int, "ram": list, "arch": str}
_REQUIRED = {f.name for f in fields(Board) if f.default is MISSING}


def names():
    return sorted(p.stem for p in BOARDS.glob("*.toml"))


def load(name):
    """A board by name (boards/<name>.toml) or by the path of a profile of the same form (ending in .toml)."""
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise ConversionError(f"{name}: no such board profile (a .toml file like those in {BOARDS})")
    else:
        path = BOARDS / f"{name}.toml"
        if not path.is_file():
            raise ConversionError(f"unknown board '{name}' (known: {', '.join(names())}; or the path of a "
                                  "board profile, .toml)")
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConversionError(f"{path}: not a readable TOML board profile ({e})") from None
    return Board(**_checked(data, path), path=path)


def _checked(data, path):
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        raise ConversionError(f"{path}: unknown key {unknown[0]!r} (a board profile has {', '.join(_TYPES)})")
    missing = sorted(_REQUIRED - set(data))
    if missing:
        raise ConversionError(f"{path}: no {missing[0]!r} (required: {', '.join(sorted(_REQUIRED))})")
    for key, value in data.items():
        if not isinstance(value, _TYPES[key]) or isinstance(value, bool):
            raise ConversionError(f"{path}: {key} = {value!r} is not a {_TYPES[key].__name__}")
        if _TYPES[key] is int and value < 0 or key.endswith("_bytes") and value <= 0:
            raise ConversionError(f"{path}: {key} = {value} is not a size")
    if data.get("arch", "arm") not in ("arm", "riscv"):
        raise ConversionError(f"{path}: arch = {data['arch']!r} is not arm or riscv")
    for key in ("cflags", "extensions"):
        if not all(isinstance(x, str) for x in data.get(key, [])):
            raise ConversionError(f"{path}: {key} must be a list of strings")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", data["name"]):
        raise ConversionError(f"{path}: name {data['name']!r} is not 1 to 64 letters, digits and ._+-")
    _check_flags_agree(data, path)
    data = dict(data, cflags=tuple(data["cflags"]), extensions=tuple(data.get("extensions", ())))
    regions = []
    for k, r in enumerate(data.get("ram", [])):
        where = f"{path}: [[ram]] {k + 1}"
        if not isinstance(r, dict) or set(r) - {"name", "bytes", "origin"} or not {"name", "bytes"} <= set(r):
            raise ConversionError(f"{where} needs name and bytes (and optionally origin), nothing else")
        if not isinstance(r["name"], str) or not isinstance(r["bytes"], int) or not 0 < r["bytes"] <= data[
                "ram_bytes"] or not isinstance(r.get("origin", 0), int):
            raise ConversionError(f"{where}: a name, a size of 1 to ram_bytes ({data['ram_bytes']}) bytes and an "
                                  "integer origin")
        regions.append(RamRegion(r["name"], r["bytes"], r.get("origin")))
    data["ram"] = tuple(regions)
    return data


# the compiler flag that states each key, per architecture: a profile whose cflags say another core, FPU or ABI
# than its keys would be built for one chip and reported (FPU warnings, soft-float costs) as another
_FLAG_OF = {"arm": {"core": "-mcpu=", "fpu": "-mfpu=", "float_abi": "-mfloat-abi="},
            "riscv": {"core": "-march=", "float_abi": "-mabi="}}


def _check_flags_agree(data, path):
    arch = data.get("arch", "arm")
    for key, flag in _FLAG_OF[arch].items():
        said = [f[len(flag):] for f in data["cflags"] if f.startswith(flag)]
        value = said[-1].split("+")[0] if said and key == "core" else said[-1] if said else None  # -mcpu=X+nofp
        if value is not None and value != data[key]:
            raise ConversionError(f"{path}: cflags say {flag}{said[-1]}, but {key} = {data[key]!r}")
    if arch == "arm" and data["fpu"] == "none" and data["float_abi"] != "soft":
        raise ConversionError(f"{path}: fpu = 'none' needs float_abi = 'soft' (not {data['float_abi']!r})")
    if arch == "riscv":
        march = next((f[len("-march="):] for f in reversed(data["cflags"]) if f.startswith("-march=")), data["core"])
        has_fpu = any(ext in march[4:].split("_")[0] for ext in "fdg")  # rv32imafc: the F extension
        if has_fpu != (data["fpu"] != "none"):
            raise ConversionError(f"{path}: fpu = {data['fpu']!r} but the architecture {march} "
                                  f"{'has' if has_fpu else 'has no'} floating-point extension")
