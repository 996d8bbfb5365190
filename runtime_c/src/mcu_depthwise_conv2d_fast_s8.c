/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_window.h"

/* mcu_depthwise_conv2d_s8 for depth multiplier 1, four channels per pass: the window's taps are walked once
 * for four neighbouring channels, whose inputs and filters are adjacent in memory; the last channels one by
 * one. */
MCU_KERNEL void mcu_depthwise_conv2d_fast_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, channels = p->out_c, channels4 = channels & ~3;
    const int32_t out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * channels;
            int32_t c = 0;
            for (; c < channels4; c += 4) {
                int32_t acc0 = p->bias[c], acc1 = p->bias[c + 1], acc2 = p->bias[c + 2], acc3 = p->bias[c + 3];
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int32_t in_y = w.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = w.kx_begin; kx < w.kx_end; ++kx) {
                        const int8_t *in = input + (in_y * in_w + w.in_x0 + kx * p->dilation_w) * channels + c;
                        const int8_t *f = p->filter + (ky * kernel_w + kx) * channels + c;
                        acc0 += (in[0] - input_zp) * f[0];
                        acc1 += (in[1] - input_zp) * f[1];
                        acc2 += (in[2] - input_zp) * f[2];
                        acc3 += (in[3] - input_zp) * f[3];
                    }
                }
                mcu_store4_s8(q, out, c, 4, acc0, acc1, acc2, acc3);
            }
            for (; c < channels; ++c) { /* the last channels, one at a time */
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
