"""The one source of truth for integer rounding (TFLite / TFLM / gemmlowp semantics).

Every function works on NumPy int64 arrays holding int32 values, element-wise, and mirrors a
`static inline` helper of runtime_c/include/mcu_fixedpoint.h of the same name.
"""
import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x):
    """Float -> nearest integer, ties away from zero (TfLiteRound / C round()); np.round ties to even."""
    x = np.asarray(x, dtype=np.float64)
    t = np.trunc(x)
    # x - t is exact in binary floating point, so the tie test is too (no `+ 0.5` rounding error)
    return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t)


def quantize_multiplier(real):
    """A real multiplier -> (int32 multiplier in [2^30, 2^31), shift) with real ~= m * 2^(shift-31)."""
    real = float(real)
    if not math.isfinite(real) or real < 0:
        from .ir import ConversionError  # a file's scales can be anything: say so instead of failing inside
        raise ConversionError(f"a ratio of scales is {real}, not a finite non-negative number")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(round_half_away(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:  # too small to represent: TFLite flushes to zero
        return 0, 0
    return q_fixed, shift


def _i64(x):
    return np.asarray(x, dtype=np.int64)


def saturate_int32(x):
    return np.clip(_i64(x), INT32_MIN, INT32_MAX)


def saturating_left_shift(x, shift):
    """x * 2^shift for shift >= 0, saturated to int32 (TFLM's plain `x * (1 << s)` could overflow)."""
    return saturate_int32(_i64(x) << _i64(shift))


def sat_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul: a*b / 2^31 to nearest, ties toward +infinity (its nudge
    is 2^30 for a positive product, 1 - 2^30 for a negative one); the one overflow case saturates."""
    a, b = _i64(a), _i64(b)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    high = np.where(s >= 0, s >> 31, -((-s) >> 31))  # C division truncates toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x, exponent = _i64(x), _i64(exponent)
    mask = (_i64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLM's default requantization ("double rounding"): a rounding high-mul, then a rounding shift."""
    shift = _i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(sat_rounding_doubling_high_mul(saturating_left_shift(x, left), multiplier), right)


def saturating_rounding_multiply_by_pot(x, exponent):
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent> for a compile-time exponent of either sign."""
    if exponent > 0:
        return saturating_left_shift(x, exponent)
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    return _i64(x)


# gemmlowp fixed-point exp and reciprocal, as used by TFLite's int8 softmax. A FixedPoint<int32, I> value is
# its raw int32 with 31 - I fractional bits; products go through sat_rounding_doubling_high_mul.

def _exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """exp(a) for a in [-1/4, 0), a and the result with 0 integer bits."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = a + (1 << 28)  # a + 1/8
    x2 = sat_rounding_doubling_high_mul(x, x)
    x3 = sat_rounding_doubling_high_mul(x2, x)
    x4 = sat_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(
        sat_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, -1)
    return constant_term + sat_rounding_doubling_high_mul(constant_term, x + poly)


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits):
    """exp(a) for a <= 0 given with `integer_bits` integer bits; the result has 0 integer bits."""
    a = _i64(a)
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits))
    remainder = a_mod_quarter_minus_one_quarter - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = (remainder & (1 << (fractional_bits + exponent))) != 0
            result = np.where(bit, sat_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _one_over_half_denominator(a):
    """2 / (1 + a) for a in [0, 1) (a with 0 integer bits) with 2 integer bits: gemmlowp's Newton-Raphson
    division shared by one_over_one_plus_x_for_x_in_0_1 and one_minus_x_over_one_plus_x_for_x_in_0_1."""
    a = _i64(a)
    s = a + INT32_MAX  # gemmlowp RoundingHalfSum(a, One)
    half_denominator = np.where(s >= 0, (s + 1) >> 1, -((-(s - 1)) >> 1))
    x = 1515870810 + sat_rounding_doubling_high_mul(half_denominator, -1010580540)  # 48/17 - 32/17 d, 2 int bits
    for _ in range(3):
        half_denominator_times_x = sat_rounding_doubling_high_mul(half_denominator, x)
        one_minus = (1 << 29) - half_denominator_times_x
        x = x + saturating_rounding_multiply_by_pot(sat_rounding_doubling_high_mul(x, one_minus), 2)
    return x


def one_over_one_plus_x_for_x_in_0_1(a):
    """1 / (1 + a) for a in [0, 1), a with 0 integer bits; the result with 0 integer bits (Newton-Raphson)."""
    return saturating_rounding_multiply_by_pot(_one_over_half_denominator(a), 1)  # ExactMulByPot<-1>, Rescale<0>


def one_minus_x_over_one_plus_x_for_x_in_0_1(a):
    """(1 - a) / (1 + a) for a in [0, 1), 0 integer bits in and out: 2 / (1 + a) - 1, rescaled."""
    return saturating_rounding_multiply_by_pot(_one_over_half_denominator(a) - (1 << 29), 2)


def logistic_q4(a):
    """gemmlowp logistic of a FixedPoint<int32, 4> raw value: 1 / (1 + e^-a) with 0 integer bits (TFLite's
    int8 LOGISTIC): computed on |a|, the negative side as One - result, exactly one half at 0."""
    a = _i64(a)
    positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), 4))
    return np.where(a == 0, 1 << 30, np.where(a > 0, positive, INT32_MAX - positive))


def tanh_q4(a):
    """gemmlowp tanh of a FixedPoint<int32, 4> raw value, 0 integer bits out (TFLite's int8 TANH):
    (1 - e^(-2|a|)) / (1 + e^(-2|a|)) with the sign of a; e^(2n) is exp_on_negative_values of n's raw value
    read with 5 integer bits (ExactMulByPot<1>)."""
    a = _i64(a)
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(-np.abs(a), 5))
    return np.where(a == 0, 0, np.where(a < 0, -t, t))


def count_leading_zeros_u32(x):
    x = _i64(x) & 0xFFFFFFFF
    bit_length = sum((x >> k) != 0 for k in range(32))
    return 32 - np.asarray(bit_length, dtype=np.int64)


# -- 16x8 (int16 activations): TFLite's int64 requantization and int16 lookup tables ----------------------

def multiply_by_quantized_multiplier_s64(x, multiplier, shift):
    """TFLite's requantization of an int64 accumulator (16x8 kernels): the multiplier rounded to 16 bits
    (to nearest, ties up; 0x7FFF at the top), then one rounding shift, ties toward +infinity. For |x| < 2^47,
    which prepare() guarantees. TFLite allows shift <= 7; the formula holds up to 14; from 15 on it is an exact
    left shift of x clamped to +-2^31 (beyond which any int16 output saturates). Not truncated to int32: the
    kernels clamp the result as it is."""
    x, m, shift = _i64(x), _i64(multiplier), _i64(shift)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total_shift = np.maximum(15 - shift, 1)
    rounded = (x * reduced + (_i64(1) << (total_shift - 1))) >> total_shift
    widened = np.clip(x, -INT32_MAX, INT32_MAX) * reduced * (_i64(1) << np.maximum(shift - 15, 0))
    return np.where(shift < 15, rounded, widened)


LUT_STEPS = 512  # an int16 lookup table: 512 intervals over the input range, 513 values


def lut_int16(func, input_min, input_max, output_min, output_max):
    """TFLite's gen_lut for int16 in and out, in float32 as TFLM computes it: 513 values of func over
    [input_min, input_max] on the int16 grid of [output_min, output_max]; each entry is nudged by half the
    interpolation error at its interval's midpoint, so that linear interpolation between entries is centred on
    func. func takes and returns np.float32. Every step rounds to float32, as the C++ float template does."""
    f = np.float32
    lo, hi = f(input_min), f(input_max)
    step = (hi - lo) / f(LUT_STEPS)
    half_step = step / f(2)
    out_scale = f(65536) / (f(output_max) - f(output_min))
    rnd = lambda v: f(round_half_away(v))  # noqa: E731  TfLiteRound on a float
    lut = []
    for i in range(LUT_STEPS):
        val = func(lo + f(i) * step)
        val_midpoint = func(lo + f(i) * step + half_step)
        val_next = func(lo + f(i + 1) * step)
        sample = rnd(val * out_scale)
        midpoint_interp = rnd((val_next * out_scale + rnd(val * out_scale)) / f(2))
        midpoint_err = midpoint_interp - rnd(val_midpoint * out_scale)
        lut.append(min(max(sample - rnd(midpoint_err / f(2)), -32768.0), 32767.0))
    lut.append(min(max(rnd(func(hi) * out_scale), -32768.0), 32767.0))
    return np.array(lut, dtype=np.int16)


def exp_f32(v):
    """expf, correctly rounded (the double exp rounded once to float32)."""
    return np.float32(math.exp(float(v)))


def one_over_one_plus_x_f32(v):
    return np.float32(1) / (np.float32(1) + v)


def lut_lookup_int16(value, lut):
    """Linear interpolation in a 513-entry table for an int16 value: entry 256 + value / 128, then 7 bits
    of the value's remainder times the slope, rounded (ties up)."""
    value = _i64(value)
    index = 256 + (value >> 7)
    offset = value & 0x7F
    lut = _i64(lut)
    base = lut[index]
    slope = lut[index + 1] - base
    return base + ((slope * offset + 64) >> 7)
