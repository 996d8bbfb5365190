/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_conv2d_mve_s8 for kernel rows of eight values or fewer (kernel_w * in_c <= 8: a first layer on one to
 * three channels): eight taps at a time as int16 lanes minus the zero point, one VMLADAVA per filter (the last
 * step's missing lanes load as 0 and add nothing), no filter sums; the four channels requantized as one vector. */
MCU_KERNEL void mcu_conv2d_narrow_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, in_c = p->in_c;
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp, dilation_h = p->dilation_h;
    const int32_t filter_size = kernel_h * kernel_w * in_c;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            const int32_t run = (w.kx_end - w.kx_begin) * in_c;
            int8_t *out = output + (oy * out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 4) {
                const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
                const int8_t *f0 = p->filter + oc * filter_size;
                const int8_t *f1 = n > 1 ? f0 + filter_size : f0;
                const int8_t *f2 = n > 2 ? f0 + 2 * filter_size : f0;
                const int8_t *f3 = n > 3 ? f0 + 3 * filter_size : f0;
                int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin) * in_c;
                    const int32_t tap = (ky * kernel_w + w.kx_begin) * in_c;
                    for (int32_t i = 0; i < run; i += 8) {
                        const mve_pred16_t lanes = vctp16q((uint32_t)(run - i));
                        const int16x8_t x = vsubq_n_s16(vldrbq_z_s16(in + i, lanes), (int16_t)input_zp);
                        acc0 = vmladavaq_s16(acc0, x, vldrbq_z_s16(f0 + tap + i, lanes));
                        acc1 = vmladavaq_s16(acc1, x, vldrbq_z_s16(f1 + tap + i, lanes));
                        acc2 = vmladavaq_s16(acc2, x, vldrbq_z_s16(f2 + tap + i, lanes));
                        acc3 = vmladavaq_s16(acc3, x, vldrbq_z_s16(f3 + tap + i, lanes));
                    }
                }
                const int32_t sums[4] = {acc0, acc1, acc2, acc3};
                const mve_pred16_t lanes = vctp32q((uint32_t)n);
                const int32x4_t acc = vaddq_s32(vldrwq_s32(sums), vldrwq_z_s32(p->bias + oc, lanes));
                mcu_store_mve_s8(out + oc, acc, q.mult + oc, q.shift + oc, q.zp, q.act_min, q.act_max,
                                 lanes);
            }
        }
    }
}
#else
typedef int mcu_conv2d_narrow_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
