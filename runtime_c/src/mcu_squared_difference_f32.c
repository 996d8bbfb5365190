/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_squared_difference_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2,
                                           float *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the inputs' offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const float d = input1[p->rank ? w1.offset : i] - input2[p->rank ? w2.offset : i];
        output[i] = d * d;
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
