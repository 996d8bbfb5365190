import numpy as np
import pytest
from helpers import (c_equals_int_ref, c_float_within_rounding, dequantize, portable_forms, qtensor, quantize_like,
                     rand_int8, rand_int16, run_single_node, stensor)

from mcu_codegen.ops import add

SCALES = [(0.05, 0.05, 0.1), (0.02, 0.3, 0.25), (1.0, 0.001, 0.9), (0.1, 0.1, 0.001)]  # (a, b, out)


def test_float_ref_matches_onnxruntime():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (2, 1, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(add.float_ref({}, a[None], b[None])[0], run_single_node("Add", [a, b]), rtol=1e-6)


@pytest.mark.parametrize("scales", SCALES)
@pytest.mark.parametrize("zps", [(-128, 127, 0), (0, 0, -128), (127, -128, 127), (3, -9, 20)])
def test_c_equals_int_ref(run_kernel, scales, zps):
    rng = np.random.default_rng(1)
    shape = (1, 5, 7, 6)
    x1, x2, out = (qtensor(shape, s, z) for s, z in zip(scales, zps))
    p = add.prepare({"act": (0.0, np.inf) if zps[2] == -128 else None}, [x1, x2], out)
    a, b = rand_int8(rng, shape), rand_int8(rng, shape)
    a.flat[:2], b.flat[:2] = (-128, 127), (127, -128)
    for function in portable_forms(add, p):
        c_equals_int_ref(run_kernel, add, p, [a, b], out, function)


@pytest.mark.parametrize("scales", SCALES[:3])
def test_int_ref_close_to_float_ref(scales):
    rng = np.random.default_rng(2)
    shape = (1, 64)
    x1, x2, out = (qtensor(shape, s, 0) for s in scales)
    q1 = quantize_like(rng.normal(0, 1, shape) * 100 * scales[0], x1)
    q2 = quantize_like(rng.normal(0, 1, shape) * 100 * scales[1], x2)
    want = np.clip(dequantize(q1, x1) + dequantize(q2, x2), -128 * out.scale, 127 * out.scale)
    got = dequantize(add.int_ref(add.prepare({}, [x1, x2], out), q1[None], q2[None])[0], out)
    assert np.abs(got - want).max() / out.scale <= 1.0


@pytest.mark.parametrize("scales", SCALES)
def test_c_equals_int_ref_16x8(run_kernel, scales):
    rng = np.random.default_rng(3)
    shape = (1, 5, 7, 6)
    x1, x2, out = (stensor(shape, s / 256) for s in scales)
    p = add.prepare({"act": (0.0, np.inf)}, [x1, x2], out)
    assert p["left_shift"] == 15
    a, b = rand_int16(rng, shape), rand_int16(rng, shape)
    a.flat[:2], b.flat[:2] = (-32768, 32767), (-32768, 32767)
    c_equals_int_ref(run_kernel, add, p, [a, b], out)
    c_equals_int_ref(run_kernel, add, add.prepare({}, [x1, x2], out), [a, b], out)


def test_int_ref_16x8_within_one_step_of_float():
    rng = np.random.default_rng(4)
    shape = (1, 256)
    x1, x2, out = stensor(shape, 1e-4), stensor(shape, 3e-4), stensor(shape, 4e-4)
    q1, q2 = rand_int16(rng, shape) // 4, rand_int16(rng, shape) // 4
    want = q1 * 1e-4 + q2 * 3e-4
    got = add.int_ref(add.prepare({}, [x1, x2], out), q1[None], q2[None])[0] * 4e-4
    assert np.abs(got - want).max() / 4e-4 <= 1.0


def test_c_float32_within_rounding(run_kernel):
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, (2, 1, 4, 4, 3)).astype(np.float32)
    c_float_within_rounding(run_kernel, add, {"act": (0.0, 6.0)}, [a, b], 1)


# -- broadcasting (and TFLM on one-operator int8 files: tests/binary.py) ----------------------------------------
import binary  # noqa: E402


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_broadcast_float_ref_matches_onnxruntime(shapes):
    binary.check_float_ref_matches_onnxruntime(add, "Add", shapes)


@pytest.mark.parametrize("zps", binary.ZPS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_broadcast_c_equals_int_ref(run_kernel, shapes, zps):
    binary.check_c_equals_int_ref(run_kernel, add, shapes, zps, (0.0, np.inf) if zps[2] == -128 else None)


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_broadcast_c_float32_within_rounding(run_kernel, shapes):
    binary.check_c_float32_within_rounding(run_kernel, add, shapes)


@pytest.mark.parametrize("act", [None, (0.0, np.inf)])
@pytest.mark.parametrize("quants", binary.TFLM_QUANTS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_int8_equals_tflm(run_kernel, shapes, quants, act):
    size = binary.check_int8_equals_tflm(run_kernel, add, "add", shapes, quants, act,
                                         through_tool=shapes == binary.BROADCASTS[1])
    print(f"ADD {shapes} {quants} act {act}: {size} outputs equal to TFLM")


@pytest.mark.parametrize("scales", [(1e-3, 1e-3, 2e-3), (3e-4, 2e-3, 1e-3)])
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_16x8_equals_tflm(run_kernel, shapes, scales):
    size = binary.check_int16_equals_tflm(run_kernel, add, "add", shapes, scales)
    print(f"ADD 16x8 {shapes} {scales}: {size} outputs equal to TFLM")



ADD_PROBE = """#include <stdint.h>
#include "model.h"
#include "runtime/mcu_nn.h"
#include "runtime/mcu_simd.h"
%(kernel)s
/* the arena's first 2 * %(n)d bytes: the two inputs; the outputs at the probe's output words */
int model_invoke(void *arena)
{
    static const mcu_add_params_t p = {%(params)s};
    const int8_t *in = arena;
    mcu_add_mve_s8(&p, in, in + %(n)d, (int8_t *)((int32_t *)arena + IN_WORDS * PROBES));
    return 0;
}
"""

# (input scales, output scale, zero points, subtract): input shifts 0 (the larger scale) and -1 to -3 (the short
# form's fixup 0 and 1); equal input scales and an output of their sum's scale (a result of (x1 +- x2) / 2: ties
# at every odd sum, of both signs); an output multiplier above 1 (shift > 0: the exact form; such outputs
# saturate but where both inputs sit at their zero points); zero points at the extremes
HELIUM_ADD_CASES = [((0.02, 0.05), 0.06, (-128, 127, 0), 0), ((0.05, 0.05), 0.1, (0, 0, 0), 1),
                    ((0.05, 0.05), 0.1, (-128, 127, -1), 0), ((0.05, 0.05), 0.1, (0, 0, -128), 1),
                    ((0.011, 0.09), 0.03, (127, -128, 127), 0), ((0.3, 0.2), 0.3 * 2.0 ** -19, (5, -9, 3), 1),
                    ((0.05, 0.013), 0.05 * 2.0 ** -20, (-128, 127, -128), 0)]


@pytest.mark.slow
@pytest.mark.parametrize("scales, out_scale, zps, subtract", HELIUM_ADD_CASES)
def test_helium_form_equals_int_ref_on_the_m55(tmp_path, scales, out_scale, zps, subtract):
    """mcu_add_mve_s8 run in QEMU on the Cortex-M55 equals the twin over 127 elements (not a multiple of 4: a
    predicated rest), the edge values included: its short requantizations where every shift is <= 0, the exact
    form where the output's multiplier is above 1 (shift > 0)."""
    from mcu_codegen import emit
    from test_fixedpoint import run_probe
    n, rng = 127, np.random.default_rng(11)
    a, b = qtensor((n,), scales[0], zps[0]), qtensor((n,), scales[1], zps[1])
    p = dict(add.prepare({"act": None}, [a, b], qtensor((n,), out_scale, zps[2])), subtract=subtract)
    assert (p["output_shift"] > 0) == (out_scale < 1e-4) and max(p["input1_shift"], p["input2_shift"]) == 0
    x = rand_int8(rng, (2, n))
    beside = zps[1] - 1 if zps[1] > -128 else zps[1] + 1
    x[0, :6], x[1, :6] = [-128, 127, -128, 127, zps[0], zps[0]], [-128, -128, 127, 127, zps[1], beside]
    params = ", ".join(f".{k} = {int(v)}" for k, v in sorted(p.items()) if np.ndim(v) == 0)
    kernel = (emit.RUNTIME / "src" / "mcu_add_mve_s8.c").read_text().replace('#include "', '#include "runtime/')
    words = np.zeros(64, np.int32)  # four probes of 16 input words: the 254 input bytes
    words.view(np.int8)[:2 * n] = x.reshape(-1)
    got = run_probe(tmp_path, "mps3-an547", ADD_PROBE % dict(kernel=kernel, params=params, n=n),
                    words.reshape(4, 16).T, 8)  # four probes of 8 output words: 128 bytes
    np.testing.assert_array_equal(got.reshape(-1).view(np.int8)[:n], add.int_ref(p, x[0], x[1]).astype(np.int8))
