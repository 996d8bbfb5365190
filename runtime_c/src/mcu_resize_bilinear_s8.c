/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_resize_bilinear_s8(const mcu_resize_bilinear_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t c_count = p->channels;
    const int32_t row = p->in_w * c_count;
    for (int32_t y = 0; y < p->out_h; ++y) {
        const int8_t *r0 = input + p->rows_lo[y] * row;
        const int8_t *r1 = input + p->rows_hi[y] * row;
        const int32_t wy = p->rows_w[y];
        for (int32_t x = 0; x < p->out_w; ++x) {
            const int32_t wx = p->cols_w[x];
            /* |sum| < 2^29: the weights lie in [-512, 1536] and a negative one only where y0 == y1 (x0 == x1) */
            const int32_t w00 = (1024 - wy) * (1024 - wx), w10 = wy * (1024 - wx);
            const int32_t w01 = (1024 - wy) * wx, w11 = wy * wx;
            const int8_t *a = r0 + p->cols_lo[x] * c_count, *b = r1 + p->cols_lo[x] * c_count;
            const int8_t *d = r0 + p->cols_hi[x] * c_count, *e = r1 + p->cols_hi[x] * c_count;
            for (int32_t c = 0; c < c_count; ++c) {
                const int32_t sum = a[c] * w00 + b[c] * w10 + d[c] * w01 + e[c] * w11;
                *output++ = (int8_t)((sum + (sum > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
            }
        }
    }
}
