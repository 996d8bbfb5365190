/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_squared_difference_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2,
                                          int8_t *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the inputs' offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t i1 = p->rank ? w1.offset : i;
        const int32_t i2 = p->rank ? w2.offset : i;
        const int32_t diff = mcu_add_operand(input1[i1], p->input1_zp, p->left_shift, p->input1_mult, p->input1_shift) -
                             mcu_add_operand(input2[i2], p->input2_zp, p->left_shift, p->input2_mult, p->input2_shift);
        /* |diff| <= 255 * 2^7: its square fits in int32 */
        const int32_t out = mcu_multiply_by_quantized_multiplier(diff * diff, p->output_mult, p->output_shift);
        output[i] = (int8_t)mcu_clamp(out + p->output_zp, p->act_min, p->act_max);
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
