/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_relu_s16(const mcu_relu_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t y = mcu_multiply_by_quantized_multiplier(input[i] - p->input_zp, p->mult, p->shift);
        output[i] = (int16_t)mcu_clamp(y + p->output_zp, p->act_min, p->act_max);
    }
}
