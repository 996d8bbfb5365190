/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_concat_s16(const mcu_concat_params_t *p, const int16_t *const *inputs, int16_t *output)
{
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->count; ++k) {
            const int16_t *in = inputs[k] + o * p->chunk[k];
            for (int32_t i = 0; i < p->chunk[k]; ++i) {
                int32_t y = in[i];
                if (p->requantize[k]) {
                    y = mcu_multiply_by_quantized_multiplier(y - p->input_zp[k], p->mult[k], p->shift[k]);
                    y = mcu_clamp(y + p->output_zp, p->q_min, p->q_max);
                }
                *output++ = (int16_t)y;
            }
        }
    }
}
