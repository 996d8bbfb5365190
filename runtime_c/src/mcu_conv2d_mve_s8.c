/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* four filters' products with sixteen inputs, and (at the border) the filters' sums over the same taps */
typedef struct {
    int32_t acc0, acc1, acc2, acc3, sum0, sum1, sum2, sum3;
} mcu_conv_sums_t;

static MCU_ALWAYS_INLINE void mcu_conv_taps_mve(mcu_conv_sums_t *t, int8x16_t x, int8x16_t w0, int8x16_t w1,
                                                int8x16_t w2, int8x16_t w3, int with_sums)
{
    t->acc0 = vmladavaq_s8(t->acc0, x, w0);
    t->acc1 = vmladavaq_s8(t->acc1, x, w1);
    t->acc2 = vmladavaq_s8(t->acc2, x, w2);
    t->acc3 = vmladavaq_s8(t->acc3, x, w3);
    if (with_sums) {
        t->sum0 = vaddvaq_s8(t->sum0, w0);
        t->sum1 = vaddvaq_s8(t->sum1, w1);
        t->sum2 = vaddvaq_s8(t->sum2, w2);
        t->sum3 = vaddvaq_s8(t->sum3, w3);
    }
}

/* Four output channels from `oc` of one position: each kernel row's run (dilation_w 1) sixteen taps at a time, one
 * VMLADAVA per filter (the last step's missing lanes load as 0 and add nothing). At the border the zero point's
 * share is subtracted once from the filter's sum over the taps inside the input (VADDVA); a position whose window
 * lies inside the input (`inside`) needs no sums: its bias holds the zero point already. */
static MCU_ALWAYS_INLINE void mcu_conv_group_mve(const mcu_conv2d_params_t *p, const int8_t *input,
                                                 const mcu_window_t *w, int32_t oc, int inside,
                                                 const int32_t *bias, mcu_requant_s8_t q, int8_t *out)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, kernel_w = p->kernel_w;
    const int32_t ky_begin = inside ? 0 : w->ky_begin, ky_end = inside ? p->kernel_h : w->ky_end;
    const int32_t kx_begin = inside ? 0 : w->kx_begin, kx_end = inside ? kernel_w : w->kx_end;
    const int32_t run = (kx_end - kx_begin) * in_c;
    const mcu_rows4_t r = mcu_rows4(p->filter, bias, oc, out_c, p->kernel_h * kernel_w * in_c);
    mcu_conv_sums_t t = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
        const int32_t tap = (ky * kernel_w + kx_begin) * in_c;
        const int8_t *a = input + ((w->in_y0 + ky * p->dilation_h) * p->in_w + w->in_x0 + kx_begin) * in_c;
        const int8_t *b0 = r.w0 + tap, *b1 = r.w1 + tap, *b2 = r.w2 + tap, *b3 = r.w3 + tap;
        for (int32_t n16 = run >> 4; n16 > 0; --n16) { /* whole vectors: no predication */
            mcu_conv_taps_mve(&t, vldrbq_s8(a), vldrbq_s8(b0), vldrbq_s8(b1), vldrbq_s8(b2), vldrbq_s8(b3), !inside);
            a += 16;
            b0 += 16;
            b1 += 16;
            b2 += 16;
            b3 += 16;
        }
        if (run & 15) { /* the rest of the row: the lanes beyond it load as 0 */
            const mve_pred16_t lanes = vctp8q((uint32_t)(run & 15));
            mcu_conv_taps_mve(&t, vldrbq_z_s8(a, lanes), vldrbq_z_s8(b0, lanes), vldrbq_z_s8(b1, lanes),
                              vldrbq_z_s8(b2, lanes), vldrbq_z_s8(b3, lanes), !inside);
        }
    }
    const int32_t zp = inside ? 0 : p->input_zp;
    const int32_t sums[4] = {t.acc0 - zp * t.sum0, t.acc1 - zp * t.sum1, t.acc2 - zp * t.sum2, t.acc3 - zp * t.sum3};
    const mve_pred16_t lanes = vctp32q((uint32_t)r.n);
    const int32x4_t acc = vaddq_s32(vldrwq_s32(sums), vldrwq_z_s32(bias + oc, lanes));
    mcu_store_mve_s8(out + oc, acc, q.mult + oc, q.shift + oc, q.zp, q.act_min, q.act_max, lanes);
}

/* mcu_conv2d_fast_s8 on Helium, four output channels per pass (mcu_conv_group_mve), requantized as one vector. */
MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    /* without padding the bias holds the zero point already (and input_zp is 0) */
    const int32_t *interior_bias = p->interior_bias ? p->interior_bias : p->input_zp == 0 ? p->bias : 0;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * out_c;
            if (interior_bias && w.ky_begin == 0 && w.ky_end == p->kernel_h && w.kx_begin == 0
                && w.kx_end == p->kernel_w) {
                for (int32_t oc = 0; oc < out_c; oc += 4) {
                    mcu_conv_group_mve(p, input, &w, oc, 1, interior_bias, q, out);
                }
            } else {
                for (int32_t oc = 0; oc < out_c; oc += 4) {
                    mcu_conv_group_mve(p, input, &w, oc, 0, p->bias, q, out);
                }
            }
        }
    }
}
#else
typedef int mcu_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
