/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_maximum_f32(const mcu_maximum_f32_params_t *p, const float *input1, const float *input2,
                                float *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the inputs' offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const float a = input1[p->rank ? w1.offset : i];
        const float b = input2[p->rank ? w2.offset : i];
        output[i] = p->minimum ? (a < b ? a : b) : (a > b ? a : b);
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
