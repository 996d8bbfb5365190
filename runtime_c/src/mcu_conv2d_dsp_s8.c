/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_window.h"
#include "mcu_simd.h"

#if MCU_HAS_DSP
/* mcu_conv2d_fast_s8 four taps per step: one word of input (minus the zero point, as int16 pairs) against one
 * word of each of four filters, two SMLADs each; a kernel row's run (dilation_w 1) makes the words. */
MCU_KERNEL void mcu_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, in_c = p->in_c, dilation_h = p->dilation_h;
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp, zp2 = mcu_pair_s16(p->input_zp);
    const int32_t filter_size = kernel_h * kernel_w * in_c;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            const int32_t run = (w.kx_end - w.kx_begin) * in_c; /* dilation_w 1: a kernel row is one run */
            int8_t *out = output + (oy * out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 4) {
                const mcu_rows4_t r = mcu_rows4(p->filter, p->bias, oc, out_c, filter_size);
                const int8_t *f0 = r.w0, *f1 = r.w1, *f2 = r.w2, *f3 = r.w3;
                int32_t acc0 = r.b0, acc1 = r.b1, acc2 = r.b2, acc3 = r.b3;
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int8_t *in = input + ((w.in_y0 + ky * dilation_h) * in_w + w.in_x0 + w.kx_begin) * in_c;
                    const int32_t tap = (ky * kernel_w + w.kx_begin) * in_c;
                    const int8_t *a = in, *b0 = f0 + tap, *b1 = f1 + tap, *b2 = f2 + tap, *b3 = f3 + tap;
                    for (int32_t n4 = run >> 2; n4 > 0; --n4) {
                        const int32_t xw = mcu_load_s8x4(a);
                        const int32_t xe = mcu_even_s8x4(xw, zp2), xo = mcu_odd_s8x4(xw, zp2);
                        const int32_t w0 = mcu_load_s8x4(b0), w1 = mcu_load_s8x4(b1);
                        const int32_t w2 = mcu_load_s8x4(b2), w3 = mcu_load_s8x4(b3);
                        a += 4;
                        b0 += 4;
                        b1 += 4;
                        b2 += 4;
                        b3 += 4;
                        acc0 = __smlad(xe, __sxtb16(w0), __smlad(xo, mcu_sxtb16_ror8(w0), acc0));
                        acc1 = __smlad(xe, __sxtb16(w1), __smlad(xo, mcu_sxtb16_ror8(w1), acc1));
                        acc2 = __smlad(xe, __sxtb16(w2), __smlad(xo, mcu_sxtb16_ror8(w2), acc2));
                        acc3 = __smlad(xe, __sxtb16(w3), __smlad(xo, mcu_sxtb16_ror8(w3), acc3));
                    }
                    for (int32_t i = run & ~3; i < run; ++i) {
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
#else
typedef int mcu_conv2d_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
