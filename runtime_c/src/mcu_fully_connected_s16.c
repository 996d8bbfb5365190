/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_fully_connected_s16(const mcu_fully_connected_s16_params_t *p, const int16_t *input,
                                        int16_t *output)
{
    const int32_t rows = p->rows, in_features = p->in_features, out_features = p->out_features;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    for (int32_t r = 0; r < rows; ++r) {
        const int16_t *in = input + r * in_features;
        for (int32_t o = 0; o < out_features; ++o) {
            const int8_t *w = p->weights + o * in_features;
            int64_t acc = p->bias[o];
            for (int32_t i = 0; i < in_features; ++i) {
                acc += (int32_t)in[i] * w[i];
            }
            const int64_t y = mcu_multiply_by_quantized_multiplier_s64(acc, p->out_mult[o], p->out_shift[o]);
            output[r * out_features + o] = (int16_t)mcu_clamp_s64(y, act_min, act_max);
        }
    }
}
