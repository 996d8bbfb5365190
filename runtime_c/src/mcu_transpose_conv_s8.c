/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_transpose_conv_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_h = p->in_h, in_w = p->in_w, in_c = p->in_c;
    const int32_t out_w = p->out_w, out_c = p->out_c;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t filter_size = kernel_h * kernel_w * in_c;
    /* (oy + pad_top) = ry + stride_h * qy, kept as counters: no division per position */
    int32_t ry = p->pad_top % stride_h, qy = p->pad_top / stride_h;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        int32_t rx = p->pad_left % stride_w, qx = p->pad_left / stride_w;
        for (int32_t ox = 0; ox < out_w; ++ox) {
            for (int32_t oc = 0; oc < out_c; ++oc) {
                const int8_t *filter = p->filter + oc * filter_size;
                int32_t acc = p->bias[oc];
                /* taps ky = ry + j * stride_h read input row qy - j, when inside the input (likewise x) */
                for (int32_t ky = ry, iy = qy; ky < kernel_h; ky += stride_h, --iy) {
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (int32_t kx = rx, ix = qx; kx < kernel_w; kx += stride_w, --ix) {
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int8_t *in = input + (iy * in_w + ix) * in_c;
                        const int8_t *f = filter + (ky * kernel_w + kx) * in_c;
                        for (int32_t ic = 0; ic < in_c; ++ic) {
                            acc += (in[ic] - p->input_zp) * f[ic];
                        }
                    }
                }
                output[(oy * out_w + ox) * out_c + oc] = (int8_t)mcu_clamp(
                    mcu_multiply_by_quantized_multiplier(acc, p->out_mult[oc], p->out_shift[oc]) + p->output_zp,
                    p->act_min, p->act_max);
            }
            if (++rx == stride_w) {
                rx = 0;
                ++qx;
            }
        }
        if (++ry == stride_h) {
            ry = 0;
            ++qy;
        }
    }
}
