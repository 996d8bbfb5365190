/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_rsqrt_f32(const mcu_unary_f32_params_t *p, const float *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = 1.0f / sqrtf(input[i]);
    }
}
