/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_add_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float sum = input1[i] + input2[i];
        output[i] = sum < p->act_min ? p->act_min : (sum > p->act_max ? p->act_max : sum);
    }
}
