/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h" /* mcu_quantize_row_s8, mcu_hybrid_output */

MCU_KERNEL void mcu_fully_connected_hybrid(const mcu_fully_connected_hybrid_params_t *p, const float *input,
                                           float *output, void *scratch)
{
    int8_t *const q = (int8_t *)scratch; /* the input quantized to int8 */
    const int32_t in_features = p->in_features, out_features = p->out_features;
    for (int32_t r = 0; r < p->rows; ++r) {
        float input_scale;
        int32_t zp;
        mcu_quantize_row_s8(input + r * in_features, in_features, q, &input_scale, &zp);
        for (int32_t o = 0; o < out_features; ++o) {
            const int8_t *w = p->weights + o * in_features;
            int32_t acc = 0;
            for (int32_t i = 0; i < in_features; ++i) {
                acc += (int32_t)w[i] * ((int32_t)q[i] - zp);
            }
            output[r * out_features + o] = mcu_hybrid_output(acc, input_scale, p->weight_scales[o], p->bias[o],
                                                             p->act_min, p->act_max);
        }
    }
}
