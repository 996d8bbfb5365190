"""Cross builds of a generated project (Cortex-M: arm-none-eabi-gcc and newlib; RISC-V: riscv64-unknown-elf-gcc
and picolibc), their flash/RAM/stack figures, and runs on an emulated board (QEMU, semihosting) with an exact
instruction count per inference (a TCG plugin)."""
import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np

from .boards import BOARDS
from .build import STRICT_FLAGS
from .emit import TEMPLATES
from .ir import ConversionError



@dataclass(frozen=True)
class Toolchain:
    prefix: str        # of gcc, size, nm
    packages: str      # the Debian packages that install it
    libc_specs: tuple  # the C library's gcc specs (linking)
    cc_specs: tuple    # what compiling needs of them (picolibc: its headers; arm-none-eabi-gcc finds newlib's)
    qemu: str          # the QEMU system emulator of the architecture, and what it needs to start a bare ELF
    qemu_args: tuple
    processor: str     # CMAKE_SYSTEM_PROCESSOR


# a board profile's arch -> its cross toolchain and emulator
TOOLCHAINS = {
    "arm": Toolchain("arm-none-eabi-", "gcc-arm-none-eabi libnewlib-arm-none-eabi",
                     ("--specs=nano.specs", "--specs=nosys.specs"), (), "qemu-system-arm", (), "arm"),
    # picolibc: Debian's C library for this compiler (rv32 multilibs: imac, imafc, im for imc, ...); -bios none:
    # QEMU's virt machine starts the ELF itself, in machine mode, without OpenSBI
    "riscv": Toolchain("riscv64-unknown-elf-", "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
                       ("--specs=picolibc.specs",), ("--specs=picolibc.specs",), "qemu-system-riscv32", ("-bios", "none"),
                       "riscv32"),
}


def toolchain(board):
    return TOOLCHAINS[board.arch]


def tool(board, name):
    """gcc, size or nm of the board's cross toolchain."""
    return toolchain(board).prefix + name


def cflags(board):
    """The board's compiler flags and what its C library needs at compile time."""
    return [*board.cflags, *toolchain(board).cc_specs]
STRICT = STRICT_FLAGS
SECTIONS = ["-ffunction-sections", "-fdata-sections"]  # with --gc-sections: only what is called
OPT = ["-O2", *SECTIONS]
PLUGIN_SOURCE = Path(__file__).resolve().parent / "qemu" / "count_insns.c"
# software floating point helpers of libgcc: none may be linked into an int8 model
FLOAT_HELPER = re.compile(r"^__(aeabi_[fd](add|sub|mul|div|cmp\w*|2\w+)|aeabi_[iu]*[li]2[fd]|"
                          r"(add|sub|mul|div)[sd]f3|float\w+[sd]f|fix\w*[sd]f\w*|extendsfdf2|truncdfsf2)$")


@dataclass
class Sizes:
    code: int       # .text of the model and its kernels
    weights: int    # .rodata: weights, biases, multipliers, parameter structs
    data: int       # .data + .bss of the model (expected 0: the arena is the caller's)
    arena: int
    stack: int      # model_invoke and the deepest kernel below it (-fstack-usage)

    @property
    def flash(self):
        return self.code + self.weights + self.data

    @property
    def ram(self):
        return self.arena + self.stack + self.data


def require_toolchain(board):
    if shutil.which(tool(board, "gcc")) is None:
        raise ConversionError(f"{tool(board, 'gcc')} not found: install {' and '.join(toolchain(board).packages.split())}")


def isa_macros(board):
    """The macros of runtime/mcu_nn.h that select kernel forms (MCU_HAS_MVE, MCU_HAS_DSP, ...) which hold for the
    board's core, as its cross compiler sees them with the board's cflags: what convert --board keeps."""
    from .emit import RUNTIME
    require_toolchain(board)
    names = sorted(set(re.findall(r"#define (MCU_HAS_\w+)", (RUNTIME / "include" / "mcu_nn.h").read_text())))
    probe = "#include \"mcu_nn.h\"\n" + "".join(f"#if {n}\nholds_{n}\n#endif\n" for n in names)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "isa.c"
        path.write_text(probe)
        said = _run([tool(board, "gcc"), *cflags(board), *OPT, "-E", "-P", "-I", str(RUNTIME / "include"), str(path)],
                    board=board)
    return frozenset(n for n in names if f"holds_{n}" in said.split())


def _run(cmd, cwd=None, board=None):
    """Runs a tool; a failure is our bug (an internal error), unless the board is a user's own profile: then its
    flags or memory map are the likely cause, said in one line naming the file (exit status 2)."""
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        if board is not None and board.path is not None and board.path.parent.resolve() != BOARDS.resolve():
            said = [ln.strip() for ln in (r.stderr + r.stdout).splitlines() if ln.strip()]
            first = next((ln for ln in said if "error" in ln.lower()), said[0] if said else "no message")
            raise ConversionError(f"{board.path}: {Path(cmd[0]).name} failed with this board profile's cflags or "
                                  f"memory map: {first[:300]}")
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


# the per-layer hook of the generated code, calling the harness's marker (a block-scope declaration: C99)
PROFILE_HOOK = "-DMCU_PROFILE_LAYER(node)=do { extern void mcu_count_layer(void); mcu_count_layer(); } while (0)"


def compile_model(project, name, board, work, per_layer=False):
    """model.c -> model.o for the board, with -fstack-usage; returns the object's path."""
    require_toolchain(board)
    obj = Path(work) / f"{name}.o"
    _run([tool(board, "gcc"), *cflags(board), *STRICT, *OPT, "-fstack-usage", "-fcallgraph-info=su",
          *([PROFILE_HOOK] if per_layer else []), "-I",
          str(project), "-c", str(Path(project) / f"{name}.c"), "-o", str(obj)], board=board)
    return obj


def sizes(project, name, board, arena_size, work):
    obj = compile_model(project, name, board, work)
    code = weights = data = 0
    for line in _run([tool(board, "size"), "-A", str(obj)]).splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        section, size = parts[0], int(parts[1])
        if section.startswith(".text"):
            code += size
        elif section.startswith(".rodata"):
            weights += size
        elif section.startswith((".data", ".bss")):
            data += size
    return Sizes(code, weights, data, arena_size, _stack(obj, name, board))


LIBRARY_FRAME = 64  # an allowance for a C library callee (memcpy, memset, __aeabi_lmul: leaves of a few pushes)


def _stack(obj, name, board):
    """The deepest call chain from the model's invoke, from GCC's call graph of the object (-fcallgraph-info=su:
    each function's frame and callees). A naked function's frame, which GCC reports as 0 (its assembly does the
    pushing), is the sum of its pushes and stack reservations in the disassembly; an indirect call (a kernel's
    row function) is taken as the deepest chain of any function; a callee outside the object (the C library) as
    LIBRARY_FRAME."""
    graph = obj.with_suffix(".ci").read_text()
    frames = {t: int(n) for t, n in re.findall(r'node: \{ title: "([^"]+)" label: "[^"]*\\n(\d+) bytes', graph)}
    calls = {}
    for src, dst in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', graph):
        calls.setdefault(src, set()).add(dst)
    pushed = _pushes(obj, board)
    frames = {t: n or pushed.get(t.rsplit(":", 1)[-1], 0) for t, n in frames.items()}
    depth = {}

    def deepest(f, path):
        if f == "__indirect_call":
            return max((deepest(g, path) for g in frames if g not in path), default=0)
        if f not in frames:
            return LIBRARY_FRAME
        if f not in depth:
            depth[f] = frames[f] + max((deepest(g, path | {f}) for g in calls.get(f, ()) if g not in path),
                                       default=0)
        return depth[f]
    return deepest(f"{name}_invoke", frozenset())


def _pushes(obj, board):
    """Each function's pushes and `sub sp` reservations in bytes, summed over its body (a bound on its frame)."""
    pushed, fn = {}, None
    for line in _run([tool(board, "objdump"), "-d", str(obj)]).splitlines():
        head = re.match(r"[0-9a-f]+ <([^>]+)>:", line)
        if head:
            fn = head.group(1)
            continue
        regs = re.search(r"\t(?:push|stmdb\s+sp!,)\s*\{([^}]*)\}", line)
        reserve = re.search(r"\tsub(?:\.w)?\s+sp,\s*(?:sp,\s*)?#(\d+)", line)
        if fn and regs:
            pushed[fn] = pushed.get(fn, 0) + 4 * len(regs.group(1).split(","))
        elif fn and reserve:
            pushed[fn] = pushed.get(fn, 0) + int(reserve.group(1))
    return pushed


def arena_region(board, arena):
    """The first of the board's RAM regions (its profile's order) that holds the arena, or None."""
    return next((r for r in board.ram_regions if arena <= r.bytes), None)


def check_fit(s, board):
    """Raises a one-line ConversionError saying by how much the model misses the board's budget."""
    problems = []
    if arena_region(board, s.arena) is None and len(board.ram_regions) > 1:
        largest = max(board.ram_regions, key=lambda r: r.bytes)
        problems.append(f"the arena ({s.arena} B) fits none of its RAM regions (largest: {largest.name}, "
                        f"{largest.bytes} B, {s.arena - largest.bytes} B short)")
    if s.flash > board.flash_bytes:
        problems.append(f"flash {s.flash} B (weights {s.weights} + code {s.code}) exceeds {board.flash_bytes} B "
                        f"by {s.flash - board.flash_bytes} B")
    if s.ram > board.ram_bytes:
        problems.append(f"RAM {s.ram} B (arena {s.arena} + stack {s.stack}) exceeds {board.ram_bytes} B "
                        f"by {s.ram - board.ram_bytes} B")
    if problems:
        raise ConversionError(f"the model does not fit {board.name}: " + "; ".join(problems))


def size_table(s, board):
    def pct(a, b):
        return f"{100 * a / b:5.1f}%"
    return "\n".join([
        f"{board.name}: {board.description}",
        f"  flash {s.flash:>9} B of {board.flash_bytes:>9} B {pct(s.flash, board.flash_bytes)}"
        f"  (weights {s.weights} B, code {s.code} B)",
        f"  RAM   {s.ram:>9} B of {board.ram_bytes:>9} B {pct(s.ram, board.ram_bytes)}"
        f"  (arena {s.arena} B, stack {s.stack} B)",
    ] + ([_region_line(s, board)] if len(board.ram_regions) > 1 else []))


def _region_line(s, board):
    region = arena_region(board, s.arena)
    if region is None:
        return f"  arena: {s.arena} B fits none of the RAM regions (" + ", ".join(
            f"{r.name} {r.bytes} B" for r in board.ram_regions) + ")"
    at = f" at {region.origin:#010x}" if region.origin is not None else ""
    others = ", ".join(f"{r.name} {r.bytes} B" for r in board.ram_regions if r is not region)
    return (f"  arena in {region.name}{at}: {s.arena} B of {region.bytes} B {100 * s.arena / region.bytes:5.1f}%"
            f" (the first RAM region that holds it; the others: {others})")


# the harness casts its stack address into the vector table: not -pedantic, still -Wall -Wextra -Werror
HARNESS_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", *OPT, "-fno-ipa-icf"]


def link_flags(board):
    """The harness's own start-up code, the board's C library, unused sections dropped."""
    return ["-nostartfiles", *toolchain(board).libc_specs, "-Wl,--gc-sections"]


def require_emulated(board):
    if board.qemu_machine is None:
        from . import boards
        emulated = [n for n in boards.names() if boards.load(n).qemu_machine]
        raise ConversionError(f"board {board.name} is not emulated; emulated boards: {', '.join(emulated)}")


def write_harness(report, board, work):
    """harness.c and link.ld of the emulated-run harness for the board, written into work; returns their paths."""
    require_emulated(board)
    name = report["name"]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    ctx = dict(board=board, name=name, NAME=name.upper(),
               inputs=[dict(index=i) for i in range(len(report["inputs"]))],
               outputs=[dict(index=i) for i in range(len(report["outputs"]))],
               stateful=bool(report.get("state")))  # --stateful: the samples are windows in turn, from zero
    work = Path(work)
    (work / "harness.c").write_text(env.get_template("harness/harness.c.j2").render(ctx))
    (work / "link.ld").write_text(env.get_template("harness/link.ld.j2").render(ctx))
    return work / "harness.c", work / "link.ld"


def link_harness(project, report, board, work, per_layer=False):
    """The model with the emulated-run harness, linked for the board's memory map; returns the ELF path.
    per_layer: the model calls the harness's layer marker after every kernel."""
    require_toolchain(board)
    harness, script = write_harness(report, board, work)
    work = Path(work)
    elf = work / f"{report['name']}.elf"
    model_obj = compile_model(project, report["name"], board, work, per_layer)
    cc = tool(board, "gcc")
    _run([cc, *cflags(board), *HARNESS_FLAGS, "-I", str(project), "-c", str(harness), "-o", str(work / "harness.o")],
         board=board)
    _run([cc, *board.cflags, str(model_obj), str(work / "harness.o"), *link_flags(board), "-T", str(script), "-o",
          str(elf), "-lm"], board=board)
    return elf


def symbols(elf, board):
    out = {}
    for line in _run([tool(board, "nm"), str(elf)]).splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[2]] = int(parts[0], 16)
    return out


def float_helpers(elf, board):
    return sorted(s for s in symbols(elf, board) if FLOAT_HELPER.match(s))


def plugin_path():
    """The instruction-counting plugin, built from our C source at first use (cached by source hash)."""
    source = PLUGIN_SOURCE.read_bytes()
    cache = Path(tempfile.gettempdir()) / "mcu-codegen"
    lib = cache / f"count_insns_{hashlib.sha256(source).hexdigest()[:12]}.so"
    if not lib.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = lib.with_suffix(".tmp.so")
        _run(["gcc", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", str(PLUGIN_SOURCE), "-o", str(tmp)])
        tmp.replace(lib)
    return lib


def run_qemu(elf, board, input_bytes, count=False, timeout=600, per_layer=False):
    """Runs the harness ELF in QEMU on the concatenated input bytes; returns (output bytes, counts or None),
    and with per_layer (an ELF linked per_layer) also each inference's running count after every layer."""
    qemu = toolchain(board).qemu
    if shutil.which(qemu) is None:
        raise ConversionError(f"{qemu} not found: install {'qemu-system-misc' if board.arch == 'riscv' else qemu}")
    work = Path(tempfile.mkdtemp(prefix="mcu_codegen_qemu_"))
    try:
        (work / "input.bin").write_bytes(input_bytes)
        cmd = [qemu, "-M", board.qemu_machine, *toolchain(board).qemu_args, "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
        if count:
            sym = symbols(elf, board)
            marks = f",layer={sym['mcu_count_layer']:#x},layers={work / 'layers.txt'}" if per_layer else ""
            cmd += ["-plugin", f"{plugin_path()},start={sym['mcu_count_start']:#x},stop={sym['mcu_count_stop']:#x},"
                               f"out={work / 'counts.txt'}{marks}"]
        r = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError(f"QEMU run on {board.qemu_machine} exited with {r.returncode}: {r.stderr.strip()}")
        counts = [int(x) for x in (work / "counts.txt").read_text().split()] if count else None
        if per_layer:
            marks = [[int(x) for x in line.split()] for line in (work / "layers.txt").read_text().splitlines()]
            return (work / "output.bin").read_bytes(), counts, marks
        return (work / "output.bin").read_bytes(), counts
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_on_board(project, report, board, feeds, count=False, per_layer=False):
    """feeds: {input name: (N, *shape) array of the I/O dtype} -> ({output name: array}, counts); per_layer:
    also [(node index, instructions of each inference)] for every kernel call (counted in a build with the
    layer hook, whose marker calls add a few instructions per layer)."""
    work = Path(tempfile.mkdtemp(prefix="mcu_codegen_cross_"))
    try:
        return run_elf(link_harness(project, report, board, work, per_layer), report, board, feeds, count, per_layer)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_elf(elf, report, board, feeds, count=False, per_layer=False):
    """Runs a harness ELF (however it was built) on the feeds; returns ({output name: (N, *shape) array}, counts)
    and with per_layer (an ELF linked per_layer) the per-layer counts (_layer_counts)."""
    from .build import NP_TYPES
    n = next(iter(feeds.values())).shape[0]
    blob = b"".join(np.ascontiguousarray(feeds[m["name"]][s]).tobytes() for s in range(n) for m in report["inputs"])
    raw, counts, *marks = run_qemu(elf, board, blob, count or per_layer, per_layer=per_layer)
    per_sample = [int(np.prod(o["shape"])) * np.dtype(NP_TYPES[o["dtype"]]).itemsize for o in report["outputs"]]
    if len(raw) != n * sum(per_sample):
        raise RuntimeError(f"QEMU run wrote {len(raw)} output bytes, expected {n * sum(per_sample)}")
    outs, pos = {o["name"]: [] for o in report["outputs"]}, 0
    for _ in range(n):
        for o, b in zip(report["outputs"], per_sample):
            outs[o["name"]].append(np.frombuffer(raw[pos:pos + b], NP_TYPES[o["dtype"]]).reshape(o["shape"]))
            pos += b
    outs = {k: np.stack(v) for k, v in outs.items()}
    return (outs, counts, _layer_counts(report, marks[0])) if per_layer else (outs, counts)


def _layer_counts(report, marks):
    """Running counts at each layer mark -> [(node index, [instructions per inference])]: the kernels called
    (aliases call nothing), in order; the first also carries the invoke's entry."""
    nodes = [i for i, n in enumerate(report["nodes"]) if not n["alias"]]
    return [(node, [m[k] - (m[k - 1] if k else 0) for m in marks]) for k, node in enumerate(nodes)]
