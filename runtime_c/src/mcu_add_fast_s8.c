/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

/* mcu_add_s8 (ADD, or SUB with subtract = 1) without broadcasting (rank 0), its parameters in locals (an int8
 * store may alias the params struct, which would reload every field for every element) and mcu_requantize, the
 * same integers in fewer instructions. */
MCU_KERNEL void mcu_add_fast_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = p->size, zp1 = p->input1_zp, zp2 = p->input2_zp, left = 1 << p->left_shift;
    const int32_t mult1 = p->input1_mult, shift1 = p->input1_shift, mult2 = p->input2_mult, shift2 = p->input2_shift;
    const int32_t mult = p->output_mult, shift = p->output_shift, zp = p->output_zp;
    const int32_t act_min = p->act_min, act_max = p->act_max, sign = p->subtract ? -1 : 1;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t scaled1 = mcu_requantize((input1[i] - zp1) * left, mult1, shift1);
        const int32_t scaled2 = mcu_requantize((input2[i] - zp2) * left, mult2, shift2);
        output[i] = (int8_t)mcu_clamp(mcu_requantize(scaled1 + sign * scaled2, mult, shift) + zp, act_min, act_max);
    }
}
