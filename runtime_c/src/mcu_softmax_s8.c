/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

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
