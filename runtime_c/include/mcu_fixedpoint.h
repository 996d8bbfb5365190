/* Helpers shared by every kernel: the fixed-point arithmetic (the C twins of mcu_codegen/fixedpoint.py) and
 * the window geometry of the windowed kernels.
 * TFLM / gemmlowp semantics. Right shifts of negative values are arithmetic on every compiler we support
 * (gcc, clang, armclang, IAR); C99 leaves them implementation-defined, never undefined. */
#ifndef MCU_FIXEDPOINT_H
#define MCU_FIXEDPOINT_H

#include <stdint.h>

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

/* gemmlowp SaturatingRoundingMultiplyByPOT for an exponent of either sign. */
static inline int32_t mcu_saturating_rounding_multiply_by_pot(int32_t x, int32_t exponent)
{
    if (exponent > 0) {
        return mcu_saturating_left_shift(x, exponent);
    }
    return exponent < 0 ? mcu_rounding_divide_by_pot(x, -exponent) : x;
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

#endif /* MCU_FIXEDPOINT_H */
