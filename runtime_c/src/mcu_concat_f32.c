/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_concat_f32(const mcu_concat_params_t *p, const float *const *inputs, float *output)
{
    for (int32_t o = 0; o < p->outer; ++o) {
        for (int32_t k = 0; k < p->count; ++k) {
            memcpy(output, inputs[k] + o * p->chunk[k], (size_t)p->chunk[k] * sizeof(float));
            output += p->chunk[k];
        }
    }
}
