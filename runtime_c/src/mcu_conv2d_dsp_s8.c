/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_s8.h"
#include "mcu_window.h"

#if MCU_HAS_DSP
/* The window of the position (oy, ox) if it is inside the input (dilation_w 1), else NULL */
static const int8_t *mcu_conv_inside(const mcu_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int inside = y0 >= 0 && x0 >= 0 && y0 + (p->kernel_h - 1) * p->dilation_h < p->in_h &&
                       x0 + p->kernel_w <= p->in_w;
    return inside ? input + (y0 * p->in_w + x0) * p->in_c : NULL;
}

/* The windows of the positions (oy0, ox0) and (oy1, ox1) widened into `pairs` straight from the input's kernel
 * rows, where both windows are inside the input and a kernel row is whole words (no gathered copy): 1, else 0. */
static int mcu_conv_widen_inside(const mcu_conv2d_params_t *p, const int8_t *input, int32_t oy0, int32_t ox0,
                                 int32_t oy1, int32_t ox1, int32_t *pairs)
{
    const int32_t run = p->kernel_w * p->in_c, step = p->dilation_h * p->in_w * p->in_c;
    if (run & 3) {
        return 0;
    }
    const int8_t *in0 = mcu_conv_inside(p, input, oy0, ox0), *in1 = mcu_conv_inside(p, input, oy1, ox1);
    if (in0 == NULL || in1 == NULL) {
        return 0;
    }
    for (int32_t ky = 0; ky < p->kernel_h; ++ky, pairs += run, in0 += step, in1 += step) {
        mcu_gemm_widen_rows2(in0, in1, run >> 2, pairs);
    }
    return 1;
}

/* mcu_conv2d_s8 as the DSP matrix product (mcu_gemm_s8.h) over gathered windows (mcu_gemm_of_conv_windows): two
 * positions' windows at a time into the scratch buffer, widened, then every pair of filters against both (2 x 2
 * blocks, SMLAD); a pair of windows inside the input is widened straight from it (mcu_conv_widen_inside). Scratch: two windows of int8 then their widened
 * pairs (conv2d.SCRATCH). */
MCU_KERNEL void mcu_conv2d_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_conv_windows(p);
    const int32_t size = g.depth, out_w = p->out_w, out_c = p->out_c, positions = p->out_h * out_w;
    const mcu_requant_s8_t q = mcu_gemm_out(&g);
    int8_t *window0 = scratch, *window1 = window0 + size;
    int32_t *pairs = (int32_t *)(void *)(window0 + ((2 * size + 3) & ~3)); /* the arena's 4-byte alignment */
    int32_t oy = 0, ox = 0;
    for (int32_t r = 0; r < positions; r += 2) {
        const int32_t oy0 = oy, ox0 = ox;
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
        if (r + 1 == positions) { /* an odd last position alone */
            mcu_conv_gather_window(p, input, oy0, ox0, window0);
            mcu_gemv_dsp_widened_s8(&g, window0, pairs, output + r * out_c);
            break;
        }
        if (!mcu_conv_widen_inside(p, input, oy0, ox0, oy, ox, pairs)) { /* else no depth % 4 reads the windows */
            mcu_conv_gather_window(p, input, oy0, ox0, window0);
            mcu_conv_gather_window(p, input, oy, ox, window1);
            mcu_gemm_widen_rows2(window0, window1, size >> 2, pairs);
        }
        mcu_gemm_dsp_rows2_widened(&g, q, window0, window1, pairs, output + r * out_c);
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
    }
}
#else
typedef int mcu_conv2d_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
