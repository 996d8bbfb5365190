/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_mul_s16(const mcu_mul_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    mcu_strided_walk_t w1 = {{0}, 0}, w2 = {{0}, 0};   /* broadcast: the inputs' offsets of output i */
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t i1 = p->rank ? w1.offset : i;
        const int32_t i2 = p->rank ? w2.offset : i;
        /* |x - zp| <= 32768: the product fits in int32 */
        const int32_t product = (input1[i1] - p->input1_zp) * (input2[i2] - p->input2_zp);
        const int32_t out = mcu_multiply_by_quantized_multiplier(product, p->output_mult, p->output_shift);
        output[i] = (int16_t)mcu_clamp(out + p->output_zp, p->act_min, p->act_max);
        mcu_strided_step(&w1, p->rank, p->dims, p->input1_strides);
        mcu_strided_step(&w2, p->rank, p->dims, p->input2_strides);
    }
}
