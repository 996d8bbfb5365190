/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_window.h"
#include "mcu_simd.h"

#if MCU_HAS_DSP
/* mcu_depthwise_conv2d_fast_s8 with one word load for four channels' inputs and one for their filter taps:
 * the even lanes (channels 0, 2) and odd lanes (1, 3) as int16 pairs, each channel its own SMLABB / SMLATT. */
MCU_KERNEL void mcu_depthwise_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, channels = p->out_c, channels4 = channels & ~3;
    const int32_t out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_w = p->kernel_w, dilation_h = p->dilation_h, dilation_w = p->dilation_w;
    const int32_t in_step = dilation_w * channels;
    const int8_t *filter = p->filter;
    const int32_t input_zp = p->input_zp, zp2 = mcu_pair_s16(p->input_zp);
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * channels;
            int32_t c = 0;
            for (; c < channels4; c += 4) {
                int32_t acc0 = p->bias[c], acc1 = p->bias[c + 1], acc2 = p->bias[c + 2], acc3 = p->bias[c + 3];
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    /* pointers that step along the kernel row: the loop keeps every value in a register */
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin * dilation_w)
                                                   * channels + c;
                    const int8_t *f = filter + (ky * kernel_w + w.kx_begin) * channels + c;
                    for (int32_t n = w.kx_end - w.kx_begin; n > 0; --n) {
                        const int32_t xw = mcu_load_s8x4(in), fw = mcu_load_s8x4(f);
                        in += in_step;
                        f += channels;
                        const int32_t xe = mcu_even_s8x4(xw, zp2), xo = mcu_odd_s8x4(xw, zp2);
                        const int32_t fe = __sxtb16(fw), fo = mcu_sxtb16_ror8(fw);
                        acc0 = __smlabb(xe, fe, acc0);
                        acc1 = __smlabb(xo, fo, acc1);
                        acc2 = __smlatt(xe, fe, acc2);
                        acc3 = __smlatt(xo, fo, acc3);
                    }
                }
                mcu_store4_s8(q, out, c, 4, acc0, acc1, acc2, acc3);
            }
            for (; c < channels; ++c) {
                int32_t acc = p->bias[c];
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int32_t in_y = w.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = w.kx_begin; kx < w.kx_end; ++kx) {
                        const int32_t x = input[(in_y * in_w + w.in_x0 + kx * p->dilation_w) * channels + c];
                        acc += (x - input_zp) * p->filter[(ky * kernel_w + kx) * channels + c];
                    }
                }
                mcu_store4_s8(q, out, c, 1, acc, 0, 0, 0);
            }
        }
    }
}
#else
typedef int mcu_depthwise_conv2d_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
