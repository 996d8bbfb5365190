/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_avg_pool_f32(const mcu_pool_f32_params_t *p, const float *input, float *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            for (int32_t c = 0; c < p->channels; ++c) {
                float sum = 0.0f;
                int32_t count = 0;
                for (int32_t y = y0 < 0 ? 0 : y0; y < y0 + p->kernel_h && y < p->in_h; ++y) {
                    for (int32_t x = x0 < 0 ? 0 : x0; x < x0 + p->kernel_w && x < p->in_w; ++x) {
                        sum += input[(y * p->in_w + x) * p->channels + c];
                        ++count;
                    }
                }
                const float avg = sum / (float)count; /* padding not counted */
                output[(oy * p->out_w + ox) * p->channels + c] =
                    avg < p->act_min ? p->act_min : (avg > p->act_max ? p->act_max : avg);
            }
        }
    }
}
