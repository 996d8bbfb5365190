/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_conv2d_s16(const mcu_conv2d_s16_params_t *p, const int16_t *input, int16_t *output)
{
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int32_t filter_size = kernel_h * kernel_w * in_c;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            const int32_t in_x0 = ox * p->stride_w - p->pad_left;
            const int32_t ky_begin = mcu_first_tap(in_y0, p->dilation_h);
            const int32_t ky_end = mcu_end_tap(in_y0, p->dilation_h, in_h, kernel_h);
            const int32_t kx_begin = mcu_first_tap(in_x0, p->dilation_w);
            const int32_t kx_end = mcu_end_tap(in_x0, p->dilation_w, in_w, kernel_w);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int8_t *filter = p->filter + oc * filter_size;
                int64_t acc = p->bias[oc]; /* int16 x int8 products: an int32 sum could overflow */
                for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
                    const int32_t in_y = in_y0 + ky * p->dilation_h;
                    for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
                        const int32_t in_x = in_x0 + kx * p->dilation_w;
                        const int16_t *in = input + (in_y * in_w + in_x) * in_c;
                        const int8_t *f = filter + (ky * kernel_w + kx) * in_c;
                        for (int32_t ic = 0; ic < in_c; ++ic) {
                            acc += (int32_t)in[ic] * f[ic];
                        }
                    }
                }
                const int64_t y = mcu_multiply_by_quantized_multiplier_s64(acc, p->out_mult[oc], p->out_shift[oc]);
                output[(oy * out_w + ox) * out_c + oc] = (int16_t)mcu_clamp_s64(y, act_min, act_max);
            }
        }
    }
}
