/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_depthwise_dsp.h"

#if MCU_HAS_DSP
/* A position whose window lies inside the input (`in`: its top-left tap): every tap of every group of four
 * channels, the zero point already in `bias`, so the raw inputs are multiplied; pointers step through the rows.
 * A 3x3 kernel of dilation 1 (the usual depthwise) has its nine taps written out. */
static void mcu_dw_interior_dsp(const mcu_conv2d_params_t *p, const int8_t *in, const int32_t *bias,
                                mcu_requant_s8_t q, int8_t *out, int32_t channels4)
{
    const int32_t channels = p->out_c, kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t col_step = p->dilation_w * channels, row_step = p->dilation_h * p->in_w * channels;
    const int unrolled = kernel_h == 3 && kernel_w == 3 && p->dilation_h == 1 && p->dilation_w == 1;
    for (int32_t c = 0; c < channels4; c += 4) {
        mcu_acc4_t a = mcu_dw_bias4(bias + c);
        const int8_t *row = in + c, *f = p->filter + c;
        if (unrolled) {
            for (int32_t ky = 0; ky < 3; ++ky, row += row_step, f += 3 * channels) {
                a = mcu_dw_raw_tap4(a, row, f);
                a = mcu_dw_raw_tap4(a, row + channels, f + channels);
                a = mcu_dw_raw_tap4(a, row + 2 * channels, f + 2 * channels);
            }
        } else {
            for (int32_t ky = kernel_h; ky > 0; --ky, row += row_step) {
                const int8_t *x = row;
                for (int32_t kx = kernel_w; kx > 0; --kx, x += col_step, f += channels) {
                    a = mcu_dw_raw_tap4(a, x, f);
                }
            }
        }
        mcu_store4_s8(q, out, c, 4, a.a0, a.a1, a.a2, a.a3);
    }
}

/* A position at the border: the taps inside the input, each input minus the zero point. */
static inline void mcu_dw_border_dsp(const mcu_conv2d_params_t *p, const int8_t *input, const mcu_window_t *w,
                                     mcu_requant_s8_t q, int8_t *out, int32_t channels4)
{
    const int32_t channels = p->out_c, in_step = p->dilation_w * channels, zp2 = mcu_pair_s16(p->input_zp);
    for (int32_t c = 0; c < channels4; c += 4) {
        mcu_acc4_t a = mcu_dw_bias4(p->bias + c);
        for (int32_t ky = w->ky_begin; ky < w->ky_end; ++ky) {
            const int8_t *x = input + ((w->in_y0 + ky * p->dilation_h) * p->in_w + w->in_x0
                                       + w->kx_begin * p->dilation_w) * channels + c;
            const int8_t *f = p->filter + (ky * p->kernel_w + w->kx_begin) * channels + c;
            for (int32_t n = w->kx_end - w->kx_begin; n > 0; --n, x += in_step, f += channels) {
                const int32_t xw = mcu_load_s8x4(x), fw = mcu_load_s8x4(f);
                a = mcu_dw_tap4(a, mcu_even_s8x4(xw, zp2), mcu_odd_s8x4(xw, zp2), __sxtb16(fw), mcu_sxtb16_ror8(fw));
            }
        }
        mcu_store4_s8(q, out, c, 4, a.a0, a.a1, a.a2, a.a3);
    }
}

/* mcu_depthwise_conv2d_fast_s8 four channels at a time with SMLAxy; positions whose window lies inside the input
 * multiply raw inputs against the bias with the zero point folded in (p->interior_bias, or p->bias itself when
 * the layer has no padding); the last channels one by one. */
MCU_KERNEL void mcu_depthwise_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, channels = p->out_c, channels4 = channels & ~3;
    const int32_t out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp;
    const int32_t *interior_bias = p->interior_bias ? p->interior_bias : input_zp == 0 ? p->bias : 0;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            int8_t *out = output + (oy * out_w + ox) * channels;
            if (interior_bias && w.ky_begin == 0 && w.ky_end == p->kernel_h && w.kx_begin == 0
                && w.kx_end == kernel_w) {
                mcu_dw_interior_dsp(p, input + (w.in_y0 * in_w + w.in_x0) * channels, interior_bias, q, out,
                                    channels4);
            } else {
                mcu_dw_border_dsp(p, input, &w, q, out, channels4);
            }
            for (int32_t c = channels4; c < channels; ++c) {
                int32_t sum = p->bias[c];
                for (int32_t ky = w.ky_begin; ky < w.ky_end; ++ky) {
                    const int32_t in_y = w.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = w.kx_begin; kx < w.kx_end; ++kx) {
                        const int32_t x = input[(in_y * in_w + w.in_x0 + kx * p->dilation_w) * channels + c];
                        sum += (x - input_zp) * p->filter[(ky * kernel_w + kx) * channels + c];
                    }
                }
                mcu_store4_s8(q, out, c, 1, sum, 0, 0, 0);
            }
        }
    }
}
#else
typedef int mcu_depthwise_conv2d_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
