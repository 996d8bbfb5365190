/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_maximum_s16(const mcu_maximum_params_t *p, const int16_t *input1, const int16_t *input2,
                                int16_t *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the inputs' offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t y1 = mcu_multiply_by_quantized_multiplier(input1[p->rank ? w1.offset : i] - p->input1_zp,
                                                                p->input1_mult, p->input1_shift);
        const int32_t y2 = mcu_multiply_by_quantized_multiplier(input2[p->rank ? w2.offset : i] - p->input2_zp,
                                                                p->input2_mult, p->input2_shift);
        const int32_t y = p->minimum ? (y1 < y2 ? y1 : y2) : (y1 > y2 ? y1 : y2);
        output[i] = (int16_t)mcu_clamp(y + p->output_zp, p->q_min, p->q_max);
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
