/* SPDX-License-Identifier: Apache-2.0 */
/* What the Helium depthwise forms share (mcu_depthwise_conv2d_mve_s8 for any geometry, _3x3_mve_s8 and
 * _3x3s2_mve_s8 for 3-wide kernels of dilation 1 at stride 1 and 2): mcu_dw_run_mve with the form's row
 * function, an instantiation of mcu_dw_row_mve. */
#ifndef MCU_DEPTHWISE_MVE_H
#define MCU_DEPTHWISE_MVE_H

#include <stdint.h>

#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* The input rows as the kernel works on them (the scratch buffer: kernel_h row pointers, then kernel_h slots of
 * `slot` bytes): in a slot, the groups of four channels one after the other (`group` bytes apart), each group
 * the row's `width` positions from x = -pad_left as four bytes, a position outside the input holding the zero
 * point. Four channels of neighbouring positions are then a few bytes apart, so that a tap's loads for four
 * output positions take immediate offsets from one pointer. With dilation_h 1 the slots are a ring (input row y
 * in slot y mod kernel_h): each input row is copied once, not once per output row that reads it. */
typedef struct {
    const int8_t *filter;               /* [kernel_h][kernel_w][channels] */
    const int32_t *bias, *mult, *shift;
    int32_t channels, kernel_h, kernel_w, width, group, slot;
    int32_t pos_step, tap_step;         /* bytes from one output position to the next, from one tap to the next */
    int32_t output_zp;
    int32x4_t act_min, act_max;         /* in every lane: one load each, not a load and a VDUP */
} mcu_dw_rows_t;

/* the input positions an output row's windows span, from x = -pad_left (depthwise_conv2d.rows_width) */
static inline int32_t mcu_dw_rows_width(const mcu_conv2d_params_t *p)
{
    return (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
}

/* requantize four lanes and store them as int8 (the lanes `lanes` of them when `tail`) */
static MCU_ALWAYS_INLINE void mcu_dw_store_mve(const mcu_dw_rows_t *restrict g, int8_t *out, int32x4_t acc, int32x4_t mult,
                                               int32x4_t shift, int tail, mve_pred16_t lanes)
{
    const int32x4_t y = vaddq_n_s32(mcu_requantize_mve(acc, mult, shift), g->output_zp);
    const int32x4_t clamped = vminq_s32(vmaxq_s32(y, g->act_min), g->act_max);
    if (tail) {
        vstrbq_p_s32(out, clamped, lanes);
    } else {
        vstrbq_s32(out, clamped);
    }
}

/* A tap's pointer the compiler cannot relate to the others: the four positions of one tap read bytes that
 * other taps read for other positions, and the compiler, loading each once, keeps more vectors live than Helium
 * has registers (spilled: 20% more instructions); each tap then loads its own four with immediate offsets. */
static inline const int8_t *mcu_dw_opaque(const int8_t *x)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#endif
    return x;
}

/* The accumulators of four output positions over four channels. */
typedef struct {
    int32x4_t a0, a1, a2, a3;
} mcu_dw_acc_t;

/* One tap: acc_k += x[k * pos_step] * w for the npos (1 to 4) positions. */
static MCU_ALWAYS_INLINE mcu_dw_acc_t mcu_dw_tap_mve(mcu_dw_acc_t a, const int8_t *x, int32x4_t w, int npos,
                                                    int32_t pos_step)
{
    a.a0 = vaddq_s32(a.a0, vmulq_s32(vldrbq_s32(x), w));
    if (npos > 1) {
        a.a1 = vaddq_s32(a.a1, vmulq_s32(vldrbq_s32(x + pos_step), w));
    }
    if (npos > 2) {
        a.a2 = vaddq_s32(a.a2, vmulq_s32(vldrbq_s32(x + 2 * pos_step), w));
    }
    if (npos > 3) {
        a.a3 = vaddq_s32(a.a3, vmulq_s32(vldrbq_s32(x + 3 * pos_step), w));
    }
    return a;
}

/* a filter tap's four channels (the lanes `lanes` of them when `tail`: no read past the filter) */
static MCU_ALWAYS_INLINE int32x4_t mcu_dw_filter_mve(const int8_t *f, int tail, mve_pred16_t lanes)
{
    return tail ? vldrbq_z_s32(f, lanes) : vldrbq_s32(f);
}

/* The taps of a 3x3 kernel for four channels of four positions `pos_step` (a constant: 4 or 8) bytes apart in
 * the rows' layout, the three input rows x0, x1, x2 at the first position's left tap, the filter vectors at f,
 * `channels` bytes apart in tap order: a.ak = bias + sum of x * f, the same integers as mcu_dw_tap_mve's, written
 * out as VLDRB.S32 / VMUL / VADD because GCC 12 spills the four accumulators of this block around the taps (the
 * widening loads take low registers only: "l"). */
#define MCU_DW_TAP4(x, k)                                                                                           \
    "vldrb.s32 q0, [%[f]]\n\t"                                                                                      \
    "add %[f], %[f], %[ch]\n\t"                                                                                     \
    "vldrb.s32 q1, [%[" x "], #(" #k "*4)]\n\t"                                                                     \
    "vmul.i32 q1, q1, q0\n\t"                                                                                       \
    "vadd.i32 %q[a0], %q[a0], q1\n\t"                                                                               \
    "vldrb.s32 q1, [%[" x "], #(%c[ps]+" #k "*4)]\n\t"                                                              \
    "vmul.i32 q1, q1, q0\n\t"                                                                                       \
    "vadd.i32 %q[a1], %q[a1], q1\n\t"                                                                               \
    "vldrb.s32 q1, [%[" x "], #(2*%c[ps]+" #k "*4)]\n\t"                                                            \
    "vmul.i32 q1, q1, q0\n\t"                                                                                       \
    "vadd.i32 %q[a2], %q[a2], q1\n\t"                                                                               \
    "vldrb.s32 q1, [%[" x "], #(3*%c[ps]+" #k "*4)]\n\t"                                                            \
    "vmul.i32 q1, q1, q0\n\t"                                                                                       \
    "vadd.i32 %q[a3], %q[a3], q1\n\t"
#define MCU_DW_ROW4(x) MCU_DW_TAP4(x, 0) MCU_DW_TAP4(x, 1) MCU_DW_TAP4(x, 2)
static MCU_ALWAYS_INLINE mcu_dw_acc_t mcu_dw_3x3_taps4_mve(const int32_t *bias, const int8_t *x0, const int8_t *x1,
                                                           const int8_t *x2, const int8_t *f, int32_t channels,
                                                           int32_t pos_step)
{
    mcu_dw_acc_t a;
#define MCU_DW_TAPS4(step)                                                                                           \
    __asm__("vldrw.u32 %q[a0], [%[b]]\n\t"                                                                          \
            "vmov %q[a1], %q[a0]\n\t"                                                                               \
            "vmov %q[a2], %q[a0]\n\t"                                                                               \
            "vmov %q[a3], %q[a0]\n\t" MCU_DW_ROW4("x0") MCU_DW_ROW4("x1") MCU_DW_ROW4("x2")                          \
            : [a0] "=&w"(a.a0), [a1] "=&w"(a.a1), [a2] "=&w"(a.a2), [a3] "=&w"(a.a3), [f] "+&l"(f)                  \
            : [b] "r"(bias), [x0] "l"(x0), [x1] "l"(x1), [x2] "l"(x2), [ch] "r"(channels), [ps] "i"(step)           \
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "memory") /* q0, q1 */
    if (pos_step == 4) {
        MCU_DW_TAPS4(4);
    } else {
        MCU_DW_TAPS4(8);
    }
#undef MCU_DW_TAPS4
    return a;
}
#undef MCU_DW_TAP4
#undef MCU_DW_ROW4

/* Four channels from c (the lanes `lanes` of them when `tail`) of `npos` (1 to 4) output positions, the first
 * at byte `at` of the output row's input rows `rows` (its window's left tap): the raw inputs against the filter taps from the bias with the
 * zero point folded in, each tap's filter vector loaded once for the four positions. Inlined with constant npos,
 * tail, steps and kernel width (3: the taps of a row written out), the compiler drops the other cases and the
 * taps' loads take immediate offsets. */
static MCU_ALWAYS_INLINE void mcu_dw_block_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int32_t at,
                                               int32_t c, int8_t *out,
                                               int npos, int tail, mve_pred16_t lanes, int32_t pos_step,
                                               int32_t tap_step, int32_t kernel_w)
{
    const int32_t channels = g->channels;
    mcu_dw_acc_t a;
    const int8_t *f = g->filter + c;
    if (kernel_w == 3 && npos == 4 && !tail && tap_step == 4 && (pos_step == 4 || pos_step == 8) &&
        g->kernel_h == 3) {
        a = mcu_dw_3x3_taps4_mve(g->bias + c, rows[0] + at, rows[1] + at, rows[2] + at, f, channels, pos_step);
    } else {
    a.a0 = tail ? vldrwq_z_s32(g->bias + c, lanes) : vldrwq_s32(g->bias + c);
    a.a1 = a.a2 = a.a3 = a.a0;
    for (int32_t ky = 0; ky < g->kernel_h; ++ky) {
        const int8_t *x = rows[ky] + at;
        if (kernel_w == 3) {
            a = mcu_dw_tap_mve(a, x, mcu_dw_filter_mve(f, tail, lanes), npos, pos_step);
            a = mcu_dw_tap_mve(a, mcu_dw_opaque(x + tap_step), mcu_dw_filter_mve(f + channels, tail, lanes), npos,
                               pos_step);
            a = mcu_dw_tap_mve(a, mcu_dw_opaque(x + 2 * tap_step), mcu_dw_filter_mve(f + 2 * channels, tail, lanes),
                               npos, pos_step);
            f += 3 * channels;
            continue;
        }
        const int8_t *r = x;
        for (int32_t kx = kernel_w; kx > 0; --kx, r += tap_step, f += channels) {
            a = mcu_dw_tap_mve(a, r, mcu_dw_filter_mve(f, tail, lanes), npos, pos_step);
        }
    }
    }
    const int32x4_t mult = tail ? vldrwq_z_s32(g->mult + c, lanes) : vldrwq_s32(g->mult + c);
    const int32x4_t shift = tail ? vldrwq_z_s32(g->shift + c, lanes) : vldrwq_s32(g->shift + c);
    mcu_dw_store_mve(g, out + c, a.a0, mult, shift, tail, lanes);
    if (npos > 1) {
        mcu_dw_store_mve(g, out + channels + c, a.a1, mult, shift, tail, lanes);
    }
    if (npos > 2) {
        mcu_dw_store_mve(g, out + 2 * channels + c, a.a2, mult, shift, tail, lanes);
    }
    if (npos > 3) {
        mcu_dw_store_mve(g, out + 3 * channels + c, a.a3, mult, shift, tail, lanes);
    }
}

/* Every channel of npos positions from output position ox: whole groups of four, then the last one to three
 * (their filter loads predicated; the rows hold all four lanes of a group). */
static MCU_ALWAYS_INLINE void mcu_dw_positions_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int32_t ox,
                                                   int8_t *out, int npos, int32_t pos_step, int32_t tap_step,
                                                   int32_t kernel_w)
{
    const int32_t channels = g->channels, channels4 = channels & ~3;
    int32_t at = ox * pos_step;
    out += ox * channels;
    for (int32_t c = 0; c < channels4; c += 4, at += g->group) {
        mcu_dw_block_mve(g, rows, at, c, out, npos, 0, vctp32q(4), pos_step, tap_step, kernel_w);
    }
    if (channels4 < channels) {
        mcu_dw_block_mve(g, rows, at, channels4, out, npos, 1, vctp32q((uint32_t)(channels - channels4)), pos_step,
                         tap_step, kernel_w);
    }
}

/* One output row, four positions per pass and the last ones alone: kept out of the caller's loops, which would
 * take the registers the taps need; written once, instantiated for 3-wide kernels of dilation 1 at stride 1 and
 * 2 (the steps constants) and for any other geometry. */
static MCU_ALWAYS_INLINE void mcu_dw_row_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
 int32_t out_w,
                                             int32_t pos_step, int32_t tap_step, int32_t kernel_w)
{
    int32_t ox = 0;
    for (; ox + 4 <= out_w; ox += 4) {
        mcu_dw_positions_mve(g, rows, ox, out, 4, pos_step, tap_step, kernel_w);
    }
    if (out_w - ox == 3) {
        mcu_dw_positions_mve(g, rows, ox, out, 3, pos_step, tap_step, kernel_w);
    } else if (out_w - ox == 2) {
        mcu_dw_positions_mve(g, rows, ox, out, 2, pos_step, tap_step, kernel_w);
    } else if (out_w - ox == 1) {
        mcu_dw_positions_mve(g, rows, ox, out, 1, pos_step, tap_step, kernel_w);
    }
}

/* The forms' row functions, kept out of the caller's loops, which would take the registers the taps need (a
 * model's source holds only those its forms call): 3-wide kernels of dilation 1 at stride 1 and 2, the steps
 * constants (each tap's loads take immediate offsets), and any geometry, the steps read from g. */
static MCU_NOINLINE void mcu_dw_row_3x3s1_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                              int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, 4, 4, 3);
}

static MCU_NOINLINE void mcu_dw_row_3x3s2_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                              int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, 8, 4, 3);
}

static MCU_NOINLINE void mcu_dw_row_any_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                            int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, g->pos_step, g->tap_step, g->kernel_w);
}

/* Sixteen channels (the bytes `bytes` of them when `tail`) of a row's positions into their four groups from
 * `dst`: positions [0, begin) and [end, width) the zero point, the others from the input row `src`, one load and
 * one scatter of four words per position. */
static MCU_ALWAYS_INLINE void mcu_dw_fill_chunk_mve(const mcu_dw_rows_t *restrict g, const int8_t *src, int8_t *dst,
                                                    int32_t begin, int32_t end, int32x4_t zp, int tail,
                                                    mve_pred16_t bytes, mve_pred16_t words)
{
    const int32_t channels = g->channels;
    const uint32x4_t groups = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)g->group); /* the four groups' offsets */
    int32_t i = 0;
    for (; i < begin; ++i, dst += 4) {
        if (tail) {
            vstrwq_scatter_offset_p_s32((int32_t *)(void *)dst, groups, zp, words);
        } else {
            vstrwq_scatter_offset_s32((int32_t *)(void *)dst, groups, zp);
        }
    }
    for (; i < end; ++i, src += channels, dst += 4) {
        if (tail) {
            vstrwq_scatter_offset_p_s32((int32_t *)(void *)dst, groups, vreinterpretq_s32_s8(vldrbq_z_s8(src, bytes)),
                                        words);
        } else {
            vstrwq_scatter_offset_s32((int32_t *)(void *)dst, groups, vreinterpretq_s32_s8(vldrbq_s8(src)));
        }
    }
    for (; i < g->width; ++i, dst += 4) {
        if (tail) {
            vstrwq_scatter_offset_p_s32((int32_t *)(void *)dst, groups, zp, words);
        } else {
            vstrwq_scatter_offset_s32((int32_t *)(void *)dst, groups, zp);
        }
    }
}

/* Input row y into a slot in the rows' layout (mcu_dw_rows_t); a row outside the input all zero point. */
static MCU_NOINLINE void mcu_dw_fill_row_mve(const mcu_conv2d_params_t *p, const mcu_dw_rows_t *restrict g,
                                             const int8_t *input, int32_t y, int8_t *slot)
{
    const int32_t channels = g->channels, width = g->width, chunks = channels >> 4, rest = channels & 15;
    const int32_t pad_left = p->pad_left;
    const int32_t begin = pad_left < width ? pad_left : width;
    const int32_t end = pad_left + p->in_w < width ? pad_left + p->in_w : width;
    const int8_t zp = (int8_t)p->input_zp;
    if (y < 0 || y >= p->in_h) {
        mcu_fill_s8(slot, zp, g->slot);
        return;
    }
    const int32x4_t zp4 = vreinterpretq_s32_s8(vdupq_n_s8(zp));
    const mve_pred16_t bytes = vctp8q((uint32_t)rest), words = vctp32q((uint32_t)((rest + 3) >> 2));
    const int8_t *src = input + (y * p->in_w + begin - pad_left) * channels;
    for (int32_t k = 0; k < chunks; ++k, src += 16, slot += 4 * g->group) {
        mcu_dw_fill_chunk_mve(g, src, slot, begin, end, zp4, 0, bytes, words);
    }
    if (rest) {
        mcu_dw_fill_chunk_mve(g, src, slot, begin, end, zp4, 1, bytes, words);
    }
}

/* The Helium depthwise convolution, any row function (the forms' own instantiations of mcu_dw_row_mve): four channels per vector (int8 loads widened to int32 lanes) and four
 * output positions of a row per pass, each filter vector loaded once for the four; the last positions of a row
 * one at a time, the last one to three channels predicated. Each output row's input rows are first copied into
 * the scratch buffer (depthwise_conv2d.SCRATCH) in the layout of mcu_dw_rows_t, the padding filled with the zero
 * point, so that every position multiplies raw inputs from the bias with the zero point folded in
 * (p->interior_bias, or p->bias itself without padding): a padded tap adds zp * w, which the fold takes back, as
 * TFLM skips the tap. Requantized four lanes at a time. */
typedef void (*mcu_dw_row_fn)(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                              int32_t out_w);

static MCU_NOINLINE void mcu_dw_run_mve(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                        void *scratch, mcu_dw_row_fn row)
{
    const int32_t channels = p->out_c, out_w = p->out_w;
    mcu_dw_rows_t g;
    g.filter = p->filter;
    g.bias = p->interior_bias ? p->interior_bias : p->bias;
    g.mult = p->out_mult;
    g.shift = p->out_shift;
    g.channels = channels;
    g.kernel_h = p->kernel_h;
    g.kernel_w = p->kernel_w;
    g.width = mcu_dw_rows_width(p);
    g.group = 4 * g.width;
    g.slot = g.group * ((channels + 3) >> 2);
    g.pos_step = 4 * p->stride_w;
    g.tap_step = 4 * p->dilation_w;
    g.output_zp = p->output_zp;
    g.act_min = vdupq_n_s32(p->act_min);
    g.act_max = vdupq_n_s32(p->act_max);
    const int ring = p->dilation_h == 1;
    const int32_t kernel_h = p->kernel_h;
    const int8_t **rows = scratch;
    int8_t *slots = (int8_t *)scratch + kernel_h * (int32_t)sizeof *rows;
    int32_t filled = -p->pad_top - kernel_h; /* the ring holds input rows [filled, filled + kernel_h) */
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (int32_t ky = 0; ky < kernel_h; ++ky) {
            const int32_t y = y0 + ky * p->dilation_h;
            int8_t *slot = slots + (ring ? (y % kernel_h + kernel_h) % kernel_h : ky) * g.slot;
            if (!ring || y >= filled + kernel_h) {
                mcu_dw_fill_row_mve(p, &g, input, y, slot);
            }
            rows[ky] = slot;
        }
        filled = y0;
        int8_t *out = output + oy * out_w * channels;
        row(&g, rows, out, out_w);
    }
}
#endif

#endif
