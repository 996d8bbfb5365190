"""Pyramid level 1: the rounding rules against exact rational arithmetic, and the C helpers against Python."""
from fractions import Fraction

import numpy as np
import pytest

from mcu_codegen import fixedpoint as fp

EDGES = np.array([fp.INT32_MIN, fp.INT32_MIN + 1, -(1 << 30), -65536, -257, -3, -2, -1, 0, 1, 2, 3, 255, 65535,
                  1 << 30, fp.INT32_MAX - 1, fp.INT32_MAX], dtype=np.int64)


def exact_round(fr):
    """Round a Fraction half away from zero."""
    sign = -1 if fr < 0 else 1
    return sign * int(abs(fr) + Fraction(1, 2))


def exact_round_half_up(fr):
    """Round a Fraction to nearest, ties toward +infinity (gemmlowp's high-mul: its nudge is asymmetric)."""
    return (fr + Fraction(1, 2)).__floor__()


def random_int32(rng, n):
    x = rng.integers(fp.INT32_MIN, fp.INT32_MAX, n, endpoint=True)
    small = rng.integers(-70000, 70000, n)
    return np.where(rng.random(n) < 0.5, x, small)


def test_round_half_away_ties_and_near_ties():
    x = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 1e15 + 0.5])
    assert fp.round_half_away(x).tolist() == [1, -1, 2, -2, 3, -3, 0, -0, 1e15 + 1]


def test_srdhm_is_rounded_product():
    rng = np.random.default_rng(1)
    a, b = random_int32(rng, 3000), random_int32(rng, 3000)
    a, b = np.concatenate([a, np.repeat(EDGES, len(EDGES))]), np.concatenate([b, np.tile(EDGES, len(EDGES))])
    got = fp.sat_rounding_doubling_high_mul(a, b)
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        want = fp.INT32_MAX if x == y == fp.INT32_MIN else exact_round_half_up(Fraction(x * y, 1 << 31))
        assert g == want, (x, y)


def test_rounding_divide_by_pot_is_rounded_quotient():
    rng = np.random.default_rng(2)
    x = np.concatenate([random_int32(rng, 3000), np.repeat(EDGES, 32)])
    e = np.concatenate([rng.integers(0, 32, 3000), np.tile(np.arange(32), len(EDGES))])
    got = fp.rounding_divide_by_pot(x, e)
    for xi, ei, g in zip(x.tolist(), e.tolist(), got.tolist()):
        assert g == exact_round(Fraction(xi, 1 << ei)), (xi, ei)


@pytest.mark.parametrize("real", [2.0 ** -31, 3.7e-5, 0.0042, 0.25, 0.5, 0.7071, 0.99999999999, 1.0, 1.5,
                                  123.456, 2.0 ** 20 - 1e-7])
def test_quantize_multiplier_is_nearest(real):
    m, shift = fp.quantize_multiplier(real)
    assert (1 << 30) <= m < (1 << 31)
    # the multiplier is the 31-bit mantissa of real rounded to nearest
    assert abs(Fraction(m) * Fraction(2) ** (shift - 31) - Fraction(real)) <= Fraction(2) ** (shift - 32)


def test_quantize_multiplier_zero_and_tiny():
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(1e-12 * 2.0 ** -20) == (0, 0)  # shift below -31 flushes, as TFLite


def test_multiply_by_quantized_multiplier_is_double_rounding():
    rng = np.random.default_rng(3)
    x = random_int32(rng, 2000) // 4
    m = rng.integers(1 << 30, 1 << 31, 2000)
    s = rng.integers(-31, 8, 2000)
    got = fp.multiply_by_quantized_multiplier(x, m, s)
    for xi, mi, si, g in zip(x.tolist(), m.tolist(), s.tolist(), got.tolist()):
        shifted = max(fp.INT32_MIN, min(fp.INT32_MAX, xi << max(si, 0)))
        high = exact_round_half_up(Fraction(shifted * mi, 1 << 31))
        assert g == exact_round(Fraction(high, 1 << max(-si, 0))), (xi, mi, si)


def test_exp_on_negative_values_is_close_to_exp():
    x = -np.arange(0, 32 << 26, 1 << 19, dtype=np.int64)
    got = fp.exp_on_negative_values(x, 5) / 2.0 ** 31
    assert np.max(np.abs(got - np.exp(x / 2.0 ** 26))) < 2e-6


def test_one_over_one_plus_x_is_close_to_reciprocal():
    a = np.arange(0, 1 << 31, 1 << 20, dtype=np.int64)
    got = fp.one_over_one_plus_x_for_x_in_0_1(a) / 2.0 ** 31
    assert np.max(np.abs(got - 1 / (1 + a / 2.0 ** 31))) < 2e-6


def test_count_leading_zeros():
    x = np.array([0, 1, 2, 3, 255, 1 << 20, (1 << 31) - 1, 1 << 31, (1 << 32) - 1])
    assert fp.count_leading_zeros_u32(x).tolist() == [32, 31, 30, 30, 24, 11, 1, 0, 0]


def _c(runtime, fn, *arrays):
    ffi, lib = runtime
    n = arrays[0].size
    bufs = [ffi.new("int32_t[]", a.astype(np.int32).tolist()) for a in arrays]
    out = ffi.new("int32_t[]", n)
    getattr(lib, fn)(*bufs, out, n)
    return np.frombuffer(ffi.buffer(out, 4 * n), dtype=np.int32).astype(np.int64)


def test_c_helpers_equal_python_on_1e5_values(runtime):
    rng = np.random.default_rng(4)
    n = 100_000
    a, b = random_int32(rng, n), random_int32(rng, n)
    a[: len(EDGES) ** 2] = np.repeat(EDGES, len(EDGES))
    b[: len(EDGES) ** 2] = np.tile(EDGES, len(EDGES))
    np.testing.assert_array_equal(_c(runtime, "t_srdhm", a, b), fp.sat_rounding_doubling_high_mul(a, b))
    e = rng.integers(0, 32, n)
    np.testing.assert_array_equal(_c(runtime, "t_rdbypot", a, e), fp.rounding_divide_by_pot(a, e))
    s = rng.integers(0, 31, n)
    np.testing.assert_array_equal(_c(runtime, "t_sat_lshift", a, s), fp.saturating_left_shift(a, s))
    m = rng.integers(1 << 30, 1 << 31, n)
    s = rng.integers(-31, 31, n)
    np.testing.assert_array_equal(_c(runtime, "t_mbqm", a, m, s), fp.multiply_by_quantized_multiplier(a, m, s))
    # the kernels' faster form: the same integers for every multiplier prepare makes (0 or [2^30, 2^31))
    m[:1000] = 0
    m[1000:2000] = (1 << 31) - 1
    m[2000:3000] = 1 << 30
    s[3000:4000] = -31
    s[4000:5000] = 0
    s[5000:6000] = -1  # the one right shift outside the single-floor form
    s[6000:7000] = -2  # its smallest shift
    a[6000:6500] = np.iinfo(np.int32).max - rng.integers(0, 1 << 20, 500)  # sums near the 64-bit product's top
    a[6500:7000] = np.iinfo(np.int32).min + rng.integers(0, 1 << 20, 500)
    np.testing.assert_array_equal(_c(runtime, "t_requant", a, m, s), fp.multiply_by_quantized_multiplier(a, m, s))


def round_edge_cases():
    """(x, multiplier, shift, zp) at the short requantization's edges: x at -2^30 and 2^30 - 1 (the proof's
    bound) and near them, exact ties of the rounding shift at every exponent (multiplier 2^30: h = x / 2) and
    one off them on both signs, zero points -128 / 0 / 127, exponents from 1 to the largest the constants
    take, multipliers 0, 2^30 and 2^31 - 1 and random ones."""
    rng = np.random.default_rng(11)
    rows = []
    for e in range(1, 32):
        for zp in (-128, 0, 127):
            for m in (0, 1 << 30, fp.INT32_MAX, int(rng.integers(1 << 30, 1 << 31))):
                t = np.arange(-40, 41, dtype=np.int64) << (e + 1)  # h = x / 2 a multiple of 2^e ...
                ties = (t[:, None] + np.array([(1 << e) - 2, 1 << e, (1 << e) + 1, -(1 << e)])).ravel()  # ... + half
                x = np.concatenate([[-(1 << 30), -(1 << 30) + 1, (1 << 30) - 1, (1 << 30) - 2, -1, 0, 1], ties,
                                    rng.integers(-(1 << 30), 1 << 30, 40)])
                x = x[(x >= -(1 << 30)) & (x < 1 << 30)]
                rows.append(np.stack([x, np.full_like(x, m), np.full_like(x, -e), np.full_like(x, zp)]))
    return np.concatenate(rows, axis=1)


def proven_round_cases():
    """round_edge_cases where requant_round_constants accepts the channel over the whole bound |x| <= 2^30:
    (x, multiplier, shift, zp, rounding); it accepts every exponent up to 22 at every zero point (the int32
    rounding constant's limit is beyond)."""
    x, m, s, zp = round_edge_cases()
    keys = {key: fp.requant_round_constants([key[0]], [key[1]], key[2], [-(1 << 30)], [(1 << 30) - 1])
            for key in set(zip(m.tolist(), s.tolist(), zp.tolist()))}
    assert all(keys[k] is not None for k in keys if -k[1] <= 22)
    ok = np.array([keys[k] is not None for k in zip(m.tolist(), s.tolist(), zp.tolist())])
    x, m, s, zp = x[ok], m[ok], s[ok], zp[ok]
    return x, m, s, zp, np.concatenate([keys[key][:, 0] for key in zip(m.tolist(), s.tolist(), zp.tolist())])


def test_requant_round_equals_double_rounding_at_its_edges(runtime):
    """The short requantization (the C through cffi, and its NumPy twin) equals multiply_by_quantized_multiplier
    + zp wherever requant_round_constants accepts a channel."""
    x, m, s, zp, r = proven_round_cases()
    want = fp.multiply_by_quantized_multiplier(x, m, s) + zp
    np.testing.assert_array_equal(fp.requant_round(x, m, r, -s), want)
    np.testing.assert_array_equal(_c(runtime, "t_requant_round", x, m, r, -s), want)


def test_c_high_mul_from_32_bit_products_is_the_rounded_high_word(runtime):
    """mcu_high_mul_s32 (the Armv6-M form of the short requantization's product) is floor((x m + 2^30) / 2^31)
    over its domain: x in [-2^30, 2^30) at the ends and near them, m in [0, 2^31) at 0, 2^30 and 2^31 - 1,
    all 16-bit halves at their extremes (0xFFFF low halves carry); with m 0, any x."""
    rng = np.random.default_rng(12)
    xs = np.concatenate([[-(1 << 30), -(1 << 30) + 1, (1 << 30) - 1, -65536, -65535, -1, 0, 1, 65535, 65536],
                         rng.integers(-(1 << 30), 1 << 30, 3000), rng.integers(-70000, 70000, 1000)])
    ms = np.concatenate([[0, 1, 0xFFFF, 0x10000, 1 << 30, (1 << 30) + 0xFFFF, fp.INT32_MAX, fp.INT32_MAX - 0xFFFF],
                         rng.integers(1 << 30, 1 << 31, 40)])
    x, m = np.repeat(xs, len(ms)), np.tile(ms, len(xs))
    x, m = np.concatenate([x, EDGES]), np.concatenate([m, np.zeros(len(EDGES), np.int64)])
    np.testing.assert_array_equal(_c(runtime, "t_high_mul", x, m), (x * m + (1 << 30)) >> 31)


def test_requant_round_constants_refuse_what_they_cannot_prove():
    """A shift >= 0, an accumulator bound reaching 2^30 and a rounding constant beyond int32 are refused (None:
    the kernels take the exact form)."""
    m = 1 << 30
    assert fp.requant_round_constants([m], [0], 0, [-1000], [1000]) is None
    assert fp.requant_round_constants([m], [2], 0, [-1000], [1000]) is None
    assert fp.requant_round_constants([m], [-7], 0, [-(1 << 30) - 1], [0]) is None
    assert fp.requant_round_constants([m], [-7], 0, [0], [1 << 30]) is None
    assert fp.requant_round_constants([m], [-28], -128, [-(1 << 29)], [1 << 29]) is None
    assert fp.requant_round_constants([m, m], [-7, 0], 0, [0, 0], [5, 5]) is None  # one channel refuses the layer
    # the rounding constant itself beyond int32 although its sums with the high-mul fit (a large positive
    # accumulator, a tiny multiplier): 2^29 + 2^30 * -3 < INT32_MIN
    assert fp.requant_round_constants([(1 << 31) - 1], [-30], -3, [(1 << 29) + (1 << 20) - 1],
                                      [(1 << 29) + (1 << 20) + 1]) is None


def test_constant_results_are_found_exactly():
    """requant_constant_result: the one result of a constant accumulator, 0 for multiplier 0 at any shift and
    for a high-mul that stays below half the rounding divide, None as soon as two results are possible; its
    replacements (0 and -1; bias 4r with 2^30 and -1) give those results."""
    m = 1 << 30
    assert fp.requant_constant_result(1320764593, -27, 1 << 30, 1 << 30) == 5
    assert fp.requant_constant_result(0, 0, fp.INT32_MIN, fp.INT32_MAX) == 0
    assert fp.requant_constant_result(m, -8, -255, 253) == 0  # h = round(x / 2) in [-127, 127]: below 2^7
    assert fp.requant_constant_result(m, -8, -257, 0) is None  # h = -128: a tie, away from zero: -1
    assert fp.requant_constant_result(m, -8, 0, 255) is None  # h = 128: a tie, 1
    assert fp.requant_constant_result(m, 3, 0, 1) is None
    x = EDGES
    np.testing.assert_array_equal(fp.multiply_by_quantized_multiplier(x, 0, -1), np.zeros(len(x)))
    r = np.arange(-384, 384)
    np.testing.assert_array_equal(fp.multiply_by_quantized_multiplier(4 * r, m, -1), r)


def test_c_softmax_helpers_equal_python_on_1e5_values(runtime):
    """gemmlowp's exp, reciprocal and count-leading-zeros as TFLite's int8 softmax uses them."""
    rng = np.random.default_rng(5)
    n = 100_000
    a = -rng.integers(0, 1 << 31, n)  # exp's domain: a <= 0, 5 integer bits
    a[:4] = [0, -1, fp.INT32_MIN + 1, -(1 << 26)]
    np.testing.assert_array_equal(_c(runtime, "t_exp_neg", a), fp.exp_on_negative_values(a, 5))
    x = rng.integers(0, 1 << 31, n)  # the reciprocal's domain: [0, 1) with 0 integer bits
    x[:3] = [0, 1, fp.INT32_MAX]
    np.testing.assert_array_equal(_c(runtime, "t_recip", x), fp.one_over_one_plus_x_for_x_in_0_1(x))
    u = rng.integers(fp.INT32_MIN, fp.INT32_MAX, n, endpoint=True)
    u[:3] = [0, -1, 1]
    np.testing.assert_array_equal(_c(runtime, "t_clz", u), fp.count_leading_zeros_u32(u))


def _s64_domain(rng, shift):
    """Accumulators |x| < 2^47 (what prepare() guarantees), half of them small; the result may exceed int32:
    it stays int64 until the kernel's clamp."""
    x = rng.integers(-(1 << 47), 1 << 47, len(shift))
    return np.where(rng.random(len(shift)) < 0.5, x, x >> 24)


def test_multiply_by_quantized_multiplier_s64_is_one_rounding_of_a_16_bit_multiplier():
    """TFLite's 16x8 requantization: the multiplier rounded to 16 bits, then x * m16 / 2^(15 - shift) rounded to
    nearest with ties toward +infinity, for |x| < 2^47 and shift in [-31, 14] (kept in int64: no truncation);
    from 15 on, an exact left shift of x clamped to +-2^31."""
    rng = np.random.default_rng(6)
    m = rng.integers(1 << 30, 1 << 31, 2000)
    m[:2] = [0x7FFF0000, (1 << 31) - 1]  # the top: 0x7FFF, not 0x8000
    s = rng.integers(-31, 31, 2000)
    s[2:6] = -31
    x = _s64_domain(rng, s)
    x[2:6] = [-(1 << 47), (1 << 47) - 1, 0, -1]
    got = fp.multiply_by_quantized_multiplier_s64(x, m, s)
    for xi, mi, si, g in zip(x.tolist(), m.tolist(), s.tolist(), got.tolist()):
        m16 = 0x7FFF if mi >= 0x7FFF0000 else exact_round_half_up(Fraction(mi, 1 << 16))
        if si < 15:
            assert g == exact_round_half_up(Fraction(xi * m16, 1 << (15 - si))), (xi, mi, si)
        else:  # beyond TFLite's range: what matters is the int16 output, which must be the exact one, saturated
            def int16(v):
                return max(-32768, min(32767, v))
            assert int16(g) == int16(xi * m16 * (1 << (si - 15))), (xi, mi, si)


def test_int16_lookup_tables_interpolate_their_functions():
    """TFLite's gen_lut tables: exp over [-10, 0] and 1 / (1 + x) over [0, 1], on the Q0.15 output grid;
    interpolated lookups stay within a few steps of the function at every int16 input."""
    import math
    v = np.arange(-32768, 32768)
    exp_lut = fp.lut_int16(fp.exp_f32, -10.0, 0.0, -1.0, 1.0)
    recip_lut = fp.lut_int16(fp.one_over_one_plus_x_f32, 0.0, 1.0, -1.0, 1.0)
    assert exp_lut.shape == recip_lut.shape == (513,)
    x = (v + 32768) / 65536.0  # the int16 input mapped onto [0, 1)
    assert np.abs(fp.lut_lookup_int16(v, exp_lut) - np.exp(-10 + 10 * x) * 32768).max() <= 4
    assert np.abs(fp.lut_lookup_int16(v, recip_lut) - 32768 / (1 + x)).max() <= 4


def test_c_int16_helpers_equal_python(runtime):
    import math
    ffi, lib = runtime
    rng = np.random.default_rng(7)
    n = 100_000
    m = rng.integers(1 << 30, 1 << 31, n)
    s = rng.integers(-31, 31, n)
    x = _s64_domain(rng, s)
    out = ffi.new("int64_t[]", n)
    lib.t_mbqm64(ffi.new("int64_t[]", x.tolist()), ffi.new("int32_t[]", m.tolist()), ffi.new("int32_t[]", s.tolist()),
                 out, n)
    got = np.frombuffer(ffi.buffer(out, 8 * n), dtype=np.int64)
    np.testing.assert_array_equal(got, fp.multiply_by_quantized_multiplier_s64(x, m, s))
    v = np.arange(-32768, 32768)
    for lut in (fp.lut_int16(fp.exp_f32, -10.0, 0.0, -1.0, 1.0),
                fp.lut_int16(fp.one_over_one_plus_x_f32, 0.0, 1.0, -1.0, 1.0)):
        out = ffi.new("int32_t[]", v.size)
        lib.t_lut16(ffi.new("int32_t[]", v.tolist()), ffi.new("int16_t[]", lut.tolist()), out, v.size)
        got = np.frombuffer(ffi.buffer(out, 4 * v.size), dtype=np.int32)
        np.testing.assert_array_equal(got, fp.lut_lookup_int16(v, lut))


PROBE_IO = """
void *model_input(void *arena, int i)
{
    (void)i;
    return arena;
}

void *model_output(void *arena, int i)
{
    (void)i;
    return (int32_t *)arena + IN_WORDS * PROBES;
}
"""


def run_probe(tmp_path, board, source, probes, out_words):
    """A probe program (model_invoke reading IN_WORDS int32 per probe, writing out_words) run in QEMU on the
    board: its output words, a row per probe. probes: (IN_WORDS, count), count a multiple of 4."""
    from mcu_codegen import boards, emit, target
    in_words, count = probes.shape
    project = tmp_path / "probe"
    (project / "runtime").mkdir(parents=True)
    for header in emit.RUNTIME_HEADERS:
        (project / "runtime" / header).write_text((emit.RUNTIME / "include" / header).read_text())
    (project / "model.h").write_text(
        f"#define PROBES {count}\n#define IN_WORDS {in_words}\n"
        f"#define MODEL_ARENA_SIZE {4 * (in_words + out_words) * count}\n#define MODEL_NUM_INPUTS 1\n"
        f"#define MODEL_INPUT0_SIZE {4 * in_words * count}\n#define MODEL_INPUT0_TYPE int8_t\n"
        f"#define MODEL_NUM_OUTPUTS 1\n#define MODEL_OUTPUT0_SIZE {4 * out_words * count}\n"
        "#define MODEL_OUTPUT0_TYPE int8_t\n"
        "int model_invoke(void *arena);\nvoid *model_input(void *arena, int i);\nvoid *model_output(void *arena, int i);\n")
    (project / "model.c").write_text(source + PROBE_IO)
    report = {"name": "model", "inputs": [{"name": "x", "shape": [4 * in_words * count], "dtype": "int8"}],
              "outputs": [{"name": "y", "shape": [4 * out_words * count], "dtype": "int8"}]}
    feeds = {"x": probes.T.astype(np.int32).reshape(1, -1).view(np.int8)}
    got = target.run_on_board(project, report, boards.load(board), feeds)[0]["y"]
    return got.view(np.int32).reshape(-1, out_words)


HELIUM_PROBE = """#include <stdint.h>
#include "model.h"
#include "runtime/mcu_simd.h"

/* each (x, multiplier, shift) triple of the input -> mcu_requantize_mve (four triples per vector, one per lane),
 * mcu_requantize_n_mve (the triple's multiplier and shift for all four lanes) and mcu_requant_round_mve */
int model_invoke(void *arena)
{
    const int32_t *in = arena;
    int32_t *out = (int32_t *)arena + IN_WORDS * PROBES;
    for (int32_t i = 0; i < PROBES; i += 4) {
        int32_t x[4], m[4], s[4], v[4], r[4];
        for (int32_t k = 0; k < 4; ++k) {
            x[k] = in[3 * (i + k)];
            m[k] = in[3 * (i + k) + 1];
            s[k] = in[3 * (i + k) + 2];
        }
        vstrwq_s32(v, mcu_requantize_mve(vldrwq_s32(x), vldrwq_s32(m), vldrwq_s32(s)));
        vstrwq_s32(r, mcu_requant_round_mve(vldrwq_s32(x), vldrwq_s32(m), vldrwq_s32(s)));
        for (int32_t k = 0; k < 4; ++k) {
            out[3 * (i + k)] = v[k];
            out[3 * (i + k) + 1] = vgetq_lane_s32(mcu_requantize_n_mve(vdupq_n_s32(x[k]), mcu_requant_n(m[k], s[k])), 0);
            out[3 * (i + k) + 2] = r[k];
        }
    }
    return 0;
}
"""


@pytest.mark.slow
def test_helium_requantization_equals_the_rounding_rules(tmp_path):
    """mcu_simd.h's Helium requantizations (per-lane multipliers and shifts, and one per-tensor pair in scalar
    registers) run on the emulated Cortex-M55 equal multiply_by_quantized_multiplier, the corner cases included:
    int32 extremes, saturating left shifts, ties of the rounding shift on both signs, shift 0 (no fixup); so
    does mcu_requant_round_mve (the short form) wherever the shift is <= -1 (multipliers >= 0: all here)."""
    rng = np.random.default_rng(5)
    mults = np.array([0, 1, 1 << 30, (1 << 30) + 1, fp.INT32_MAX - 1, fp.INT32_MAX], np.int64)
    shifts = np.array([-31, -30, -17, -8, -3, -2, -1, 0, 1, 2, 8, 20, 30, 31], np.int64)
    grid = np.array(np.meshgrid(EDGES, mults, shifts)).reshape(3, -1)
    n = 4000
    rand = np.array([random_int32(rng, n), rng.integers(1 << 30, 1 << 31, n), rng.integers(-31, 12, n)])
    # multiplier one half, small shifts: the high-mul and the shift meet exact halves often
    ties = np.array([rng.integers(-4096, 4096, n), np.full(n, 1 << 30), rng.integers(-4, 1, n)])
    probes = np.concatenate([grid, rand, ties], axis=1)
    probes = probes[:, :probes.shape[1] // 4 * 4]
    got = run_probe(tmp_path, "mps3-an547", HELIUM_PROBE, probes, 3)
    want = fp.multiply_by_quantized_multiplier(*probes)
    np.testing.assert_array_equal(got[:, 0], want)
    np.testing.assert_array_equal(got[:, 1], want)
    short = probes[2] <= -1
    assert short.sum() > 5000
    np.testing.assert_array_equal(got[short, 2], want[short])


ROUND_PROBE = """#include <stdint.h>
#include "model.h"
#include "runtime/mcu_fixedpoint.h"

/* each (x, multiplier, rounding, exponent) of the input -> mcu_requant_round and mcu_sat_s8 of it */
int model_invoke(void *arena)
{
    const int32_t *in = arena;
    int32_t *out = (int32_t *)arena + IN_WORDS * PROBES;
    for (int32_t i = 0; i < PROBES; ++i) {
        out[2 * i] = mcu_requant_round(in[4 * i], in[4 * i + 1], in[4 * i + 2], in[4 * i + 3]);
        out[2 * i + 1] = mcu_sat_s8(out[2 * i]);
    }
    return 0;
}
"""


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an385-m0plus"])
def test_core_short_requantization_equals_double_rounding(tmp_path, board):
    """mcu_requant_round's forms on the cores, run in QEMU: SMMLAR and mcu_sat_s8's SSAT on the Cortex-M4, the
    32-bit products of mcu_high_mul_s32 on the M0+; equal to multiply_by_quantized_multiplier + zp at the edges
    of round_edge_cases (where the constants are proven)."""
    x, m, s, zp, r = proven_round_cases()
    n = len(x) // 4 * 4
    probes = np.stack([x, m, r, -s])[:, :n]
    got = run_probe(tmp_path, board, ROUND_PROBE, probes, 2)
    want = fp.multiply_by_quantized_multiplier(x, m, s)[:n] + zp[:n]
    np.testing.assert_array_equal(got[:, 0], want)
    np.testing.assert_array_equal(got[:, 1], np.clip(want, -128, 127))
