/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_layer_norm_s8(const mcu_layer_norm_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r, input += p->depth, output += p->depth) {
        int32_t sum = 0;
        for (int32_t i = 0; i < p->depth; ++i) {
            sum += input[i] - p->input_zp;
        }
        int64_t w = p->eps;             /* sum of t^2 + E, t = D (q - zp) - S: below 2^62 (prepare) */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (input[i] - p->input_zp) - sum;
            w += (int64_t)t * t;
        }
        int32_t e;
        const int64_t inv = mcu_inv_sqrt_s64(w < 1 ? 1 : w, &e);    /* 1 / sqrt(w) = inv 2^(-42 - e) */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (input[i] - p->input_zp) - sum;
            const int64_t n = mcu_rounding_shift_s64((int64_t)t * inv, 24 - 42 - e);    /* t / sqrt(w), 2^24 */
            const int64_t y = mcu_rounding_shift_s64(n * p->gamma_q[i] + p->beta_q[i], -p->out_shift);
            output[i] = (int8_t)mcu_clamp_s64(y + p->output_zp, p->q_min, p->q_max);
        }
    }
}
