/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_depthwise_conv2d_fast_s8 on Helium: four channels per vector (int8 loads widened to int32 lanes), two
 * vectors per pass, one multiply-add per tap and vector; then a group of four, and the last one to three channels
 * predicated. Requantized four lanes at a time. */
MCU_KERNEL void mcu_depthwise_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, channels = p->out_c, channels4 = channels & ~3, channels8 = channels & ~7;
    const int32_t out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_w = p->kernel_w, dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t in_step = dilation_w * channels, input_zp = p->input_zp;
    const int8_t *filter = p->filter;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * channels;
            int32_t c = 0;
            for (; c < channels8; c += 8) { /* two vectors per pass: each tap's loop step serves eight channels */
                int32x4_t acc0 = vldrwq_s32(p->bias + c), acc1 = vldrwq_s32(p->bias + c + 4);
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin * dilation_w)
                                                   * channels + c;
                    const int8_t *f = filter + (ky * kernel_w + w.kx_begin) * channels + c;
                    for (int32_t n = w.kx_end - w.kx_begin; n > 0; --n) {
                        const int32x4_t x0 = vsubq_n_s32(vldrbq_s32(in), input_zp);
                        const int32x4_t x1 = vsubq_n_s32(vldrbq_s32(in + 4), input_zp);
                        acc0 = vaddq_s32(acc0, vmulq_s32(x0, vldrbq_s32(f)));
                        acc1 = vaddq_s32(acc1, vmulq_s32(x1, vldrbq_s32(f + 4)));
                        in += in_step;
                        f += channels;
                    }
                }
                mcu_store_mve_s8(out + c, acc0, q.mult + c, q.shift + c, q.zp, q.act_min, q.act_max, vctp32q(4));
                mcu_store_mve_s8(out + c + 4, acc1, q.mult + c + 4, q.shift + c + 4, q.zp, q.act_min, q.act_max,
                                 vctp32q(4));
            }
            for (; c < channels4; c += 4) { /* whole vectors: no predication */
                int32x4_t acc = vldrwq_s32(p->bias + c);
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin * dilation_w)
                                                   * channels + c;
                    const int8_t *f = filter + (ky * kernel_w + w.kx_begin) * channels + c;
                    for (int32_t n = w.kx_end - w.kx_begin; n > 0; --n) {
                        const int32x4_t x = vsubq_n_s32(vldrbq_s32(in), input_zp);
                        acc = vaddq_s32(acc, vmulq_s32(x, vldrbq_s32(f))); /* MVE has no lane-wise MLA */
                        in += in_step;
                        f += channels;
                    }
                }
                mcu_store_mve_s8(out + c, acc, q.mult + c, q.shift + c, q.zp, q.act_min, q.act_max, vctp32q(4));
            }
            if (c < channels) { /* the last one to three channels: the lanes beyond them predicated off */
                const mve_pred16_t lanes = vctp32q((uint32_t)(channels - c));
                int32x4_t acc = vldrwq_z_s32(p->bias + c, lanes);
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin * dilation_w)
                                                   * channels + c;
                    const int8_t *f = filter + (ky * kernel_w + w.kx_begin) * channels + c;
                    for (int32_t n = w.kx_end - w.kx_begin; n > 0; --n) {
                        const int32x4_t x = vsubq_n_s32(vldrbq_z_s32(in, lanes), input_zp);
                        acc = vaddq_s32(acc, vmulq_s32(x, vldrbq_z_s32(f, lanes)));
                        in += in_step;
                        f += channels;
                    }
                }
                mcu_store_mve_s8(out + c, acc, q.mult + c, q.shift + c, q.zp, q.act_min, q.act_max, lanes);
            }
        }
    }
}
#else
typedef int mcu_depthwise_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
