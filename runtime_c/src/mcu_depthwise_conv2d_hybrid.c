/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h" /* mcu_quantize_row_s8, mcu_hybrid_output */
#include "mcu_window.h"

MCU_KERNEL void mcu_depthwise_conv2d_hybrid(const mcu_conv2d_hybrid_params_t *p, const float *input, float *output,
                                            void *scratch)
{
    int8_t *const q = (int8_t *)scratch; /* the input quantized to int8 */
    const int32_t in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, kernel_w = p->kernel_w;
    float input_scale;
    int32_t zp;
    mcu_quantize_row_s8(input, p->in_h * in_w * in_c, q, &input_scale, &zp);
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const mcu_window_t win = MCU_WINDOW_OF(p, oy, ox);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int32_t ic = oc / p->depth_multiplier;
                int32_t acc = 0;
                for (int32_t ky = win.ky_begin; ky < win.ky_end; ++ky) {
                    const int32_t in_y = win.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = win.kx_begin; kx < win.kx_end; ++kx) {
                        const int32_t in_x = win.in_x0 + kx * p->dilation_w;
                        const int32_t x = (int32_t)q[(in_y * in_w + in_x) * in_c + ic] - zp;
                        acc += (int32_t)p->filter[(ky * kernel_w + kx) * out_c + oc] * x;
                    }
                }
                output[(oy * p->out_w + ox) * out_c + oc] = mcu_hybrid_output(acc, input_scale, p->weight_scales[oc],
                                                                              p->bias[oc], p->act_min, p->act_max);
            }
        }
    }
}
