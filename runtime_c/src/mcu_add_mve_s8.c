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

/* A layer's requantizations in fewer instructions than mcu_requantize_n_mve, the same integers, where every
 * shift is <= -1, or 0 with the multiplier 2^30 (prepare's input of the larger scale: s / (2 s) = 1/2), and every
 * multiplier >= 0: no left shift; the high-mul h (VQRDMULH: the multiplier is >= 0, no saturation); the rounding
 * divide by 2^e (ties away from zero) VRSHL by -e of h - [h < 0] = h + (h >> 31) (mcu_requant_round_mve). An
 * input's (x - zp) * 2^left_shift is one VMLAS: x * 2^left_shift - zp * 2^left_shift (9 bits shifted by 20:
 * inside int32). The input of shift 0 takes one more bit and shift -1: its high-mul of (x - zp) 2^21 by 2^30 is
 * (x - zp) 2^20 exactly, divided by 2 exactly, as the other's (x - zp) 2^19. */
typedef struct {
    int32_t zp1, zp2, zp;               /* -zp * 2^(the input's left shift); the output's zero point */
    int32_t m1, m2, m, r1, r2, r;       /* multipliers, shifts (<= -1) */
    int32x4_t scale1, scale2, act_min, act_max; /* 2^(the input's left shift) in every lane */
} mcu_add_short_mve_t;

static MCU_ALWAYS_INLINE int32x4_t mcu_add_short_rq(int32x4_t x, int32_t m, int32_t shift)
{
    const int32x4_t h = vqrdmulhq_n_s32(x, m);
    return vrshlq_n_s32(vaddq_s32(h, vshrq_n_s32(h, 31)), shift);
}

static MCU_ALWAYS_INLINE void mcu_add_short_mve4(const mcu_add_short_mve_t *a, const int8_t *input1,
                                                 const int8_t *input2, int8_t *output, int subtract, int tail,
                                                 mve_pred16_t lanes)
{
    const int32x4_t x1 = tail ? vldrbq_z_s32(input1, lanes) : vldrbq_s32(input1);
    const int32x4_t x2 = tail ? vldrbq_z_s32(input2, lanes) : vldrbq_s32(input2);
    const int32x4_t s1 = mcu_add_short_rq(vmlasq_n_s32(x1, a->scale1, a->zp1), a->m1, a->r1);
    const int32x4_t s2 = mcu_add_short_rq(vmlasq_n_s32(x2, a->scale2, a->zp2), a->m2, a->r2);
    const int32x4_t sum = subtract ? vsubq_s32(s1, s2) : vaddq_s32(s1, s2);
    const int32x4_t y = vaddq_n_s32(mcu_add_short_rq(sum, a->m, a->r), a->zp);
    const int32x4_t clamped = vminq_s32(vmaxq_s32(y, a->act_min), a->act_max);
    if (tail) {
        vstrbq_p_s32(output, clamped, lanes);
    } else {
        vstrbq_s32(output, clamped);
    }
}

/* every element: whole vectors, then the last one to three predicated (inlined with constant subtract and
 * `short_form`: a is then an mcu_add_short_mve_t) */
static MCU_ALWAYS_INLINE void mcu_add_mve_loop(const void *a, const int8_t *input1, const int8_t *input2,
                                               int8_t *output, int32_t size, int subtract, int short_form)
{
    const int32_t size4 = size & ~3;
    int32_t i = 0;
    for (; i < size4; i += 4) {
        if (short_form) {
            mcu_add_short_mve4(a, input1 + i, input2 + i, output + i, subtract, 0, vctp32q(4));
        } else {
            mcu_add_mve4(a, input1 + i, input2 + i, output + i, subtract, 0, vctp32q(4));
        }
    }
    if (i < size) {
        if (short_form) {
            mcu_add_short_mve4(a, input1 + i, input2 + i, output + i, subtract, 1, vctp32q((uint32_t)(size - i)));
        } else {
            mcu_add_mve4(a, input1 + i, input2 + i, output + i, subtract, 1, vctp32q((uint32_t)(size - i)));
        }
    }
}

/* an input's short form (its left shift, multiplier and shift; 0 where it has none) */
static int mcu_add_short_input(int32_t left, int32_t mult, int32_t shift, int32_t *l, int32_t *m, int32_t *r)
{
    *m = mult;
    *l = shift == 0 ? left + 1 : left;
    *r = shift == 0 ? -1 : shift;
    return mult >= 0 && (shift <= -1 || (shift == 0 && mult == 1 << 30));
}

/* the short form's constants where every requantization has one (else 0: the exact form) */
static int mcu_add_short_of(const mcu_add_params_t *p, mcu_add_short_mve_t *a)
{
    int32_t l1, l2;
    if (!mcu_add_short_input(p->left_shift, p->input1_mult, p->input1_shift, &l1, &a->m1, &a->r1) ||
        !mcu_add_short_input(p->left_shift, p->input2_mult, p->input2_shift, &l2, &a->m2, &a->r2) ||
        p->output_mult < 0 || p->output_shift > -1) {
        return 0;
    }
    a->zp1 = -p->input1_zp * (1 << l1);
    a->zp2 = -p->input2_zp * (1 << l2);
    a->zp = p->output_zp;
    a->m = p->output_mult;
    a->r = p->output_shift;
    a->scale1 = vdupq_n_s32(1 << l1);
    a->scale2 = vdupq_n_s32(1 << l2);
    a->act_min = vdupq_n_s32(p->act_min);
    a->act_max = vdupq_n_s32(p->act_max);
    return 1;
}

/* mcu_add_s8 (ADD, or SUB with subtract = 1) without broadcasting on Helium, four elements per vector (int8 loads
 * widened to int32 lanes), the three per-tensor requantizations by mcu_requantize_n_mve (their multipliers and
 * shifts in scalar registers); the last one to three elements predicated. */
MCU_KERNEL void mcu_add_mve_s8(const mcu_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    mcu_add_short_mve_t s;
    if (mcu_add_short_of(p, &s)) {
        if (p->subtract) {
            mcu_add_mve_loop(&s, input1, input2, output, p->size, 1, 1);
        } else {
            mcu_add_mve_loop(&s, input1, input2, output, p->size, 0, 1);
        }
        return;
    }
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
        mcu_add_mve_loop(&a, input1, input2, output, p->size, 1, 0);
    } else {
        mcu_add_mve_loop(&a, input1, input2, output, p->size, 0, 0);
    }
}
#else
typedef int mcu_add_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
