"""`mcu-codegen starter`: a minimal application around a converted model that runs it on test vectors and
prints PASS or FAIL; and the C header of those vectors (inputs, and the outputs the reference computes for them).

For an emulated board it is a whole firmware: main.c, port.c, the start-up code and linker script of the
emulated-run harness (templates/harness), CMakeLists.txt and a toolchain file, run by QEMU. For any other board
it is the part that does not depend on the vendor's start-up code: main.c, port.c (stdio) and the vectors."""
import os
import shlex
from pathlib import Path

import jinja2
import numpy as np

from . import __version__, output
from .api import batch_inputs, load_graph, run_reference
from .emit import C_TYPES, TEMPLATES, c_array_lines
from .ir import ConversionError
from .reference import NP_TYPES

DEFAULT_VECTORS = 8
MAX_VECTORS = 1000
# float32 outputs of a float32 model: the C sums in the reference's order, but a compiler may still round
# differently (contraction, libm's expf); one part in 10^4 of the output's largest magnitude
FLOAT_TOLERANCE = 1e-4


def qemu_command(board, elf):
    """The QEMU command line that runs an emulated board's starter: its text on standard output (QEMU writes
    semihosting's console to stderr unless given a character device), its exit status main()'s return value."""
    from .target import toolchain
    tools = toolchain(board)
    return [tools.qemu, "-M", board.qemu_machine, *tools.qemu_args, "-nographic", "-monitor", "none", "-serial", "none",
            "-chardev", "stdio,id=console", "-semihosting-config", "enable=on,target=native,chardev=console",
            "-kernel", elf]


def commands(board, name):
    """What builds and runs an emulated board's starter, in its folder (its CMakeLists.txt and `starter` say it)."""
    return [f"cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE={toolchain_file(board)}", "cmake --build build",
            shlex.join(qemu_command(board, f"build/{name}_starter.elf"))]


def toolchain_file(board):
    from .target import toolchain
    return toolchain(board).prefix.rstrip("-") + ".cmake"


def project_report(project):
    """report.json of a folder `convert` wrote, checked to hold what the starter needs."""
    import json
    project = Path(project)
    if not project.is_dir():
        raise ConversionError(f"{project}: no such model folder (the -o folder of mcu-codegen convert)")
    for needed in ("report.json", "reference.npz"):
        if not (project / needed).is_file():
            raise ConversionError(f"{project}: not a folder written by mcu-codegen convert (no {needed})")
    try:
        report = json.loads((project / "report.json").read_text())
        if "model_hash" not in report:
            raise ConversionError(f"{project}: written by an older mcu-codegen (no model hash); convert it again")
        if not (project / f"{report['name']}.h").is_file():
            raise ConversionError(f"{project}: has no {report['name']}.h; convert the model again")
    except (ValueError, KeyError, TypeError):
        raise ConversionError(f"{project}/report.json: not a report written by mcu-codegen convert") from None
    return report


def generated_inputs(report, n, seed=0):
    """n inputs per model input, in its I/O type: the first all lowest, the second all highest values of the type
    (or of the quantized range a float input maps to), the rest uniformly random over it (seeded: the same files
    every time). Float inputs of a quantized model lie on its quantization grid (no ties to round)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for m in report["inputs"]:
        shape = (n,) + tuple(m["shape"])
        if m["dtype"] != "float32":
            info = np.iinfo(NP_TYPES[m["dtype"]])
            x = rng.integers(info.min, info.max + 1, shape)
            x[:1], x[1:2] = info.min, info.max
            feeds[m["name"]] = x.astype(NP_TYPES[m["dtype"]])
        elif "quantized_as" in m:
            q = m["quantized_as"]
            info = np.iinfo(NP_TYPES[q["dtype"]])
            steps = rng.integers(info.min, info.max + 1, shape)
            steps[:1], steps[1:2] = info.min, info.max
            feeds[m["name"]] = ((steps - q["zero_point"]) * np.float32(q["scale"])).astype(np.float32)
        else:
            feeds[m["name"]] = rng.normal(0.0, 1.0, shape).astype(np.float32)
    return feeds


def vector_files(project, report, board, inputs=None, n=DEFAULT_VECTORS, seed=0):
    """(main.c, port.c and <name>_test_vectors.h, the number of vectors); inputs: {input name: array} (N of them
    stacked, or one), or None for n generated ones. The expected outputs come from the model folder's reference.npz."""
    name = report["name"]
    origin = "given with --input"
    if inputs is None:
        if not 1 <= n <= MAX_VECTORS:
            raise ConversionError(f"--vectors {n}: give 1 to {MAX_VECTORS} test vectors")
        inputs, origin = generated_inputs(report, n, seed), f"generated, seed {seed}: all lowest, all highest, then random"
    feeds, _ = batch_inputs(report["inputs"], inputs)
    n = next(iter(feeds.values())).shape[0]
    if n > MAX_VECTORS:
        raise ConversionError(f"--input holds {n} samples; the starter takes at most {MAX_VECTORS}")
    expected = run_reference(load_graph(Path(project) / "reference.npz"), report, feeds)
    arrays, outputs = [], []
    for kind, metas, values in (("input", report["inputs"], feeds), ("output", report["outputs"], expected)):
        for k, m in enumerate(metas):
            v = np.asarray(values[m["name"]]).reshape(n, -1)
            arrays.append(dict(kind=kind, index=k, ctype=C_TYPES[m["dtype"]], vectors=[c_array_lines(r) for r in v],
                               comment=f"{kind} {k}: {m['dtype']} {'x'.join(map(str, m['shape']))}"))
            if kind == "output":
                exact = m["dtype"] != "float32" or "quantized_as" in m  # a dequantized output: one exact multiply
                outputs.append(dict(index=k, ctype=C_TYPES[m["dtype"]], exact=exact, tolerance=c_array_lines(
                    [FLOAT_TOLERANCE * max(1.0, float(np.max(np.abs(v))))])[0]))
    exact = all(t["exact"] for t in outputs)
    how = ("bit for bit" if exact else
           f"float32 outputs within {FLOAT_TOLERANCE:g} of their largest magnitude (at least 1), integers bit for bit")
    ctx = dict(name=name, NAME=name.upper(), version=__version__, board=board, vectors=n, origin=origin, how=how,
               model_id=f"0x{report['model_hash'][:8]}u",
               verdict="bit-exact" if exact else "within the tolerance", arrays=arrays, outputs=outputs,
               inputs=[dict(index=k) for k in range(len(report["inputs"]))],
               stateful=bool(report.get("state")))  # the vectors run in turn from zero, as run_reference ran them
    env = _environment()
    port = "port_semihost.c.j2" if board is not None and board.qemu_machine else "port_stdio.c.j2"
    return {"main.c": env.get_template("starter/main.c.j2").render(ctx),
            "port.c": env.get_template(f"starter/{port}").render(ctx),
            f"{name}_test_vectors.h": env.get_template("starter/test_vectors.h.j2").render(ctx)}, n


def vector_bytes(report, n):
    """The flash the test vectors take: n inputs and n expected outputs."""
    return n * sum(int(np.prod(m["shape"])) * np.dtype(NP_TYPES[m["dtype"]]).itemsize
                   for m in report["inputs"] + report["outputs"])


def emulated_files(report, board, model_dir):
    """startup.c and link.ld (the emulated-run harness's), CMakeLists.txt and the toolchain file."""
    from .target import SECTIONS, cflags, link_flags, tool, toolchain
    env = _environment()
    ctx = dict(name=report["name"], NAME=report["name"].upper(), version=__version__, board=board,
               model_dir=model_dir, commands=commands(board, report["name"]),
               # CMake links with the C flags too: each spec once
               link_flags=" ".join(f for f in link_flags(board) if f not in cflags(board)),
               cflags=" ".join([*cflags(board), *SECTIONS]), ldflags=" ".join(board.cflags), cc=tool(board, "gcc"),
               toolchain=toolchain(board))
    return {"startup.c": env.get_template("harness/startup.c.j2").render(ctx),
            "link.ld": env.get_template("harness/link.ld.j2").render(ctx),
            "CMakeLists.txt": env.get_template("starter/CMakeLists.txt.j2").render(ctx),
            toolchain_file(board): env.get_template("starter/toolchain.cmake.j2").render(ctx)}


def _environment():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def write(project, board, app, inputs=None, n=DEFAULT_VECTORS, seed=0, force=False, input_files=()):
    """Writes the starter folder app (whole or not at all, never over files mcu-codegen did not write, as
    convert's -o); returns (its path, the files written, the number of test vectors)."""
    report = project_report(project)
    project_real, app_real = Path(os.path.realpath(project)), Path(os.path.realpath(app))
    if app_real == project_real or project_real in app_real.parents:
        raise ConversionError(f"{app}: is inside the model folder {project}, which must hold only what convert "
                              "wrote; write the starter beside it")
    files, n = vector_files(project, report, board, inputs, n, seed)
    if board.qemu_machine:
        files.update(emulated_files(report, board, Path(os.path.relpath(project_real, app_real)).as_posix()))
    reads = [project_real / "report.json", project_real / "reference.npz", *input_files]
    return output.write(files, app, force, inputs=reads), files, n
