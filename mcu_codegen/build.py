"""Compile a generated project on the host with gcc and run it through cffi (ABI mode: dlopen)."""
import functools
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import cffi
import numpy as np

from .reference import NP_TYPES

STRICT_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


@functools.lru_cache(maxsize=None)
def host_optimization(cc):
    """The host build's optimization: -O3 for this machine's own vector unit (the library is built and loaded on
    the machine that runs it, never shipped), or -O3 alone where the compiler takes no -march=native. Neither
    changes a result: the integer kernels have no undefined behaviour (the sanitizer tests), and -ffp-contract=off
    keeps any compiler (clang contracts within a statement by default) from fusing a float multiply and add
    where the vector unit has an FMA."""
    probe = subprocess.run([cc, "-march=native", "-x", "c", "-c", "-o", os.devnull, "-"], input="int x;\n",
                           capture_output=True, text=True)
    return ["-O3", "-ffp-contract=off", *(["-march=native"] if probe.returncode == 0 else [])]


def compile_shared(project_dir, name, cc="gcc", extra_flags=(), out_dir=None):
    """project_dir/<name>.c -> a shared library, built with the strict flags; returns its path."""
    project_dir = Path(project_dir)
    source = project_dir / f"{name}.c"
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="mcu_codegen_build_"))
    digest = hashlib.sha256(source.read_bytes() + " ".join(extra_flags).encode()).hexdigest()[:16]
    lib = out_dir / f"lib{name}_{digest}.so"
    cmd = [cc, *STRICT_FLAGS, *host_optimization(cc), "-shared", "-fPIC", *extra_flags, "-I", str(project_dir), str(source),
           "-o", str(lib), "-lm"]  # libm: expf of the float32 softmax
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{cc} failed on {source}:\n{result.stderr}")
    return lib


class HostModel:
    """The generated C, loaded in this process. run() takes and returns NumPy arrays like Model.reference()."""

    def __init__(self, lib_path, report, name):
        self.ffi = cffi.FFI()
        self.ffi.cdef(f"void *{name}_input(void *arena, int index); void *{name}_output(void *arena, int index);"
                      f"int {name}_invoke(void *arena);")
        self.lib = self.ffi.dlopen(str(lib_path))
        self.name, self.report = name, report
        self.arena = self.ffi.new("uint8_t[]", max(1, report["arena_size"]))
        self._input = getattr(self.lib, f"{name}_input")
        self._output = getattr(self.lib, f"{name}_output")
        self._invoke = getattr(self.lib, f"{name}_invoke")
        if report.get("state"):  # --stateful: the state starts at zero, and run() carries it from call to call
            self.ffi.cdef(f"void {name}_reset_state(void *arena);")
            self._reset_state = getattr(self.lib, f"{name}_reset_state")
            self.reset_state()

    def reset_state(self):
        """A stateful model's recurrent state back to zero (<name>_reset_state); nothing to do for any other
        model, whose every invoke starts from zero (as Model.reset_state)."""
        if self.report.get("state"):
            self._reset_state(self.arena)

    @classmethod
    def from_dir(cls, project_dir, cc="gcc", extra_flags=()):
        """Compiled into a scratch folder that is gone once the library is loaded (a loaded library needs no
        file: nothing is left behind in the temp folder, however often a model is run)."""
        report = json.loads((Path(project_dir) / "report.json").read_text())
        with tempfile.TemporaryDirectory(prefix="mcu_codegen_build_") as work:
            return cls(compile_shared(project_dir, report["name"], cc, extra_flags, work), report, report["name"])

    def run(self, inputs):
        from .api import batch_inputs, unbatch
        feeds, batched = batch_inputs(self.report["inputs"], inputs)
        n = next(iter(feeds.values())).shape[0]
        outs = [np.empty((n,) + tuple(o["shape"]), NP_TYPES[o["dtype"]]) for o in self.report["outputs"]]
        for s in range(n):
            for i, meta in enumerate(self.report["inputs"]):
                data = np.ascontiguousarray(feeds[meta["name"]][s])
                self.ffi.memmove(self._input(self.arena, i), data.tobytes(), data.nbytes)
            if self._invoke(self.arena) != 0:
                raise RuntimeError("model_invoke failed")
            for i, out in enumerate(outs):
                buf = self.ffi.buffer(self._output(self.arena, i), out[s].nbytes)
                out[s] = np.frombuffer(buf, dtype=out.dtype).reshape(out.shape[1:])
        return unbatch({o["name"]: a for o, a in zip(self.report["outputs"], outs)}, batched)


def default_cc():
    return os.environ.get("CC", "gcc")
