/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_leaky_relu_s16(const mcu_leaky_relu_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zp;
        const int32_t y = x >= 0 ? mcu_multiply_by_quantized_multiplier(x, p->identity_mult, p->identity_shift)
                                 : mcu_multiply_by_quantized_multiplier(x, p->alpha_mult, p->alpha_shift);
        output[i] = (int16_t)mcu_clamp(y + p->output_zp, p->q_min, p->q_max);
    }
}
