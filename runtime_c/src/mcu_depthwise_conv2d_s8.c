#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_depthwise_conv2d_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_top;
            const int32_t in_x0 = ox * p->stride_w - p->pad_left;
            for (int32_t oc = 0; oc < p->out_c; ++oc) {
                const int32_t ic = oc / p->depth_multiplier;
                int32_t acc = p->bias[oc];
                for (int32_t ky = 0; ky < p->kernel_h; ++ky) {
                    const int32_t in_y = in_y0 + ky * p->dilation_h;
                    if (in_y < 0 || in_y >= p->in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < p->kernel_w; ++kx) {
                        const int32_t in_x = in_x0 + kx * p->dilation_w;
                        if (in_x < 0 || in_x >= p->in_w) {
                            continue;
                        }
                        const int32_t x = input[(in_y * p->in_w + in_x) * p->in_c + ic];
                        acc += (x - p->input_zp) * p->filter[(ky * p->kernel_w + kx) * p->out_c + oc];
                    }
                }
                acc = mcu_multiply_by_quantized_multiplier(acc, p->out_mult[oc], p->out_shift[oc]) + p->output_zp;
                output[(oy * p->out_w + ox) * p->out_c + oc] = (int8_t)mcu_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}
