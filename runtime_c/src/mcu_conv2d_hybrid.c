/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h" /* mcu_quantize_row_s8, mcu_hybrid_output */
#include "mcu_window.h"

MCU_KERNEL void mcu_conv2d_hybrid(const mcu_conv2d_hybrid_params_t *p, const float *input, float *output,
                                  void *scratch)
{
    int8_t *const q = (int8_t *)scratch; /* the input quantized to int8 */
    const int32_t in_w = p->in_w, in_c = p->in_c, out_c = p->out_c, kernel_w = p->kernel_w;
    const int32_t filter_size = p->kernel_h * kernel_w * in_c;
    float input_scale;
    int32_t zp;
    mcu_quantize_row_s8(input, p->in_h * in_w * in_c, q, &input_scale, &zp);
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const mcu_window_t win = MCU_WINDOW_OF(p, oy, ox);
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int8_t *filter = p->filter + oc * filter_size;
                int32_t acc = 0;
                for (int32_t ky = win.ky_begin; ky < win.ky_end; ++ky) {
                    const int32_t in_y = win.in_y0 + ky * p->dilation_h;
                    for (int32_t kx = win.kx_begin; kx < win.kx_end; ++kx) {
                        const int8_t *in = q + (in_y * in_w + win.in_x0 + kx * p->dilation_w) * in_c;
                        const int8_t *f = filter + (ky * kernel_w + kx) * in_c;
                        for (int32_t ic = 0; ic < in_c; ++ic) {
                            acc += (int32_t)f[ic] * ((int32_t)in[ic] - zp);
                        }
                    }
                }
                output[(oy * p->out_w + ox) * out_c + oc] = mcu_hybrid_output(acc, input_scale, p->weight_scales[oc],
                                                                              p->bias[oc], p->act_min, p->act_max);
            }
        }
    }
}
