/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_quantize_f32_s8(const mcu_quantize_params_t *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int8_t)mcu_quantize_value(input[i], p->scale, p->zero_point, p->q_min, p->q_max);
    }
}
