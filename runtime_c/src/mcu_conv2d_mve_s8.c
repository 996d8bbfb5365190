/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_gemm_s8.h"
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* the first and one past the last output index whose window lies inside the input along an axis */
static inline void mcu_conv_inside_mve(int32_t pad, int32_t stride, int32_t span, int32_t in, int32_t out,
                                       int32_t *lo, int32_t *hi)
{
    const int32_t first = (pad + stride - 1) / stride, last = in - span + pad >= 0 ? (in - span + pad) / stride : -1;
    *lo = first < out ? first : out;
    *hi = last + 1 < *lo ? *lo : (last + 1 < out ? last + 1 : out);
}

typedef struct {
    int32_t y_lo, y_hi, x_lo, x_hi;     /* the positions whose windows lie inside the input */
    int32_t run, row;                   /* bytes of a kernel row's run, from one kernel row's input to the next */
} mcu_conv_block_t;

/* `runs` runs of a constant n (32, 48 or 64) bytes: whole vectors at immediate offsets */
static MCU_ALWAYS_INLINE void mcu_conv_copy_vectors_mve(const int8_t *src, int32_t src_step, int8_t *dst,
                                                        int32_t dst_step, int32_t runs, int32_t n)
{
    for (; runs > 0; --runs, src += src_step, dst += dst_step) {
        vstrbq_s8(dst, vldrbq_s8(src));
        vstrbq_s8(dst + 16, vldrbq_s8(src + 16));
        if (n > 32) {
            vstrbq_s8(dst + 32, vldrbq_s8(src + 32));
        }
        if (n > 48) {
            vstrbq_s8(dst + 48, vldrbq_s8(src + 48));
        }
    }
}

/* `runs` runs of n bytes, src_step bytes apart in the input and dst_step apart in the window: a run of at most 16
 * bytes one predicated vector; 32, 48 or 64 (3x3 on 16 channels: 48) whole vectors, each length its own loop (no
 * test of n per run); else whole vectors and a predicated rest */
static MCU_ALWAYS_INLINE void mcu_conv_copy_runs_mve(const int8_t *src, int32_t src_step, int8_t *dst,
                                                     int32_t dst_step, int32_t runs, int32_t n)
{
    if (n <= 16) {
        const mve_pred16_t bytes = vctp8q((uint32_t)n);
        for (; runs > 0; --runs, src += src_step, dst += dst_step) {
            vstrbq_p_s8(dst, vldrbq_z_s8(src, bytes), bytes);
        }
        return;
    }
    if (n == 32) {
        mcu_conv_copy_vectors_mve(src, src_step, dst, dst_step, runs, 32);
        return;
    }
    if (n == 48) {
        mcu_conv_copy_vectors_mve(src, src_step, dst, dst_step, runs, 48);
        return;
    }
    if (n == 64) {
        mcu_conv_copy_vectors_mve(src, src_step, dst, dst_step, runs, 64);
        return;
    }
    for (; runs > 0; --runs, src += src_step, dst += dst_step) {
        mcu_copy_s8(dst, src, n);
    }
}

/* The windows of `count` positions from (oy, ox) on, one after the other (mcu_conv2d_mve_s8): a window inside the
 * input copied run by run; one across an edge filled with the zero point, then the parts of its runs inside the
 * input copied over it. Kept out of the caller's loop. */
static MCU_NOINLINE void mcu_conv_gather_block_mve(const mcu_conv2d_params_t *p, const mcu_conv_block_t *b,
                                                   const int8_t *input, int32_t oy, int32_t ox, int32_t count,
                                                   int8_t *window)
{
    const int32_t in_c = p->in_c, size = p->kernel_h * b->run;
    for (; count > 0; --count, window += size) {
        if (oy >= b->y_lo && oy < b->y_hi && ox >= b->x_lo && ox < b->x_hi) {
            const int8_t *src = input + ((oy * p->stride_h - p->pad_top) * p->in_w + ox * p->stride_w -
                                         p->pad_left) * in_c;
            mcu_conv_copy_runs_mve(src, b->row, window, b->run, p->kernel_h, b->run);
        } else {
            const mcu_window_t w = mcu_conv_window(p, oy, ox);
            mcu_fill_s8(window, (int8_t)p->input_zp, size);
            if (w.ky_end > w.ky_begin && w.kx_end > w.kx_begin) {
                const int8_t *src = input + ((w.in_y0 + w.ky_begin * p->dilation_h) * p->in_w + w.in_x0 +
                                             w.kx_begin) * in_c;
                mcu_conv_copy_runs_mve(src, b->row, window + w.ky_begin * b->run + w.kx_begin * in_c, b->run,
                                       w.ky_end - w.ky_begin, (w.kx_end - w.kx_begin) * in_c);
            }
        }
        if (++ox == p->out_w) {
            ox = 0;
            ++oy;
        }
    }
}

/* mcu_conv2d_s8 on Helium (dilation_w 1): the windows of MCU_GEMM_MVE_BLOCK positions at a time are gathered into
 * the scratch buffer (MCU_GEMM_MVE_BLOCK * kernel_h * kernel_w * in_c bytes of the arena), a tap outside the input
 * filled with the zero point, so that the block is a matrix product of its windows by the OHWI filters
 * (mcu_gemm_mve_groups: each group of four filters over the block's windows, sixteen raw int8 products per
 * VMLADAVA). The bias has the zero point folded in (p->interior_bias; p->bias itself without padding): a filled
 * tap adds zp * w, which the fold takes back, as TFLM skips the tap. Outputs are written after their windows
 * are gathered, and before the next block's: an in-place output is as safe as for the portable form. */
MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t out_w = p->out_w, positions = p->out_h * out_w, size = p->kernel_h * p->kernel_w * p->in_c;
    const mcu_gemm_s8_t g = {.rows = MCU_GEMM_MVE_BLOCK, .depth = size, .outputs = p->out_c,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->filter, .bias = p->interior_bias ? p->interior_bias : p->bias,
                             .out_mult = p->out_mult, .out_shift = p->out_shift, .out_round = p->out_round,
                             .row_step = size};
    mcu_conv_block_t b;
    b.run = p->kernel_w * p->in_c;
    b.row = p->dilation_h * p->in_w * p->in_c;
    mcu_conv_inside_mve(p->pad_top, p->stride_h, (p->kernel_h - 1) * p->dilation_h + 1, p->in_h, p->out_h, &b.y_lo,
                        &b.y_hi);
    mcu_conv_inside_mve(p->pad_left, p->stride_w, p->kernel_w, p->in_w, out_w, &b.x_lo, &b.x_hi);
    for (int32_t first = 0; first < positions; first += MCU_GEMM_MVE_BLOCK) {
        const int32_t count = positions - first < MCU_GEMM_MVE_BLOCK ? positions - first : MCU_GEMM_MVE_BLOCK;
        mcu_conv_gather_block_mve(p, &b, input, first / out_w, first % out_w, count, scratch);
        mcu_gemm_mve_groups(&g, scratch, count, output + first * p->out_c);
    }
}
#else
typedef int mcu_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
