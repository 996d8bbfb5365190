/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_softmax_f32(const mcu_softmax_f32_params_t *p, const float *input, float *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const float *in = input + r * p->depth;
        float *out = output + r * p->depth;
        float max = in[0];
        for (int32_t c = 1; c < p->depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        /* the exponentials go into the output row (element c after in[c] is read: in place is safe) */
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            out[c] = expf((in[c] - max) * p->beta);
            sum += out[c];
        }
        const float inverse = 1.0f / sum;
        for (int32_t c = 0; c < p->depth; ++c) {
            out[c] *= inverse;
        }
    }
}
