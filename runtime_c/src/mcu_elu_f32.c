/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_elu_f32(const mcu_elu_f32_params_t *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float x = input[i];
        output[i] = p->gamma * (x < 0.0f ? p->alpha * (expf(x) - 1.0f) : x);
    }
}
