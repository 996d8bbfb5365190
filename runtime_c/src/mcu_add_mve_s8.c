/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"

#if MCU_HAS_MVE
typedef struct {
    mcu_requant_n_t in1, in2, out;      /* the inputs' left shift includes p->left_shift (see mcu_add_mve_s8) */
    int32_t zp1, zp2, zp;
    int32x4_t act_min, act_max;
} mcu_add_mve_t;

/* Four elements (the lanes `lanes` of them when `tail`): both inputs shifted left and scaled to the common grid,
 * summed (or subtracted), requantized, clamped, stored. */
static MCU_ALWAYS_INLINE void mcu_add_mve4(const mcu_add_mve_t *a, const int8_t *input1, const int8_t *input2,
                                           int8_t *output, int subtract, int tail, mve_pred16_t lanes)
{
    /* (x - zp) fits in 9 bits: shifted by 20 it stays inside int32, as in mcu_add_s8 */
    const int32x4_t x1 = tail ? vldrbq_z_s32(input1, lanes) : vldrbq_s32(input1);
    const int32x4_t x2 = tail ? vldrbq_z_s32(input2, lanes) : vldrbq_s32(input2);
    const int32x4_t s1 = mcu_requantize_n_mve(vsubq_n_s32(x1, a->zp1), a->in1);
    const int32x4_t s2 = mcu_requantize_n_mve(vsubq_n_s32(x2, a->zp2), a->in2);
    const int32x4_t sum = subtract ? vsubq_s32(s1, s2) : vaddq_s32(s1, s2);
    const int32x4_t y = vaddq_n_s32(mcu_requantize_n_mve(sum, a->out), a->zp);
    const int32x4_t clamped = vminq_s32(vmaxq_s32(y, a->act_min), a->act_max);
    if (tail) {
        vstrbq_p_s32(output, clamped, lanes);
    } else {
        vstrbq_s32(output, clamped);
    }
}

/* every element: whole vectors, then the last one to three predicated (inlined with a constant subtract) */
static MCU_ALWAYS_INLINE void mcu_add_mve_loop(const mcu_add_mve_t *a, const int8_t *input1, const int8_t *input2,
                                               int8_t *output, int32_t size, int subtract)
{
    const int32_t size4 = size & ~3;
    int32_t i = 0;
    for (; i < size4; i += 4) {
        mcu_add_mve4(a, input1 + i, input2 + i, output + i, subtract, 0, vctp32q(4));
    }
    if (i < size) {
        mcu_add_mve4(a, input1 + i, input2 + i, output + i, subtract, 1, vctp32q((uint32_t)(size - i)));
    }
}

/* mcu_add_s8 (ADD, or SUB with subtract = 1) without broadcasting on Helium, four elements per vector (int8 loads
 * widened to int32 lanes), the three per-tensor requantizations by mcu_requantize_n_mve (their multipliers and
 * shifts in scalar registers); the last one to three elements predicated. */
MCU_KERNEL void mcu_add_mve_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    mcu_add_mve_t a;
    a.in1 = mcu_requant_n(p->input1_mult, p->input1_shift);
    a.in2 = mcu_requant_n(p->input2_mult, p->input2_shift);
    /* (x - zp) << left_shift never saturates: with the requantization's saturating left shift, one shift */
    a.in1.left += p->left_shift;
    a.in2.left += p->left_shift;
    a.out = mcu_requant_n(p->output_mult, p->output_shift);
    a.zp1 = p->input1_zp;
    a.zp2 = p->input2_zp;
    a.zp = p->output_zp;
    a.act_min = vdupq_n_s32(p->act_min);
    a.act_max = vdupq_n_s32(p->act_max);
    if (p->subtract) {
        mcu_add_mve_loop(&a, input1, input2, output, p->size, 1);
    } else {
        mcu_add_mve_loop(&a, input1, input2, output, p->size, 0);
    }
}
#else
typedef int mcu_add_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
