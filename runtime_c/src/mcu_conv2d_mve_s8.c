/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_gemm_s8.h"
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_conv2d_s8 on Helium (dilation_w 1): the windows of MCU_GEMM_MVE_BLOCK positions at a time are gathered into
 * the scratch buffer (MCU_GEMM_MVE_BLOCK * kernel_h * kernel_w * in_c bytes of the arena), a tap outside the input
 * filled with the zero point, so that the block is a matrix product of its windows by the OHWI filters
 * (mcu_gemm_mve_groups: each group of four filters over the block's windows, sixteen raw int8 products per
 * VMLADAVA). The bias has the zero point folded in (p->interior_bias; p->bias itself without padding): a filled
 * tap adds zp * w, which the fold takes back, as TFLM skips the tap. Outputs are written after their windows
 * are gathered, and before the next block's: an in-place output is as safe as for the portable form. */
/* the first and one past the last output index whose window lies inside the input along an axis */
static inline void mcu_conv_inside_mve(int32_t pad, int32_t stride, int32_t span, int32_t in, int32_t out,
                                       int32_t *lo, int32_t *hi)
{
    const int32_t first = (pad + stride - 1) / stride, last = in - span + pad >= 0 ? (in - span + pad) / stride : -1;
    *lo = first < out ? first : out;
    *hi = last + 1 < *lo ? *lo : (last + 1 < out ? last + 1 : out);
}

MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t out_w = p->out_w, positions = p->out_h * out_w, size = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t run = p->kernel_w * p->in_c, row = p->dilation_h * p->in_w * p->in_c; /* dilation_w 1 */
    const mcu_gemm_s8_t g = {.rows = MCU_GEMM_MVE_BLOCK, .depth = size, .outputs = p->out_c,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->filter, .bias = p->interior_bias ? p->interior_bias : p->bias,
                             .out_mult = p->out_mult, .out_shift = p->out_shift, .row_step = size};
    int32_t y_lo, y_hi, x_lo, x_hi; /* positions whose windows lie inside the input: copied run by run */
    mcu_conv_inside_mve(p->pad_top, p->stride_h, (p->kernel_h - 1) * p->dilation_h + 1, p->in_h, p->out_h, &y_lo,
                        &y_hi);
    mcu_conv_inside_mve(p->pad_left, p->stride_w, p->kernel_w, p->in_w, out_w, &x_lo, &x_hi);
    int8_t *windows = scratch;
    int32_t oy = 0, ox = 0;
    for (int32_t first = 0; first < positions; first += MCU_GEMM_MVE_BLOCK) {
        const int32_t count = positions - first < MCU_GEMM_MVE_BLOCK ? positions - first : MCU_GEMM_MVE_BLOCK;
        for (int32_t k = 0; k < count; ++k) {
            int8_t *window = windows + k * size;
            if (oy >= y_lo && oy < y_hi && ox >= x_lo && ox < x_hi) {
                const int8_t *src = input + ((oy * p->stride_h - p->pad_top) * p->in_w + ox * p->stride_w -
                                             p->pad_left) * p->in_c;
                for (int32_t ky = 0; ky < p->kernel_h; ++ky, src += row, window += run) {
                    mcu_copy_s8(window, src, run);
                }
            } else {
                mcu_conv_gather_window(p, input, oy, ox, window);
            }
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
        }
        mcu_gemm_mve_groups(&g, windows, count, output + first * p->out_c);
    }
}
#else
typedef int mcu_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
