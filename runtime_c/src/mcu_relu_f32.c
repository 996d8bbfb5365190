/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_relu_f32(const mcu_relu_f32_params_t *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float x = input[i];
        output[i] = x < p->act_min ? p->act_min : (x > p->act_max ? p->act_max : x);
    }
}
