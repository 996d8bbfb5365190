/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by every kernel: the fixed-point arithmetic (the C twins of mcu_codegen/fixedpoint.py) and
 * the window geometry of the windowed kernels.
 * TFLM / gemmlowp semantics. Right shifts of negative values are arithmetic on every compiler we support
 * (gcc, clang, armclang, IAR); C99 leaves them implementation-defined, never undefined. */
#ifndef MCU_FIXEDPOINT_H
#define MCU_FIXEDPOINT_H

#include <stdint.h>

#include "mcu_nn.h" /* MCU_HAS_DSP */
#if MCU_HAS_DSP
#include <arm_acle.h>
#endif

/* the per-output requantization helpers, inlined into every kernel loop whatever their size (a call would pass
 * mcu_requant_s8_t on the stack) */
#if defined(__GNUC__)
#define MCU_REQUANT_INLINE __attribute__((always_inline)) inline
#else
#define MCU_REQUANT_INLINE inline
#endif

static inline int32_t mcu_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* x * 2^shift (shift >= 0) saturated to int32: no signed overflow even for out-of-range inputs. */
static inline int32_t mcu_saturating_left_shift(int32_t x, int32_t shift)
{
    const int64_t wide = (int64_t)x * ((int64_t)1 << shift);
    return wide > INT32_MAX ? INT32_MAX : (wide < INT32_MIN ? INT32_MIN : (int32_t)wide);
}

/* a * b / 2^31 to nearest, ties toward +infinity; the one overflow case (INT32_MIN^2) saturates. */
static inline int32_t mcu_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent, exponent in [0, 31], rounded to nearest with ties away from zero. */
static inline int32_t mcu_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM's default requantization ("double rounding"): x * multiplier * 2^(shift - 31). */
static inline int32_t mcu_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mcu_rounding_divide_by_pot(
        mcu_sat_rounding_doubling_high_mul(mcu_saturating_left_shift(x, left), multiplier), right);
}

/* An ADD / SUB / SQUARED_DIFFERENCE operand on the two inputs' common scale, as TFLM: (x - zp) << left_shift (the
 * caller's types keep it inside int32: 9 bits and 20 for int8, 17 and 15 for int16), times its multiplier. */
static inline int32_t mcu_add_operand(int32_t x, int32_t zp, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return mcu_multiply_by_quantized_multiplier((x - zp) * (1 << left_shift), multiplier, shift);
}

/* mcu_multiply_by_quantized_multiplier, the same integers for every multiplier >= 0 (prepare's are 0 or in
 * [2^30, 2^31)), in fewer instructions. A multiplier >= 0 cannot meet the high-mul's one saturating case
 * (INT32_MIN squared), and its rounding (ties toward +infinity) is floor((x * m + 2^30) / 2^31) for either sign.
 * The common case, shift = -e <= -2 (a real multiplier below 1/4), needs no left shift, and the high-mul and the
 * rounding divide by 2^e (ties away from zero: half up, minus one for a negative value) are one floor over the
 * 64-bit product:
 *     floor((x * m + 2^30 - [x < 0] * 2^31 + 2^(30 + e)) / 2^(31 + e))
 * ([x < 0] stands for "the high-mul is negative": they differ only where the high-mul is 0, and both give 0),
 * which is the high word of the first three terms plus 2^(e - 2), shifted right by e - 1. */
static inline int32_t mcu_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift > -2) {
        if (shift > 0) {
            return mcu_multiply_by_quantized_multiplier(x, multiplier, shift);
        }
        const int32_t high = (int32_t)(((int64_t)x * multiplier + ((int64_t)1 << 30)) >> 31);
        return shift == 0 ? high : mcu_rounding_divide_by_pot(high, 1);
    }
    const int64_t sum = (int64_t)x * multiplier + (int32_t)(((uint32_t)x & 0x80000000u) | 0x40000000u);
    return ((int32_t)(sum >> 32) + (1 << (-shift - 2))) >> (-shift - 1);
}

/* floor((x * m + 2^30) / 2^31) for x in [-2^30, 2^30), m in [0, 2^31), from 32-bit
 * products only (Armv6-M has no 64-bit multiply: GCC calls __aeabi_lmul, about 50 instructions with the call):
 * x = xh 2^16 + xl and m = mh 2^16 + ml (xl, ml in [0, 2^16)); B = floor(xl m / 2^16) = xl mh + floor(xl ml / 2^16)
 * < 2^31; floor(x m / 2^16) = xh m + B, so the result is 2 xh mh + floor(B / 2^15)
 * + floor((xh ml + B mod 2^15 + 2^14) / 2^15), every term inside int32. */
static MCU_REQUANT_INLINE int32_t mcu_high_mul_s32(int32_t x, int32_t m)
{
    const int32_t xh = x >> 16;
    const uint32_t xl = (uint32_t)x & 0xFFFFu, mh = (uint32_t)m >> 16, ml = (uint32_t)m & 0xFFFFu;
    const uint32_t b = xl * mh + ((xl * ml) >> 16);
    return 2 * xh * (int32_t)mh + (int32_t)(b >> 15) + ((xh * (int32_t)ml + (int32_t)(b & 0x7FFFu) + 0x4000) >> 15);
}

/* The short requantization of a layer the generator proved it exact for (fixedpoint.requant_round_constants:
 * x in [-2^30, 2^30), the zero point folded into `rounding`, the sums below in int32):
 *     (SMMLAR(2x, multiplier, rounding) + (x >> 31)) >> exponent
 * = mcu_requantize(x, multiplier, -exponent) + zp. SMMLAR (Armv7E-M, Armv8-M DSP) is the rounded high word of
 * 2x * multiplier plus `rounding`, one instruction; Armv6-M: mcu_high_mul_s32; elsewhere a 64-bit product. */
static MCU_REQUANT_INLINE int32_t mcu_requant_round(int32_t x, int32_t multiplier, int32_t rounding, int32_t exponent)
{
#if MCU_HAS_DSP
    int32_t h;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(h) : "r"(x * 2), "r"(multiplier), "r"(rounding));
#elif defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB == 1 /* Armv6-M, Armv8-M baseline */
    const int32_t h = mcu_high_mul_s32(x, multiplier) + rounding;
#else
    /* the high word of 2x * m + 2^31 (no 64-bit shift on a 32-bit core) */
    const int32_t h = (int32_t)(((int64_t)x * (2 * (int64_t)multiplier) + ((int64_t)1 << 31)) >> 32) + rounding;
#endif
    return (h + (x >> 31)) >> exponent;
}

/* y clamped to [-128, 127]: one SSAT where the core has it (GCC does not see it in the two compares) */
static MCU_REQUANT_INLINE int32_t mcu_sat_s8(int32_t y)
{
#if MCU_HAS_DSP
    return __ssat(y, 8);
#else
    return mcu_clamp(y, INT8_MIN, INT8_MAX);
#endif
}

/* Per-channel requantization to int8, by value: a kernel's int8 stores may alias anything reached through a
 * pointer (char types alias all), which would force every field to be loaded again after each store.
 * kind, set once per layer by mcu_requant_s8_of: the exact form (mcu_requantize, + zp, clamp), or where the
 * layer's params carry `round` ({rounding, exponent} per channel) mcu_requant_round with the channel's
 * multiplier, clamped to the activation's bounds, or by one SSAT where they are the whole int8 range. */
enum { MCU_REQUANT_EXACT, MCU_REQUANT_ROUND, MCU_REQUANT_ROUND_S8 };

typedef struct {
    const int32_t *mult, *shift, *round;
    int32_t zp, act_min, act_max, kind;
} mcu_requant_s8_t;

static inline mcu_requant_s8_t mcu_requant_s8_of(const int32_t *mult, const int32_t *shift, const int32_t *round,
                                                 int32_t zp, int32_t act_min, int32_t act_max)
{
    const int32_t kind = !round ? MCU_REQUANT_EXACT
                         : act_min == INT8_MIN && act_max == INT8_MAX ? MCU_REQUANT_ROUND_S8 : MCU_REQUANT_ROUND;
    const mcu_requant_s8_t q = {mult, shift, round, zp, act_min, act_max, kind};
    return q;
}

/* mcu_requant_round with a channel's constants, before the clamp */
static MCU_REQUANT_INLINE int32_t mcu_requant_round_at(mcu_requant_s8_t q, int32_t acc, int32_t channel)
{
    return mcu_requant_round(acc, q.mult[channel], q.round[2 * channel], q.round[2 * channel + 1]);
}

/* The exact form. Out of line on the cores without the DSP extension (M0+: its 64-bit products are library
 * calls, and the layers the short form is not proven for are rare: a copy in every kernel loop would cost more
 * flash than CMSIS-NN's whole library on a small model); inlined on the others, where a call would take the
 * registers of the kernels' loops (ic on the M4: 2.5% more instructions). */
#if MCU_HAS_DSP || !defined(__GNUC__)
#define MCU_REQUANT_EXACT_FUNCTION static MCU_REQUANT_INLINE
#elif defined(__clang__) /* which warns of "unused" on a function used; GCC, of "noinline" on an inline one */
#define MCU_REQUANT_EXACT_FUNCTION static inline __attribute__((noinline))
#else
#define MCU_REQUANT_EXACT_FUNCTION static __attribute__((noinline, unused))
#endif
MCU_REQUANT_EXACT_FUNCTION int8_t mcu_requant_exact_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t zp,
                                                       int32_t act_min, int32_t act_max)
{
    return (int8_t)mcu_clamp(mcu_requantize(acc, multiplier, shift) + zp, act_min, act_max);
}

static MCU_REQUANT_INLINE int8_t mcu_requant_s8(mcu_requant_s8_t q, int32_t acc, int32_t channel)
{
    if (q.kind == MCU_REQUANT_ROUND_S8) {
        return (int8_t)mcu_sat_s8(mcu_requant_round_at(q, acc, channel));
    }
    if (q.kind == MCU_REQUANT_ROUND) {
        return (int8_t)mcu_clamp(mcu_requant_round_at(q, acc, channel), q.act_min, q.act_max);
    }
    return mcu_requant_exact_s8(acc, q.mult[channel], q.shift[channel], q.zp, q.act_min, q.act_max);
}

/* out[k] = requant(acc_k) for the n <= 4 channels from `channel` on (the layer's kind tested once) */
static MCU_REQUANT_INLINE void mcu_store4_s8(mcu_requant_s8_t q, int8_t *out, int32_t channel, int32_t n,
                                             int32_t acc0, int32_t acc1, int32_t acc2, int32_t acc3)
{
    if (q.kind == MCU_REQUANT_ROUND_S8) {
        const int32_t *m = q.mult + channel, *k = q.round + 2 * channel;
        out[channel] = (int8_t)mcu_sat_s8(mcu_requant_round(acc0, m[0], k[0], k[1]));
        if (n > 1) {
            out[channel + 1] = (int8_t)mcu_sat_s8(mcu_requant_round(acc1, m[1], k[2], k[3]));
        }
        if (n > 2) {
            out[channel + 2] = (int8_t)mcu_sat_s8(mcu_requant_round(acc2, m[2], k[4], k[5]));
        }
        if (n > 3) {
            out[channel + 3] = (int8_t)mcu_sat_s8(mcu_requant_round(acc3, m[3], k[6], k[7]));
        }
        return;
    }
    out[channel] = mcu_requant_s8(q, acc0, channel);
    if (n > 1) {
        out[channel + 1] = mcu_requant_s8(q, acc1, channel + 1);
    }
    if (n > 2) {
        out[channel + 2] = mcu_requant_s8(q, acc2, channel + 2);
    }
    if (n > 3) {
        out[channel + 3] = mcu_requant_s8(q, acc3, channel + 3);
    }
}

/* The weight rows (of `size` values) and biases of up to four outputs from `first` on (n of them): a group of
 * fewer than four repeats its first row in the unused places, whose results are discarded (no branch in the
 * inner loops). */
typedef struct {
    const int8_t *w0, *w1, *w2, *w3;
    int32_t n, b0, b1, b2, b3;
} mcu_rows4_t;

static inline mcu_rows4_t mcu_rows4(const int8_t *weights, const int32_t *bias, int32_t first, int32_t count,
                                    int32_t size)
{
    mcu_rows4_t r;
    r.n = count - first < 4 ? count - first : 4;
    r.w0 = weights + first * size;
    r.w1 = r.n > 1 ? r.w0 + size : r.w0;
    r.w2 = r.n > 2 ? r.w0 + 2 * size : r.w0;
    r.w3 = r.n > 3 ? r.w0 + 3 * size : r.w0;
    r.b0 = bias[first];
    r.b1 = r.n > 1 ? bias[first + 1] : 0;
    r.b2 = r.n > 2 ? bias[first + 2] : 0;
    r.b3 = r.n > 3 ? bias[first + 3] : 0;
    return r;
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for an exponent of either sign. */
static inline int32_t mcu_saturating_rounding_multiply_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        return mcu_saturating_left_shift(x, exponent);
    }
    return exponent < 0 ? mcu_rounding_divide_by_pot(x, -exponent) : x;
}

/* float -> integer at a float input edge: round(x / scale) half away from zero, + zero_point, clamped to
 * [q_min, q_max]. The quotient is clamped first so that the conversion to int is defined; NaN fails the
 * first test and lands low. */
static inline int32_t mcu_quantize_value(float x, float scale, int32_t zero_point, int32_t q_min, int32_t q_max)
{
    float q = x / scale;
    q = q > -100000.0f ? q : -100000.0f;
    q = q < 100000.0f ? q : 100000.0f;
    const int32_t t = (int32_t)q;     /* truncation toward zero */
    const float frac = q - (float)t;  /* exact */
    const int32_t rounded = frac >= 0.5f ? t + 1 : (frac <= -0.5f ? t - 1 : t);
    return mcu_clamp(rounded + zero_point, q_min, q_max);
}

/* int16 fixed point (gemmlowp's int16 forms, TFLite's int8 HARD_SWISH); values are int16, held in int32. */
static inline int32_t mcu_saturating_left_shift_s16(int32_t x, int32_t shift)
{
    const int32_t wide = x * (1 << shift);   /* |x| <= 2^15, shift <= 15: fits */
    return wide > INT16_MAX ? INT16_MAX : (wide < INT16_MIN ? INT16_MIN : wide);
}

/* a * b / 2^15 to nearest, ties toward +infinity; -32768^2 saturates. */
static inline int32_t mcu_sat_rounding_doubling_high_mul_s16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = a * b;
    return (ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15);
}

/* a * b / 2^15 truncated toward zero (SQDMULH); -32768^2 saturates. */
static inline int32_t mcu_saturating_doubling_high_mul_s16(int32_t a, int32_t b)
{
    if (a == INT16_MIN && b == INT16_MIN) {
        return INT16_MAX;
    }
    return (a * b) / (1 << 15);
}

/* 16x8 kernels: requantization of an int64 accumulator as TFLite: the multiplier rounded to 16 bits, one
 * rounding shift (ties toward +infinity). |x| < 2^47 (guaranteed by the generator), so nothing overflows; the
 * result stays int64 until the clamp (TFLite assumes int32). TFLite allows shift <= 7; up to 14 the same
 * formula holds, and from 15 (a tensor whose range is tiny next to its input's) the shift is an exact left
 * shift of x clamped to +-2^31, beyond which any int16 output saturates anyway. */
static inline int64_t mcu_multiply_by_quantized_multiplier_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    if (shift < 15) {
        const int32_t total_shift = 15 - shift;
        return (x * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift;
    }
    const int64_t clamped = x > INT32_MAX ? INT32_MAX : (x < -INT32_MAX ? -INT32_MAX : x);
    return clamped * reduced * ((int64_t)1 << (shift - 15));
}

/* TFLite's int16 LOGISTIC / TANH (reference_integer_ops): x rescaled to the sigmoid table's 3/4 * 2^-12 grid by
 * (x * mult + round) >> left_shift; then the table (sigmoid(i / 24) in 0.16) interpolated at |x| / 2^9 (tanh:
 * 2^8, as tanh x = 2 sigmoid(2x) - 1), saturating past its end, the negative side by symmetry; out in 2^-15. */
static inline int32_t mcu_table_grid_s16(int32_t x, int32_t mult, int32_t left_shift)
{
    const int32_t round = left_shift > 0 ? (int32_t)1 << (left_shift - 1) : 0;
    return (x * mult + round) >> left_shift;
}

/* The table interpolated at a / 2^step_bits (a >= 0), in 0.(16 + step_bits); `saturated` past its end. */
static inline int32_t mcu_table_lerp_s16(int32_t a, int32_t step_bits, int32_t saturated, const uint16_t *table)
{
    const int32_t step = a >> step_bits;
    if (step >= 255) {
        return saturated;
    }
    const int32_t lo = table[step];
    return (lo << step_bits) + (a & ((1 << step_bits) - 1)) * (table[step + 1] - lo);
}

static inline int32_t mcu_logistic_s16_value(int32_t x, const uint16_t *table)
{
    const int32_t r = mcu_table_lerp_s16(x < 0 ? -x : x, 9, 0x7FFF << 10, table);
    return (x >= 0 ? r + (1 << 9) : (1 << 25) - r + (1 << 9) - 1) >> 10;
}

static inline int32_t mcu_tanh_s16_value(int32_t x, const uint16_t *table)
{
    const int32_t r = mcu_table_lerp_s16(x < 0 ? -x : x, 8, 0xFFFF << 8, table);
    return (x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1) >> 8;
}

/* TFLM's integer LSTM step (ops/lstm.py), element-wise (mcu_requantize: prepare's multipliers are >= 0). A gate:
 * its two matrix products (int16, 2^-12) summed, saturated, through the int16 sigmoid (gate 2, the cell gate:
 * tanh); out in 2^-15. */
static inline int32_t mcu_lstm_gate_s16(int32_t gate, int32_t from_input, int32_t from_hidden, const uint16_t *table)
{
    const int32_t grid = mcu_clamp(from_input + from_hidden, INT16_MIN, INT16_MAX) * 3;   /* the table's grid */
    return gate == 2 ? mcu_tanh_s16_value(grid, table) : mcu_logistic_s16_value(grid, table);
}

/* The cell state: sat16(sat16(f c requantized) + sat16(i g requantized)), clipped to +-clip when clip > 0. */
static inline int32_t mcu_lstm_cell_s16(int32_t f, int32_t i, int32_t g, int32_t c, int32_t forget_mult,
                                        int32_t forget_shift, int32_t update_mult, int32_t update_shift, int32_t clip)
{
    const int32_t kept = mcu_clamp(mcu_requantize(f * c, forget_mult, forget_shift),
                                   INT16_MIN, INT16_MAX);
    const int32_t added = mcu_clamp(mcu_requantize(i * g, update_mult, update_shift),
                                    INT16_MIN, INT16_MAX);
    const int32_t next = mcu_clamp(kept + added, INT16_MIN, INT16_MAX);
    return clip > 0 ? mcu_clamp(next, -clip, clip) : next;
}

/* The hidden state: o * tanh(c) requantized to h (tanh reads c through the table grid's mult and shift). */
static inline int32_t mcu_lstm_hidden_s16(int32_t c, int32_t o, int32_t tanh_mult, int32_t tanh_shift, int32_t mult,
                                          int32_t shift, int32_t zp, int32_t lo, int32_t hi, const uint16_t *table)
{
    const int32_t tanh_c = mcu_tanh_s16_value(mcu_table_grid_s16(c, tanh_mult, tanh_shift), table);
    return mcu_clamp(mcu_requantize(tanh_c * o, mult, shift) + zp, lo, hi);
}

static inline int32_t mcu_clamp_s64(int64_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : (int32_t)x);
}

/* Linear interpolation in a 513-entry int16 table (TFLite's int16 LUTs): entry 256 + value / 128, plus the
 * slope times the value's low 7 bits, rounded. */
static inline int32_t mcu_lut_lookup_s16(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7F;
    const int32_t base = lut[index];
    return base + (((lut[index + 1] - base) * offset + 64) >> 7);
}

/* gemmlowp fixed point: a FixedPoint<int32, I> is a raw int32 with 31 - I fractional bits. */
#define MCU_SOFTMAX_DIFF_INT_BITS 5     /* scaled input differences */
#define MCU_SOFTMAX_ACCUM_INT_BITS 12   /* sum of exponentials */

/* exp(a) for a in [-1/4, 0), 0 integer bits in and out: Taylor series around -1/8. */
static inline int32_t mcu_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = mcu_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = mcu_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = mcu_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = mcu_rounding_divide_by_pot(x4, 2);
    const int32_t poly = mcu_rounding_divide_by_pot(
        mcu_sat_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + mcu_sat_rounding_doubling_high_mul(constant_term, x + poly);
}

/* exp(a) for a <= 0 with `integer_bits` (1 to 5) integer bits; result with 0 integer bits. */
static inline int32_t mcu_exp_on_negative_values_bits(int32_t a, int32_t integer_bits)
{
    static const int32_t barrel_multiplier[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mcu_exp_on_interval_between_negative_one_quarter_and_0_excl(
        mcu_saturating_left_shift(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    /* exponents -2 .. integer_bits - 1 of the barrel shifter */
    for (int32_t k = 0; k < integer_bits + 2; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits - 2 + k))) {
            result = mcu_sat_rounding_doubling_high_mul(result, barrel_multiplier[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* exp(a) for a <= 0 with MCU_SOFTMAX_DIFF_INT_BITS integer bits; result with 0 integer bits. */
static inline int32_t mcu_exp_on_negative_values(int32_t a)
{
    return mcu_exp_on_negative_values_bits(a, MCU_SOFTMAX_DIFF_INT_BITS);
}

/* 2 / (1 + a) for a in [0, 1), a with 0 integer bits, the result with 2: three Newton-Raphson steps. */
static inline int32_t mcu_one_over_half_denominator(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + mcu_sat_rounding_doubling_high_mul(half_denominator, -1010580540);
    for (int32_t i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mcu_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        x = x + mcu_saturating_left_shift(mcu_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1), 0 integer bits in and out. */
static inline int32_t mcu_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return mcu_saturating_left_shift(mcu_one_over_half_denominator(a), 1);
}

/* (1 - a) / (1 + a) for a in [0, 1), 0 integer bits in and out. */
static inline int32_t mcu_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return mcu_saturating_left_shift(mcu_one_over_half_denominator(a) - ((int32_t)1 << 29), 2);
}

/* gemmlowp logistic and tanh of a FixedPoint<int32, 4> raw value, 0 integer bits out (TFLite int8 LOGISTIC,
 * TANH): on |a|, the other side by symmetry. */
static inline int32_t mcu_logistic_q4(int32_t a)
{
    const int32_t positive = mcu_one_over_one_plus_x_for_x_in_0_1(mcu_exp_on_negative_values_bits(a > 0 ? -a : a, 4));
    return a == 0 ? ((int32_t)1 << 30) : (a > 0 ? positive : INT32_MAX - positive);
}

static inline int32_t mcu_tanh_q4(int32_t a)
{
    const int32_t t = mcu_one_minus_x_over_one_plus_x_for_x_in_0_1(mcu_exp_on_negative_values_bits(a > 0 ? -a : a, 5));
    return a == 0 ? 0 : (a < 0 ? -t : t);
}

static inline int32_t mcu_count_leading_zeros(uint32_t x)
{
    int32_t n = 32;
    while (x != 0u) {
        x >>= 1;
        --n;
    }
    return n;
}

/* Window geometry shared by the windowed kernels: the first kernel tap k with origin + k * dilation >= 0,
 * and one past the last with origin + k * dilation < size (at most `taps`). */
static inline int32_t mcu_first_tap(int32_t origin, int32_t dilation)
{
    return origin < 0 ? (-origin + dilation - 1) / dilation : 0;
}

static inline int32_t mcu_end_tap(int32_t origin, int32_t dilation, int32_t size, int32_t taps)
{
    const int32_t room = size - origin;
    const int32_t end = room <= 0 ? 0 : (room + dilation - 1) / dilation;
    return end < taps ? end : taps;
}

/* A walk over the row-major indices of dims[0..rank) (rank <= 6) that keeps the offset sum(index[d] *
 * strides[d]) into a tensor (a broadcast axis has stride 0), one step at a time and without divisions (a
 * Cortex-M0 has no divide instruction): the addressing of the strided kernels (mean, broadcasting element-wise
 * ops, pad). Start with every field zero. */
typedef struct {
    int32_t index[6];
    int32_t offset;
} mcu_strided_walk_t;

static inline void mcu_strided_step(mcu_strided_walk_t *w, int32_t rank, const int32_t *dims, const int32_t *strides)
{
    for (int32_t d = rank - 1; d >= 0; --d) {
        w->offset += strides[d];
        if (++w->index[d] < dims[d]) {
            return;
        }
        w->offset -= strides[d] * dims[d];
        w->index[d] = 0;
    }
}

/* ---- hybrid kernels (dynamic range): float inputs quantized at run time; the twins are in fixedpoint.py ----
 * Each float operation is its own statement: C allows a compiler to fuse a * b + c within one expression
 * (clang does by default on cores with FMA), which would round differently from the twin and from TFLite. */

/* Nearest integer, ties away from zero (C's round), for |v| < 2^31: truncation, then an exact tie test. */
static inline int32_t mcu_round_half_away_f32(float v)
{
    const int32_t t = (int32_t)v;
    const float frac = v - (float)t;  /* exact */
    return frac >= 0.5f ? t + 1 : (frac <= -0.5f ? t - 1 : t);
}

/* TFLite's AsymmetricQuantizeFloats: x[0..n) -> int8 q with its own scale and zero point, all in float32:
 * the range [min(0, min x), max(0, max x)], scale = range / 255, the zero point from the end that errs less
 * (nudged into [-128, 127]), then q = round(zp + x * (1 / scale)), clamped. */
static inline void mcu_quantize_row_s8(const float *x, int32_t n, int8_t *q, float *scale, int32_t *zero_point)
{
    float lo = 0.0f, hi = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    float s = 1.0f;
    int32_t zp = 0;
    if (lo < hi) { /* lo <= 0 <= hi: not an all-zero row */
        s = (hi - lo) / 255.0f;
        const float low = lo / s, high = hi / s;
        const float err_min = 128.0f + (low < 0.0f ? -low : low);
        const float err_max = 127.0f + (high < 0.0f ? -high : high);
        const float zp_real = err_min < err_max ? -128.0f - low : 127.0f - high;
        zp = zp_real <= -128.0f ? -128 : (zp_real >= 127.0f ? 127 : mcu_round_half_away_f32(zp_real));
    }
    const float inv = 1.0f / s;
    const float offset = (float)zp;
    for (int32_t i = 0; i < n; ++i) {
        const float scaled = x[i] * inv;
        const float v = offset + scaled;
        q[i] = (int8_t)mcu_clamp(mcu_round_half_away_f32(v), -128, 127);
    }
    *scale = s;
    *zero_point = zp;
}

/* bias + acc * (input_scale * weight_scale), clamped: three float32 roundings in this order. */
static inline float mcu_hybrid_output(int32_t acc, float input_scale, float weight_scale, float bias, float act_min,
                                      float act_max)
{
    const float scale = input_scale * weight_scale;
    const float product = (float)acc * scale;
    const float y = bias + product;
    return y < act_min ? act_min : (y > act_max ? act_max : y);
}

/* fixedpoint.inv_sqrt_newton: 2^42 / sqrt(value) for value in [2^27, 2^29), gemmlowp's Newton steps in
 * FixedPoint<int32, 3> (TFLite's GetInvSqrtQuantizedMultiplierExp without its scaling). */
static inline int32_t mcu_inv_sqrt_newton(int32_t value)
{
    const int32_t half_input = mcu_rounding_divide_by_pot(value >> 1, 1);
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t x = 1 << 28;
    for (int32_t k = 0; k < 5; ++k) {
        const int32_t x3 = mcu_saturating_left_shift(
            mcu_sat_rounding_doubling_high_mul(mcu_sat_rounding_doubling_high_mul(x, x), x), 6);
        x = mcu_saturating_left_shift(mcu_sat_rounding_doubling_high_mul(half_three, x) -
                                      mcu_sat_rounding_doubling_high_mul(half_input, x3), 3);
    }
    return mcu_sat_rounding_doubling_high_mul(x, 1518500250);
}

/* layer_norm.normalize then mcu_inv_sqrt_newton: 1 / sqrt(w) = result 2^(-42 - *exponent), for w >= 1 (w scaled
 * by 4^exponent into [2^27, 2^29), a truncating right shift or an exact left one). */
static inline int64_t mcu_inv_sqrt_s64(int64_t w, int32_t *exponent)
{
    int32_t e = 0;
    while (w >= ((int64_t)1 << 29)) {
        w >>= 2;
        ++e;
    }
    while (w < ((int64_t)1 << 27)) {
        w <<= 2;
        --e;
    }
    *exponent = e;
    return mcu_inv_sqrt_newton((int32_t)w);
}

/* fixedpoint.rounding_shift_s64: x 2^shift, a right shift rounding half away from zero. */
static inline int64_t mcu_rounding_shift_s64(int64_t x, int32_t shift)
{
    if (shift >= 0) {
        return x * ((int64_t)1 << shift);
    }
    const int64_t half = (int64_t)1 << (-shift - 1);
    return x >= 0 ? (x + half) >> -shift : -((-x + half) >> -shift);
}

#endif /* MCU_FIXEDPOINT_H */
