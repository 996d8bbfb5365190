"""The one source of truth for integer rounding (TFLite / TFLM / gemmlowp semantics).

Every function works on NumPy int64 arrays holding int32 values, element-wise, and mirrors a
`static inline` helper of runtime_c/include/mcu_fixedpoint.h of the same name.
"""
import math

import numpy as np

from . import stable

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


def requant_round(x, multiplier, rounding, exponent):
    """The kernels' short requantization (the twin of mcu_fixedpoint.h's mcu_requant_round):
        (SMMLAR(2x, multiplier, rounding) + (x >> 31)) >> exponent,  SMMLAR(a, b, c) = (a * b + c * 2^32 + 2^31) >> 32
    which is (h + rounding + (x >> 31)) >> exponent with h = floor((x * multiplier + 2^30) / 2^31). It equals
    multiply_by_quantized_multiplier(x, multiplier, -exponent) + zp wherever requant_round_constants says so (see
    there); elsewhere it is just what the C computes (int64 here, no wrap-around)."""
    x = _i64(x)
    h = (x * _i64(multiplier) + (1 << 30)) >> 31
    return (h + _i64(rounding) + (x >> 31)) >> _i64(exponent)


def requant_round_constants(multiplier, shift, zp, acc_min, acc_max):
    """Per channel (rounding, exponent) of requant_round, exponent = -shift, such that, for every
    accumulator x in [acc_min[c], acc_max[c]] (the generator's proven bound),
        requant_round(x, m, rounding, -s) == multiply_by_quantized_multiplier(x, m, s) + zp,
    or None where a channel cannot be proven (the kernels then take the exact form). Why it is exact:
    for a multiplier m >= 0 and shift s = -e <= -1 the high-mul never saturates and is
    h = floor((x m + 2^30) / 2^31) (ties toward +infinity), and the rounding divide by 2^e (ties away from zero)
    is floor((h + 2^(e-1) - [h < 0]) / 2^e). [h < 0] may be replaced by [x < 0] = -(x >> 31): they differ only
    where h = 0 > x, and floor((2^(e-1) - 1) / 2^e) = 0 = floor(2^(e-1) / 2^e) for e >= 1. The zero point
    enters the floor as zp * 2^e, so rounding = 2^(e-1) + zp * 2^e. SMMLAR(2x, m, rounding) = rounding + h
    exactly (the 2x: the instruction's rounding is to 2^32), which the C computes in int32: it needs
    -2^30 <= x < 2^30 (2x in int32) and rounding + h + (x >> 31) in int32 over the bound, both checked here.
    A shift >= 0 fails (no rounding divide to fold into); requant_constant_result finds the channels that
    can be rewritten into reach."""
    out = []
    zp = int(zp)
    for m, s, lo, hi in zip(np.asarray(multiplier).tolist(), np.asarray(shift).tolist(),
                            np.asarray(acc_min).tolist(), np.asarray(acc_max).tolist()):
        if m < 0 or s > -1 or lo < -(1 << 30) or hi >= 1 << 30:
            return None
        h_lo, h_hi = (lo * m + (1 << 30)) >> 31, (hi * m + (1 << 30)) >> 31  # h is monotone in x (m >= 0)
        rounding = (1 << (-s - 1)) + zp * (1 << -s)
        if not (INT32_MIN <= rounding <= INT32_MAX and INT32_MIN <= rounding + h_lo - 1 and
                rounding + h_hi <= INT32_MAX):
            return None
        out.append((rounding, -s))
    return np.array(out, dtype=np.int32).reshape(-1, 2)


def requant_constant_result(multiplier, shift, acc_min, acc_max):
    """multiply_by_quantized_multiplier's one result over [acc_min, acc_max] where it has one, else None: a
    constant accumulator (a channel of zero weights), multiplier 0, or a high-mul h with |h| < 2^(e-1), which
    the rounding divide by 2^e takes to 0 (h is monotone in x: its ends bound it). Such a channel's multiplier
    and shift (and, where its accumulator is constant, its bias) can be replaced by ones of the same results
    that the short requantization reaches: 0 and -1 give 0 for every x; bias 4r with 2^30 and -1 give r."""
    m, s, lo, hi = int(multiplier), int(shift), int(acc_min), int(acc_max)
    if lo == hi:
        return int(multiply_by_quantized_multiplier(lo, m, s))
    h_lo, h_hi = (lo * m + (1 << 30)) >> 31, (hi * m + (1 << 30)) >> 31
    if m == 0 or (s <= -1 and max(-h_lo, h_hi) < 1 << (-s - 1)):
        return 0
    return None


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


# -- int16 fixed point (gemmlowp's int16 forms: TFLite's int8 HARD_SWISH) ------------------------------------

def saturating_left_shift_s16(x, shift):
    """x * 2^shift for shift >= 0, saturated to int16 (TFLite's hard-swish SaturatingLeftShift)."""
    return np.clip(_i64(x) << _i64(shift), -32768, 32767)


def sat_rounding_doubling_high_mul_s16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int16: a*b / 2^15 to nearest, ties toward +infinity (nudge
    2^14, or 1 - 2^14 for a negative product), -32768^2 saturating to 32767."""
    a, b = _i64(a), _i64(b)
    s = a * b + np.where(a * b >= 0, 1 << 14, 1 - (1 << 14))
    high = np.where(s >= 0, s >> 15, -((-s) >> 15))  # C division truncates toward zero
    return np.where((a == -32768) & (b == -32768), 32767, high)


def saturating_doubling_high_mul_s16(a, b):
    """TFLite's SaturatingDoublingHighMul (SQDMULH): a*b / 2^15 truncated toward zero, -32768^2 -> 32767."""
    a, b = _i64(a), _i64(b)
    ab = a * b
    high = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((a == -32768) & (b == -32768), 32767, high)


def downscale_multiplier_s16(multiplier):
    """TFLite's DownScaleInt32ToInt16Multiplier: a Q31 multiplier >= 0 rounded to Q15 (ties up), 32767 at the top."""
    if multiplier >= INT32_MAX - (1 << 15):
        return 32767
    return (multiplier + (1 << 15)) >> 16


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
    """expf, correctly rounded (the double exp rounded once to float32; stable.exp: the same on every machine)."""
    return np.float32(stable.exp(float(v)))


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


# -- TFLite's int16 LOGISTIC and TANH: one interpolated table of sigmoid on [0, 10.7) -------------------------
# sigmoid(i / 24) in 0.16 fixed point as TFLM tabulates it (its values are TFLM's own, not a rounding of the
# exact sigmoid: read from TFLM's int16 TANH, whose output at an input on a table step is the entry - 32768;
# tests/ops/test_logistic.py reads them again and compares).
SIGMOID_TABLE_U16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
], dtype=np.uint16)


def _table_lerp(a, step_bits):
    """The sigmoid table interpolated at |x| / 2^step_bits (step_bits fractional bits), in 0.(16 + step_bits);
    entries from 255 on are past the table's end (None: the caller saturates)."""
    t = SIGMOID_TABLE_U16.astype(np.int64)
    uh = np.minimum(a >> step_bits, 254)
    return (t[uh] << step_bits) + (a & ((1 << step_bits) - 1)) * (t[uh + 1] - t[uh])


def logistic_s16(x, mult, left_shift):
    """TFLite int16 LOGISTIC of int16 x (scale 2^-15 out): x rescaled to 3 / 4 * 2^-12 by (x mult + round) >>
    left_shift, the table read at a 2^-9 step, saturating beyond it, the negative side by symmetry."""
    x = _i64(x)
    d = (x * mult + ((1 << left_shift) >> 1)) >> left_shift
    a = np.abs(d)
    r = np.where((a >> 9) >= 255, 0x7FFF << 10, _table_lerp(a, 9))
    return np.where(d >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1) >> 10


def tanh_s16(x, mult, left_shift):
    """TFLite int16 TANH: tanh(x) = 2 sigmoid(2x) - 1 from the same table read at a 2^-8 step."""
    x = _i64(x)
    d = (x * mult + ((1 << left_shift) >> 1)) >> left_shift
    a = np.abs(d)
    r = np.where((a >> 8) >= 255, 0xFFFF << 8, _table_lerp(a, 8))
    return np.where(d >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1) >> 8


# -- dynamic range (hybrid) kernels: TFLite's run-time input quantization ---------------------------------------
def asymmetric_quantize_rows(x):
    """TFLite's AsymmetricQuantizeFloats on each row of x (R, K) float32, as mcu_quantize_row_s8 computes it,
    all in float32: the range [min(0, min x), max(0, max x)], scale = range / 255, the zero point from whichever
    end errs less (nudged into [-128, 127], rounded half away), then q = round(zp + x * (1 / scale)), clamped.
    An all-zero row gets scale 1, zero point 0. Returns (q int64 (R, K), scale float32 (R,), zp int64 (R,)).
    Every step is one IEEE float32 operation on the same operands as the C, so the results are equal bit for
    bit (and equal TFLite's: its scale is this float32 quotient, checked in tests/test_dynamic.py)."""
    f = np.float32
    x = np.asarray(x, f)
    rmin = np.minimum(x.min(axis=1, initial=0.0), f(0.0)).astype(f)
    rmax = np.maximum(x.max(axis=1, initial=0.0), f(0.0)).astype(f)
    zero = rmin == rmax
    scale = np.where(zero, f(1.0), (rmax - rmin) / f(255.0)).astype(f)
    low, high = rmin / scale, rmax / scale
    nearer_min = f(128.0) + np.abs(low) < f(127.0) + np.abs(high)
    zp_real = np.where(nearer_min, f(-128.0) - low, f(127.0) - high)
    zp = np.where(zp_real <= -128.0, -128, np.where(zp_real >= 127.0, 127, round_half_away(zp_real)))
    zp = np.where(zero, 0, zp).astype(np.int64)
    inv = f(1.0) / scale
    v = zp.astype(f)[:, None] + x * inv[:, None]  # float32: x * inv rounded, then the sum rounded
    q = np.clip(round_half_away(v), -128, 127).astype(np.int64)
    return q, scale, zp


def hybrid_rescale(acc, input_scale, weight_scales, bias, act_min, act_max):
    """int32 accumulators (..., C) -> float32 outputs as the hybrid kernels: bias + acc * (input_scale *
    weight_scale[c]), each product and the sum one float32 rounding (the C keeps them separate statements,
    so no compiler fuses them), then the clamp. input_scale broadcasts against acc's leading axes."""
    scale = np.asarray(input_scale, np.float32)[..., None] * np.asarray(weight_scales, np.float32)
    y = np.asarray(bias, np.float32) + np.asarray(acc).astype(np.float32) * scale
    return np.clip(y, np.float32(act_min), np.float32(act_max)).astype(np.float32)


def inv_sqrt_quantized_multiplier_exp(value):
    """TFLite's GetInvSqrtQuantizedMultiplierExp, element-wise for int32 values below 2^29 (reverse_shift -1):
    (multiplier, shift) with multiplier * 2^shift / 2^31 ~ 1 / sqrt(value), exactly as it computes them: value
    scaled by 4^k into [2^27, 2^29), then inv_sqrt_newton. Values 1 (and 0) give (INT32_MAX, 0)."""
    value = _i64(value)
    if np.any(value >= 1 << 29):
        raise ValueError("inv_sqrt_quantized_multiplier_exp takes values below 2^29")
    v = np.maximum(value, 2)
    pairs = (count_leading_zeros_u32(v) - 1) // 2 - 1
    shift = 11 - pairs
    x = inv_sqrt_newton(v << (2 * pairs))
    x = np.where(shift < 0, x << np.maximum(-shift, 0), x)
    small = value <= 1
    return np.where(small, INT32_MAX, x), np.where(small, 0, -np.maximum(shift, 0))


def inv_sqrt_newton(value):
    """The heart of GetInvSqrtQuantizedMultiplierExp, element-wise for values in [2^27, 2^29): 2^42 / sqrt(value)
    (raw int32), by 5 Newton-Raphson steps x <- 3/2 x - value/2^29 x^3 in gemmlowp's FixedPoint<int32, 3> (value
    read as F3 of value / 2^28, halved) from the guess 1, times sqrt(2) / 2. mcu_inv_sqrt_newton in C."""
    srdhm = sat_rounding_doubling_high_mul
    half_input = rounding_divide_by_pot(_i64(value) >> 1, 1)
    half_three = (1 << 28) + (1 << 27)  # 1.5 in F3
    x = np.full(np.shape(value), 1 << 28, np.int64)  # 1.0 in F3
    for _ in range(5):
        x3 = saturating_left_shift(srdhm(srdhm(x, x), x), 6)  # F9 -> F3
        x = saturating_left_shift(srdhm(half_three, x) - srdhm(half_input, x3), 3)  # F6 -> F3
    return srdhm(x, 1518500250)  # times sqrt(2) / 2 (F0)


def rounding_shift_s64(x, shift):
    """x * 2^shift for int64 x: a left shift for shift >= 0, else x / 2^-shift rounded half away from zero."""
    x, shift = _i64(x), _i64(shift)
    right = np.maximum(-shift, 0)
    half = np.where(right > 0, _i64(1) << np.maximum(right - 1, 0), 0)
    down = np.where(x >= 0, (x + half) >> right, -((-x + half) >> right))
    return np.where(shift >= 0, x << np.maximum(shift, 0), down)
