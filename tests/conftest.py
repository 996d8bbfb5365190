"""Shared test fixtures: the C runtime compiled once into a shared library and called through cffi."""
import re
import subprocess
import sys
from pathlib import Path

import cffi
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/helpers.py, tests/mlperf.py

from mcu_codegen import ops  # noqa: E402
from mcu_codegen.build import STRICT_FLAGS  # noqa: E402
from mcu_codegen.emit import RUNTIME  # noqa: E402

# C twins of the fixed-point helpers, looped over arrays, so 1e5 values cost one call
SHIM = r"""
#include "mcu_fixedpoint.h"
#define MCU_SHIM2(name, expr) \
    void t_##name(const int32_t *a, const int32_t *b, int32_t *out, int32_t n) \
    { for (int32_t i = 0; i < n; ++i) { out[i] = (expr); } }
MCU_SHIM2(srdhm, mcu_sat_rounding_doubling_high_mul(a[i], b[i]))
MCU_SHIM2(rdbypot, mcu_rounding_divide_by_pot(a[i], b[i]))
MCU_SHIM2(sat_lshift, mcu_saturating_left_shift(a[i], b[i]))
void t_mbqm(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n)
{ for (int32_t i = 0; i < n; ++i) { out[i] = mcu_multiply_by_quantized_multiplier(x[i], m[i], s[i]); } }
void t_requant(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n)
{ for (int32_t i = 0; i < n; ++i) { out[i] = mcu_requantize(x[i], m[i], s[i]); } }
void t_requant_pieces(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n)
{ for (int32_t i = 0; i < n; ++i) { out[i] = mcu_requantize_pieces(x[i], m[i], -s[i]); } }
#define MCU_SHIM1(name, expr) \
    void t_##name(const int32_t *a, int32_t *out, int32_t n) { for (int32_t i = 0; i < n; ++i) { out[i] = (expr); } }
MCU_SHIM1(exp_neg, mcu_exp_on_negative_values(a[i]))
MCU_SHIM1(recip, mcu_one_over_one_plus_x_for_x_in_0_1(a[i]))
MCU_SHIM1(clz, mcu_count_leading_zeros((uint32_t)a[i]))
void t_mbqm64(const int64_t *x, const int32_t *m, const int32_t *s, int64_t *out, int32_t n)
{ for (int32_t i = 0; i < n; ++i) { out[i] = mcu_multiply_by_quantized_multiplier_s64(x[i], m[i], s[i]); } }
void t_lut16(const int32_t *v, const int16_t *lut, int32_t *out, int32_t n)
{ for (int32_t i = 0; i < n; ++i) { out[i] = mcu_lut_lookup_s16(v[i], lut); } }
#include "mcu_float.h"
void t_half(const uint16_t *h, float *out, int32_t n) { for (int32_t i = 0; i < n; ++i) { out[i] = mcu_half_to_float(h[i]); } }
"""
SHIM_CDEF = """
void t_srdhm(const int32_t *a, const int32_t *b, int32_t *out, int32_t n);
void t_rdbypot(const int32_t *a, const int32_t *b, int32_t *out, int32_t n);
void t_sat_lshift(const int32_t *a, const int32_t *b, int32_t *out, int32_t n);
void t_mbqm(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n);
void t_requant(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n);
void t_requant_pieces(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int32_t n);
void t_exp_neg(const int32_t *a, int32_t *out, int32_t n);
void t_recip(const int32_t *a, int32_t *out, int32_t n);
void t_clz(const int32_t *a, int32_t *out, int32_t n);
void t_mbqm64(const int64_t *x, const int32_t *m, const int32_t *s, int64_t *out, int32_t n);
void t_lut16(const int32_t *v, const int16_t *lut, int32_t *out, int32_t n);
void t_half(const uint16_t *h, float *out, int32_t n);
"""


def runtime_cdef():
    """mcu_nn.h as cffi reads it: no preprocessor lines, no storage-class macro."""
    text = (RUNTIME / "include" / "mcu_nn.h").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return re.sub(r"\bMCU_KERNEL\b", "", text)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory):
    """(ffi, lib): every runtime kernel and the fixed-point shims, compiled with the strict flags."""
    work = tmp_path_factory.mktemp("runtime")
    (work / "shim.c").write_text(SHIM)
    lib_path = work / "libmcu_runtime.so"
    sources = sorted(str(p) for p in (RUNTIME / "src").glob("*.c")) + [str(work / "shim.c")]
    subprocess.run(["gcc", *STRICT_FLAGS, "-O2", "-shared", "-fPIC", "-I", str(RUNTIME / "include"),
                    *sources, "-o", str(lib_path), "-lm"], check=True)
    ffi = cffi.FFI()
    ffi.cdef(runtime_cdef() + SHIM_CDEF)
    return ffi, ffi.dlopen(str(lib_path))


C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.int32): "int32_t", np.dtype(np.uint8): "uint8_t",
           np.dtype(np.float32): "float", np.dtype(np.int16): "int16_t", np.dtype(np.int64): "int64_t",
           np.dtype(np.uint16): "uint16_t"}
IR_TYPES = {np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8", np.dtype(np.int16): "int16",
            np.dtype(np.float32): "float32"}


def c_kernel(mod, in_dtype, out_dtype):
    """(C function, params type) of an op for NumPy input/output element types."""
    return ops.kernel(mod, IR_TYPES[np.dtype(in_dtype)], IR_TYPES[np.dtype(out_dtype)])


def params_struct(ffi, params_type, params):
    """The op's C params struct from prepare()'s dict; returns (struct pointer, buffers to keep alive)."""
    keep, fields = [], {}
    pointers = {name for name, f in ffi.typeof(params_type).fields if f.type.kind == "pointer"}
    for k, v in params.items():
        if k in pointers and not isinstance(v, np.ndarray):  # 0: the float kernels' unused weight format
            fields[k] = ffi.NULL
        elif isinstance(v, np.ndarray):
            keep.append(ffi.new(f"{C_TYPES[v.dtype]}[]", v.ravel().tolist()))
            fields[k] = keep[-1]
        elif isinstance(v, (list, tuple)):
            fields[k] = [int(x) for x in v]
        elif isinstance(v, (float, np.floating)):
            fields[k] = float(v)
        else:
            fields[k] = int(v)
    return ffi.new(f"{params_type} *", fields), keep


@pytest.fixture(scope="session")
def run_kernel(runtime):
    """run_kernel(op_module, params, inputs, out_shape, out_dtype) -> the C kernel's output array."""
    ffi, lib = runtime

    def run(mod, params, inputs, out_shape, out_dtype=np.int8, function=None, kind=None):
        """kind: a KERNELS key other than the activation type (hybrid, float16). A form in the op's SCRATCH table
        gets its scratch buffer, filled with a pattern so that a kernel reading it before writing shows."""
        if kind is None:
            kernel, params_type = c_kernel(mod, np.asarray(inputs[0]).dtype, out_dtype)
        else:
            kernel, params_type = mod.KERNELS[kind]
        function = function or kernel  # another form of the kernel: same params type
        p, keep = params_struct(ffi, params_type, params)
        bufs = []
        for x in inputs:
            x = np.ascontiguousarray(x)
            b = ffi.new(f"{C_TYPES[x.dtype]}[]", max(1, x.size))
            ffi.memmove(b, x.tobytes(), x.nbytes)
            bufs.append(b)
        if getattr(mod, "INPUTS_AS_ARRAY", False):  # keep the arrays alive: the pointer array does not
            keep.append(bufs)
            bufs = [ffi.new(f"{C_TYPES[np.asarray(inputs[0]).dtype]} *[]", bufs)]
        out = np.zeros(out_shape, dtype=out_dtype)
        ob = ffi.new(f"{C_TYPES[out.dtype]}[]", max(1, out.size))
        table = getattr(mod, "SCRATCH", {})
        scratch = [ffi.new("int8_t[]", [0x5A] * max(1, table[function](params)))] if function in table else []
        getattr(lib, function)(p, *bufs, ob, *scratch)
        return np.frombuffer(ffi.buffer(ob, out.nbytes), dtype=out.dtype).reshape(out_shape).copy()

    return run
