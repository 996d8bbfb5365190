/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

/* exp(beta * (in[c] - max)) on the exp table's Q0.15 grid: the difference is scaled onto [-65535, 0]
 * (= [-10, 0]) and moved to the table's symmetric input range [-32768, 32767]. */
static inline int32_t mcu_softmax_s16_exp(const mcu_softmax_s16_params_t *p, int32_t diff)
{
    const int32_t scaled = mcu_multiply_by_quantized_multiplier(diff, p->input_mult, p->input_left_shift);
    return mcu_lut_lookup_s16(mcu_clamp(scaled + 32767, -32768, 32767), p->exp_lut);
}

MCU_KERNEL void mcu_softmax_s16(const mcu_softmax_s16_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int16_t *in = input + r * p->depth;
        int16_t *out = output + r * p->depth;
        int32_t max = -32768;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        int32_t sum_of_exps = 0; /* at most depth * 32767: depth < 65536 keeps it in int32 */
        for (int32_t c = 0; c < p->depth; ++c) {
            sum_of_exps += mcu_softmax_s16_exp(p, in[c] - max);
        }
        /* 1 / sum: the sum normalised to 1 + x with x in [0, 1) on a 2^-16 grid, x moved to the table's
         * symmetric input range, 1 / (1 + x) from the table; the normalising shift comes back at the end */
        const int32_t headroom_plus_one = mcu_count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t shifted_sum =
            (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        const int32_t sym_shifted_sum = shifted_sum - ((1 << 15) + (1 << 16));
        const int32_t reciprocal = mcu_lut_lookup_s16(mcu_clamp(sym_shifted_sum, -32768, 32767), p->recip_lut);
        const int32_t right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; ++c) {
            /* recomputed rather than kept: no scratch buffer, and the output may overwrite the input */
            const int64_t e = mcu_softmax_s16_exp(p, in[c] - max);
            const int32_t y = (int32_t)((e * reciprocal + round) >> right_shift);
            out[c] = (int16_t)mcu_clamp(y, 0, 32767);
        }
    }
}
