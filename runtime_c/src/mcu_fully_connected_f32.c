/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_fully_connected_f32(const mcu_fully_connected_f32_params_t *p, const float *input,
                                        float *output)
{
    const int32_t rows = p->rows, in_features = p->in_features, out_features = p->out_features;
    const float act_min = p->act_min, act_max = p->act_max;
    for (int32_t r = 0; r < rows; ++r) {
        const float *in = input + r * in_features;
        for (int32_t o = 0; o < out_features; ++o) {
            const float *w = p->weights + o * in_features;
            float acc = p->bias[o];
            for (int32_t i = 0; i < in_features; ++i) {
                acc += in[i] * w[i];
            }
            output[r * out_features + o] = acc < act_min ? act_min : (acc > act_max ? act_max : acc);
        }
    }
}
