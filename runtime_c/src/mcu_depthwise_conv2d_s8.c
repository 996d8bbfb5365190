/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_depthwise_conv2d_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    /* parameters in locals: int8 stores to `output` may alias *p, which would force reloads in the loops */
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t input_zp = p->input_zp, output_zp = p->output_zp;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    const int32_t depth_multiplier = p->depth_multiplier;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            const int32_t in_x0 = ox * p->stride_w - p->pad_left;
            /* the taps inside the input, once per output position: no bounds test in the inner loops */
            const int32_t ky_begin = mcu_first_tap(in_y0, p->dilation_h);
            const int32_t ky_end = mcu_end_tap(in_y0, p->dilation_h, in_h, kernel_h);
            const int32_t kx_begin = mcu_first_tap(in_x0, p->dilation_w);
            const int32_t kx_end = mcu_end_tap(in_x0, p->dilation_w, in_w, kernel_w);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int32_t ic = oc / depth_multiplier;
                int32_t acc = p->bias[oc];
                for (int32_t ky = ky_begin; ky < ky_end; ++ky) {
                    const int32_t in_y = in_y0 + ky * p->dilation_h;
                    for (int32_t kx = kx_begin; kx < kx_end; ++kx) {
                        const int32_t in_x = in_x0 + kx * p->dilation_w;
                        const int32_t x = input[(in_y * in_w + in_x) * in_c + ic];
                        acc += (x - input_zp) * p->filter[(ky * kernel_w + kx) * out_c + oc];
                    }
                }
                acc = mcu_multiply_by_quantized_multiplier(acc, p->out_mult[oc], p->out_shift[oc]) + output_zp;
                output[(oy * out_w + ox) * out_c + oc] = (int8_t)mcu_clamp(acc, act_min, act_max);
            }
        }
    }
}
