/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_conv2d_s8 on Helium (dilation_w 1): each position's window is gathered once into the scratch buffer
 * (kernel_h * kernel_w * in_c bytes of the arena), a tap outside the input filled with the zero point, so every
 * filter is one contiguous run of the OHWI weights against it, sixteen raw int8 products per VMLADAVA, four
 * filters per pass. The bias has the zero point folded in (p->interior_bias; p->bias itself without padding): a
 * filled tap adds zp * w, which the fold takes back, as TFLM skips the tap. */
MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t size = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t *bias = p->interior_bias ? p->interior_bias : p->bias;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    int8_t *window = scratch;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            mcu_conv_gather_window(p, input, oy, ox, window);
            int8_t *out = output + (oy * out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 4) {
                const mcu_rows4_t r = mcu_rows4(p->filter, bias, oc, out_c, size);
                int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
                const int8_t *x = window, *w0 = r.w0, *w1 = r.w1, *w2 = r.w2, *w3 = r.w3;
                for (int32_t n16 = size >> 4; n16 > 0; --n16) { /* whole vectors: no predication */
                    const int8x16_t v = vldrbq_s8(x);
                    acc0 = vmladavaq_s8(acc0, v, vldrbq_s8(w0));
                    acc1 = vmladavaq_s8(acc1, v, vldrbq_s8(w1));
                    acc2 = vmladavaq_s8(acc2, v, vldrbq_s8(w2));
                    acc3 = vmladavaq_s8(acc3, v, vldrbq_s8(w3));
                    x += 16;
                    w0 += 16;
                    w1 += 16;
                    w2 += 16;
                    w3 += 16;
                }
                if (size & 15) { /* the rest: the lanes beyond it load as 0 */
                    const mve_pred16_t lanes = vctp8q((uint32_t)(size & 15));
                    const int8x16_t v = vldrbq_z_s8(x, lanes);
                    acc0 = vmladavaq_s8(acc0, v, vldrbq_z_s8(w0, lanes));
                    acc1 = vmladavaq_s8(acc1, v, vldrbq_z_s8(w1, lanes));
                    acc2 = vmladavaq_s8(acc2, v, vldrbq_z_s8(w2, lanes));
                    acc3 = vmladavaq_s8(acc3, v, vldrbq_z_s8(w3, lanes));
                }
                const int32_t sums[4] = {acc0, acc1, acc2, acc3};
                const mve_pred16_t lanes = vctp32q((uint32_t)r.n);
                const int32x4_t acc = vaddq_s32(vldrwq_s32(sums), vldrwq_z_s32(bias + oc, lanes));
                mcu_store_mve_s8(out + oc, acc, q.mult + oc, q.shift + oc, q.zp, q.act_min, q.act_max, lanes);
            }
        }
    }
}
#else
typedef int mcu_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
