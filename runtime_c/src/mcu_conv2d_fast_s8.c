/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_window.h"

/* mcu_conv2d_s8 for dilation_w 1, four output channels per pass over each window: every input value loaded
 * feeds four multiply-accumulates (mcu_conv2d_s8 reloads the window for every channel), and each kernel row is
 * one loop over a run of memory. A last group of fewer than four channels repeats its first filter in the
 * unused lanes and discards them. */
MCU_KERNEL void mcu_conv2d_fast_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
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
                const mcu_rows4_t r = mcu_rows4(p->filter, p->bias, oc, out_c, filter_size);
                const int8_t *f0 = r.w0, *f1 = r.w1, *f2 = r.w2, *f3 = r.w3;
                int32_t acc0 = r.b0, acc1 = r.b1, acc2 = r.b2, acc3 = r.b3;
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    /* dilation_w 1: the taps of a kernel row inside the input are one run of memory, in the
                     * input and in each filter alike */
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin) * in_c;
                    const int32_t tap = (ky * kernel_w + w.kx_begin) * in_c;
                    for (int32_t i = 0; i < run; ++i) {
                        const int32_t x = in[i] - input_zp;
                        acc0 += x * f0[tap + i];
                        acc1 += x * f1[tap + i];
                        acc2 += x * f2[tap + i];
                        acc3 += x * f3[tap + i];
                    }
                }
                mcu_store4_s8(q, out, oc, r.n, acc0, acc1, acc2, acc3);
            }
        }
    }
}
