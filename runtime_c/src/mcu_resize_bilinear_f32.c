/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_resize_bilinear_f32(const mcu_resize_bilinear_f32_params_t *p, const float *input,
                                        float *output)
{
    const int32_t c_count = p->channels;
    const int32_t row = p->in_w * c_count;
    for (int32_t y = 0; y < p->out_h; ++y) {
        const float *r0 = input + p->rows_lo[y] * row;
        const float *r1 = input + p->rows_hi[y] * row;
        const float dy = p->rows_frac[y];
        for (int32_t x = 0; x < p->out_w; ++x) {
            const float dx = p->cols_frac[x];
            const float *a = r0 + p->cols_lo[x] * c_count, *b = r1 + p->cols_lo[x] * c_count;
            const float *d = r0 + p->cols_hi[x] * c_count, *e = r1 + p->cols_hi[x] * c_count;
            for (int32_t c = 0; c < c_count; ++c) {
                *output++ = a[c] * (1.0f - dy) * (1.0f - dx) + b[c] * dy * (1.0f - dx) + d[c] * (1.0f - dy) * dx
                            + e[c] * dy * dx;
            }
        }
    }
}
