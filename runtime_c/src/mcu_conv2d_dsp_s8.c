/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_window.h"
#include "mcu_simd.h"

#if MCU_HAS_DSP
/* mcu_conv2d_fast_s8 with four input channels per step: one word of input (minus the zero point, as int16
 * pairs) against one word of each of four filters, two SMLADs each. */
MCU_KERNEL void mcu_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, in_c = p->in_c, in_c4 = in_c & ~3;
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp, zp2 = mcu_pair_s16(p->input_zp);
    const int32_t filter_size = kernel_h * kernel_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 4) {
                const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
                const int8_t *f0 = p->filter + oc * filter_size;
                const int8_t *f1 = n > 1 ? f0 + filter_size : f0;
                const int8_t *f2 = n > 2 ? f0 + 2 * filter_size : f0;
                const int8_t *f3 = n > 3 ? f0 + 3 * filter_size : f0;
                int32_t acc0 = p->bias[oc], acc1 = n > 1 ? p->bias[oc + 1] : 0;
                int32_t acc2 = n > 2 ? p->bias[oc + 2] : 0, acc3 = n > 3 ? p->bias[oc + 3] : 0;
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int32_t in_y = w.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = w.kx_begin; kx < w.kx_end; ++kx) {
                        const int8_t *in = input + (in_y * in_w + w.in_x0 + kx * p->dilation_w) * in_c;
                        const int32_t tap = (ky * kernel_w + kx) * in_c;
                        int32_t ic = 0;
                        for (; ic < in_c4; ic += 4) {
                            const int32_t xw = mcu_load_s8x4(in + ic);
                            const int32_t xe = mcu_even_s8x4(xw, zp2), xo = mcu_odd_s8x4(xw, zp2);
                            const int32_t w0 = mcu_load_s8x4(f0 + tap + ic), w1 = mcu_load_s8x4(f1 + tap + ic);
                            const int32_t w2 = mcu_load_s8x4(f2 + tap + ic), w3 = mcu_load_s8x4(f3 + tap + ic);
                            acc0 = __smlad(xe, __sxtb16(w0), __smlad(xo, mcu_sxtb16_ror8(w0), acc0));
                            acc1 = __smlad(xe, __sxtb16(w1), __smlad(xo, mcu_sxtb16_ror8(w1), acc1));
                            acc2 = __smlad(xe, __sxtb16(w2), __smlad(xo, mcu_sxtb16_ror8(w2), acc2));
                            acc3 = __smlad(xe, __sxtb16(w3), __smlad(xo, mcu_sxtb16_ror8(w3), acc3));
                        }
                        for (; ic < in_c; ++ic) {
                            const int32_t x = in[ic] - input_zp;
                            acc0 += x * f0[tap + ic];
                            acc1 += x * f1[tap + ic];
                            acc2 += x * f2[tap + ic];
                            acc3 += x * f3[tap + ic];
                        }
                    }
                }
                mcu_conv_store_s8(p, out, oc, n, acc0, acc1, acc2, acc3);
            }
        }
    }
}
#else
typedef int mcu_conv2d_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
