/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_prelu_f32(const mcu_prelu_f32_params_t *p, const float *input, float *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the input's and alpha's offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const float x = input[p->rank ? w1.offset : i];
        output[i] = x >= 0.0f ? x : x * p->alpha[p->rank ? w2.offset : i];
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
