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
        int64_t w = p->eps;             /* sum of (D (q - zp) - S)^2 + E */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (input[i] - p->input_zp) - sum;
            w += (int64_t)t * t;
        }
        if (w < 1) {
            w = 1;
        }
        int32_t e = 0;                  /* w = m 4^e, m in [2^27, 2^29) */
        while (w >= ((int64_t)1 << 29)) {
            w >>= 2;
            ++e;
        }
        while (w < ((int64_t)1 << 27)) {
            w <<= 2;
            --e;
        }
        const int64_t inv = mcu_inv_sqrt_newton((int32_t)w);      /* 2^42 / sqrt(m) */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (input[i] - p->input_zp) - sum;
            const int64_t n = mcu_rounding_shift_s64((int64_t)t * inv, 24 - 42 - e);
            const int64_t acc = n * p->gamma_q[i] + p->beta_q[i];
            const int64_t y = mcu_rounding_shift_s64(acc, -p->out_shift) + p->output_zp;
            output[i] = (int8_t)(y < -128 ? -128 : (y > 127 ? 127 : y));
        }
    }
}
