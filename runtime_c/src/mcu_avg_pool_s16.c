/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_avg_pool_s16(const mcu_pool_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            for (int32_t c = 0; c < p->channels; ++c) {
                int32_t sum = 0;
                int32_t count = 0;
                for (int32_t y = y0 < 0 ? 0 : y0; y < y0 + p->kernel_h && y < p->in_h; ++y) {
                    for (int32_t x = x0 < 0 ? 0 : x0; x < x0 + p->kernel_w && x < p->in_w; ++x) {
                        sum += input[(y * p->in_w + x) * p->channels + c];
                        ++count;
                    }
                }
                /* TFLM's rounding: half away from zero, C division truncating toward zero */
                const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                output[(oy * p->out_w + ox) * p->channels + c] = (int16_t)mcu_clamp(avg, p->act_min, p->act_max);
            }
        }
    }
}
