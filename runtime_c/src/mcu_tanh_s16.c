/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_tanh_s16(const mcu_logistic_s16_params_t *p, const int16_t *input, int16_t *output)
{
    const int32_t round = p->input_left_shift > 0 ? (int32_t)1 << (p->input_left_shift - 1) : 0;
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (input[i] * p->input_mult + round) >> p->input_left_shift;  /* 3/4 * 2^-12 steps */
        const int32_t a = x < 0 ? -x : x;
        const int32_t step = a >> 8;
        int32_t r = 0xFFFF << 8;    /* saturated beyond the table */
        if (step < 255) {
            const int32_t lo = p->table[step];
            r = (lo << 8) + (a & 0xFF) * (p->table[step + 1] - lo);
        }
        r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(r >> 8);
    }
}
