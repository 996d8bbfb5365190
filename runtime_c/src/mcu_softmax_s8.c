#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

/* gemmlowp fixed point: a FixedPoint<int32, I> is a raw int32 with 31 - I fractional bits. */
#define MCU_SOFTMAX_DIFF_INT_BITS 5     /* scaled input differences */
#define MCU_SOFTMAX_ACCUM_INT_BITS 12   /* sum of exponentials */

/* exp(a) for a in [-1/4, 0), 0 integer bits in and out: Taylor series around -1/8. */
static int32_t mcu_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
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

/* exp(a) for a <= 0 with MCU_SOFTMAX_DIFF_INT_BITS integer bits; result with 0 integer bits. */
static int32_t mcu_exp_on_negative_values(int32_t a)
{
    static const int32_t barrel_multiplier[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t fractional_bits = 31 - MCU_SOFTMAX_DIFF_INT_BITS;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = mcu_exp_on_interval_between_negative_one_quarter_and_0_excl(
        mcu_saturating_left_shift(a_mod_quarter_minus_one_quarter, MCU_SOFTMAX_DIFF_INT_BITS));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    /* exponents -2 .. 4 of the barrel shifter: all below the 5 integer bits */
    for (int32_t k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (fractional_bits - 2 + k))) {
            result = mcu_sat_rounding_doubling_high_mul(result, barrel_multiplier[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), 0 integer bits in and out: three Newton-Raphson steps in 2 integer bits. */
static int32_t mcu_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + mcu_sat_rounding_doubling_high_mul(half_denominator, -1010580540);
    for (int32_t i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = mcu_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        x = x + mcu_saturating_left_shift(mcu_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return mcu_saturating_left_shift(x, 1);
}

static int32_t mcu_count_leading_zeros(uint32_t x)
{
    int32_t n = 32;
    while (x != 0u) {
        x >>= 1;
        --n;
    }
    return n;
}

MCU_KERNEL void mcu_softmax_s8(const mcu_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *in = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        int32_t sum_of_exps = 0; /* MCU_SOFTMAX_ACCUM_INT_BITS integer bits */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            if (diff >= p->diff_min) {
                const int32_t scaled = mcu_sat_rounding_doubling_high_mul(
                    mcu_saturating_left_shift(diff, p->input_left_shift), p->input_mult);
                sum_of_exps += mcu_rounding_divide_by_pot(mcu_exp_on_negative_values(scaled), MCU_SOFTMAX_ACCUM_INT_BITS);
            }
        }
        /* reciprocal of the sum: normalise into [1, 2), then 1 / (1 + x) */
        const int32_t headroom_plus_one = mcu_count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = MCU_SOFTMAX_ACCUM_INT_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = mcu_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = in[c] - max;
            int32_t value = -128;
            if (diff >= p->diff_min) {
                const int32_t scaled = mcu_sat_rounding_doubling_high_mul(
                    mcu_saturating_left_shift(diff, p->input_left_shift), p->input_mult);
                const int32_t exp_in_0 = mcu_exp_on_negative_values(scaled);
                value = mcu_rounding_divide_by_pot(mcu_sat_rounding_doubling_high_mul(shifted_scale, exp_in_0),
                                                   num_bits_over_unit + 31 - 8) - 128;
            }
            out[c] = (int8_t)mcu_clamp(value, -128, 127);
        }
    }
}
