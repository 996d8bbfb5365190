/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_gelu_f32(const mcu_gelu_f32_params_t *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const float x = input[i];
        if (p->approximate) {
            output[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        } else {
            output[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
        }
    }
}
