/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_prelu_s8(const mcu_prelu_params_t *p, const int8_t *input, int8_t *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the input's and alpha's offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = input[p->rank ? w1.offset : i] - p->input_zp;
        /* |x|, |alpha - zp| <= 255: the product fits in int32 */
        const int32_t y = x >= 0 ? mcu_multiply_by_quantized_multiplier(x, p->identity_mult, p->identity_shift)
                                 : mcu_multiply_by_quantized_multiplier(
                                       x * (p->alpha[p->rank ? w2.offset : i] - p->alpha_zp), p->alpha_mult,
                                       p->alpha_shift);
        output[i] = (int8_t)mcu_clamp(y + p->output_zp, p->q_min, p->q_max);
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
