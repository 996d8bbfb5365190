/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_leaky_relu_f32(const mcu_leaky_relu_f32_params_t *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float x = input[i];
        output[i] = x >= 0.0f ? x : x * p->alpha;
    }
}
