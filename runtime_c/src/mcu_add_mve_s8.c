/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"

#if MCU_HAS_MVE
/* mcu_add_s8 (ADD, or SUB with subtract = 1) without broadcasting on Helium, four elements per vector (int8 loads widened to int32 lanes), the three requantizations
 * by mcu_requantize_mve; the last vector's missing lanes are predicated off. */
MCU_KERNEL void mcu_add_mve_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t size = p->size, zp1 = p->input1_zp, zp2 = p->input2_zp, left = p->left_shift;
    const int32x4_t mult1 = vdupq_n_s32(p->input1_mult), shift1 = vdupq_n_s32(p->input1_shift);
    const int32x4_t mult2 = vdupq_n_s32(p->input2_mult), shift2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t mult = vdupq_n_s32(p->output_mult), shift = vdupq_n_s32(p->output_shift);
    const int32x4_t act_min = vdupq_n_s32(p->act_min), act_max = vdupq_n_s32(p->act_max);
    const int32_t zp = p->output_zp, subtract = p->subtract;
    for (int32_t i = 0; i < size; i += 4) {
        const mve_pred16_t lanes = vctp32q((uint32_t)(size - i));
        /* (x - zp) fits in 9 bits: shifted by 20 it stays inside int32, as in mcu_add_s8 */
        const int32x4_t a = vshlq_s32(vsubq_n_s32(vldrbq_z_s32(input1 + i, lanes), zp1), vdupq_n_s32(left));
        const int32x4_t b = vshlq_s32(vsubq_n_s32(vldrbq_z_s32(input2 + i, lanes), zp2), vdupq_n_s32(left));
        const int32x4_t scaled2 = mcu_requantize_mve(b, mult2, shift2);
        const int32x4_t sum = vaddq_s32(mcu_requantize_mve(a, mult1, shift1), subtract ? vnegq_s32(scaled2) : scaled2);
        const int32x4_t y = vaddq_n_s32(mcu_requantize_mve(sum, mult, shift), zp);
        vstrbq_p_s32(output + i, vminq_s32(vmaxq_s32(y, act_min), act_max), lanes);
    }
}
#else
typedef int mcu_add_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
