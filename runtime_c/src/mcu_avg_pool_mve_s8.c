/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"
#include "mcu_simd.h"

#if MCU_HAS_MVE
/* The sums of sixteen channels from `input` (the bytes `bytes` of them when `tail`) over the window's taps inside
 * the input, rows [y0, y1) and columns [x0, x1), in int16 lanes (exact: at most 256 taps of int8), into `sums`. */
static MCU_ALWAYS_INLINE void mcu_avg_pool_sums_mve(const mcu_pool_params_t *p, const int8_t *input, int32_t y0,
                                                    int32_t y1, int32_t x0, int32_t x1, int16_t *sums, int tail,
                                                    mve_pred16_t low, mve_pred16_t high)
{
    const int32_t channels = p->channels, row_step = p->in_w * channels;
    int16x8_t a0 = vdupq_n_s16(0), a1 = a0;
    const int8_t *row = input + (y0 * p->in_w + x0) * channels;
    for (int32_t y = y0; y < y1; ++y, row += row_step) {
        const int8_t *x = row;
        for (int32_t n = x1 - x0; n > 0; --n, x += channels) {
            a0 = vaddq_s16(a0, tail ? vldrbq_z_s16(x, low) : vldrbq_s16(x));
            a1 = vaddq_s16(a1, tail ? vldrbq_z_s16(x + 8, high) : vldrbq_s16(x + 8));
        }
    }
    vstrhq_s16(sums, a0);
    vstrhq_s16(sums + 8, a1);
}

/* mcu_avg_pool_s8 on Helium for windows of at most 256 taps: sixteen channels per pass summed in int16 lanes,
 * then each average divided out as TFLM rounds it (half away from zero). */
MCU_KERNEL void mcu_avg_pool_mve_s8(const mcu_pool_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels, channels16 = channels & ~15, rest = channels & 15;
    const mve_pred16_t low = vctp16q((uint32_t)(rest < 8 ? rest : 8));
    const mve_pred16_t high = vctp16q((uint32_t)(rest > 8 ? rest - 8 : 0));
    int16_t sums[16];
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t in_y = oy * p->stride_h - p->pad_top;
        const int32_t y0 = in_y < 0 ? 0 : in_y;
        const int32_t y1 = in_y + p->kernel_h < p->in_h ? in_y + p->kernel_h : p->in_h;
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const int32_t in_x = ox * p->stride_w - p->pad_left;
            const int32_t x0 = in_x < 0 ? 0 : in_x;
            const int32_t x1 = in_x + p->kernel_w < p->in_w ? in_x + p->kernel_w : p->in_w;
            const int32_t count = (y1 - y0) * (x1 - x0), half = count / 2;
            int8_t *out = output + (oy * p->out_w + ox) * channels;
            for (int32_t c = 0; c < channels; c += 16) {
                if (c < channels16) {
                    mcu_avg_pool_sums_mve(p, input + c, y0, y1, x0, x1, sums, 0, low, high);
                } else {
                    mcu_avg_pool_sums_mve(p, input + c, y0, y1, x0, x1, sums, 1, low, high);
                }
                const int32_t n = channels - c < 16 ? channels - c : 16;
                for (int32_t k = 0; k < n; ++k) {
                    const int32_t sum = sums[k];
                    const int32_t avg = sum > 0 ? (sum + half) / count : (sum - half) / count;
                    out[c + k] = (int8_t)mcu_clamp(avg, p->act_min, p->act_max);
                }
            }
        }
    }
}
#else
typedef int mcu_avg_pool_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
