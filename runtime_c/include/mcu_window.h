/* SPDX-License-Identifier: Apache-2.0 */
/* What the faster forms of the windowed kernels (conv, depthwise) and the hybrid ones share: the taps of an
 * output position's window that fall inside the input, and the requantization of a group of output channels. */
#ifndef MCU_WINDOW_H
#define MCU_WINDOW_H

#include <stdint.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"
#include "mcu_simd.h"

typedef struct {
    int32_t in_y0, in_x0;               /* the window's top-left corner in the input (may be outside it) */
    int32_t ky_begin, ky_end, kx_begin, kx_end; /* the taps inside the input */
} mcu_window_t;

/* The geometry fields every windowed params struct has, by name. */
#define MCU_WINDOW_OF(p, oy, ox) \
    mcu_window_of((oy) * (p)->stride_h - (p)->pad_top, (ox) * (p)->stride_w - (p)->pad_left, (p)->dilation_h, \
                  (p)->dilation_w, (p)->in_h, (p)->in_w, (p)->kernel_h, (p)->kernel_w)

static inline mcu_window_t mcu_window_of(int32_t in_y0, int32_t in_x0, int32_t dilation_h, int32_t dilation_w,
                                         int32_t in_h, int32_t in_w, int32_t kernel_h, int32_t kernel_w)
{
    mcu_window_t w;
    w.in_y0 = in_y0;
    w.in_x0 = in_x0;
    w.ky_begin = mcu_first_tap(in_y0, dilation_h);
    w.ky_end = mcu_end_tap(in_y0, dilation_h, in_h, kernel_h);
    w.kx_begin = mcu_first_tap(in_x0, dilation_w);
    w.kx_end = mcu_end_tap(in_x0, dilation_w, in_w, kernel_w);
    return w;
}

static inline mcu_window_t mcu_conv_window(const mcu_conv2d_params_t *p, int32_t oy, int32_t ox)
{
    return MCU_WINDOW_OF(p, oy, ox);
}

static inline mcu_requant_s8_t mcu_conv_out(const mcu_conv2d_params_t *p)
{
    return mcu_requant_s8_of(p->out_mult, p->out_shift, p->out_round, p->output_zp, p->act_min, p->act_max);
}

/* One position's window as a row of kernel_h * kernel_w * in_c int8 values in the filters' order (OHWI), a tap
 * outside the input holding the zero point (dilation_w 1: each kernel row inside the input is one run). */
static inline void mcu_conv_gather_window(const mcu_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox,
                                          int8_t *window)
{
    const int32_t in_c = p->in_c, run = p->kernel_w * in_c;
    const mcu_window_t w = mcu_conv_window(p, oy, ox);
    const int32_t left = w.kx_begin * in_c, inside = (w.kx_end - w.kx_begin) * in_c;
    const int8_t zp = (int8_t)p->input_zp;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky, window += run) {
        if (ky < w.ky_begin || ky >= w.ky_end) {
            mcu_fill_s8(window, zp, run);
            continue;
        }
        const int32_t y = w.in_y0 + ky * p->dilation_h;
        const int8_t *src = input + (y * p->in_w + w.in_x0 + w.kx_begin) * in_c;
        if (inside == run) { /* the usual case: no padding to fill */
            mcu_copy_s8(window, src, run);
            continue;
        }
        mcu_fill_s8(window, zp, left);
        mcu_copy_s8(window + left, src, inside);
        mcu_fill_s8(window + left + inside, zp, run - left - inside);
    }
}

/* The im2col forms' walk: the windows of positions r and r + 1 (of `positions`, row by row; *oy, *ox is
 * position r's and moves on past the ones gathered) into window0 and window1; returns how many were gathered (1
 * for an odd last position). */
static inline int32_t mcu_conv_gather_windows2(const mcu_conv2d_params_t *p, const int8_t *input, int32_t r,
                                               int32_t positions, int32_t *oy, int32_t *ox, int8_t *window0,
                                               int8_t *window1)
{
    int8_t *windows[2] = {window0, window1};
    const int32_t count = r + 1 < positions ? 2 : 1;
    for (int32_t k = 0; k < count; ++k) {
        mcu_conv_gather_window(p, input, *oy, *ox, windows[k]);
        if (++*ox == p->out_w) {
            *ox = 0;
            ++*oy;
        }
    }
    return count;
}

#endif
