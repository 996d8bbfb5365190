/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_layer_norm_f32(const mcu_layer_norm_f32_params_t *p, const float *input, float *output)
{
    for (int32_t r = 0; r < p->rows; ++r, input += p->depth, output += p->depth) {
        float sum = 0.0f;
        for (int32_t i = 0; i < p->depth; ++i) {
            sum += input[i];
        }
        const float mean = sum / (float)p->depth;
        float var = 0.0f;
        for (int32_t i = 0; i < p->depth; ++i) {
            var += (input[i] - mean) * (input[i] - mean);
        }
        const float inv = 1.0f / sqrtf(var / (float)p->depth + p->epsilon);
        for (int32_t i = 0; i < p->depth; ++i) {
            output[i] = (input[i] - mean) * inv * p->gamma[i] + p->beta[i];
        }
    }
}
