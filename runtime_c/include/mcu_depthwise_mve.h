/* SPDX-License-Identifier: Apache-2.0 */
/* What the Helium depthwise forms share (mcu_depthwise_conv2d_mve_s8 for any geometry, _3x3_mve_s8 and
 * _3x3s2_mve_s8 for 3x3 kernels of dilation_w 1 at stride_w 1 and 2): mcu_dw_run_mve with the form's row
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
    int32_t round;                      /* the short requantization proven for the layer (p->out_round set) */
    int32x4_t act_min, act_max;         /* in every lane: one load each, not a load and a VDUP */
} mcu_dw_rows_t;

/* the input positions an output row's windows span, from x = -pad_left (depthwise_conv2d.rows_width) */
static inline int32_t mcu_dw_rows_width(const mcu_conv2d_params_t *p)
{
    return (p->out_w - 1) * p->stride_w + (p->kernel_w - 1) * p->dilation_w + 1;
}

/* The accumulators of up to five output positions over four channels. */
typedef struct {
    int32x4_t a0, a1, a2, a3, a4;
} mcu_dw_acc_t;

/* one position's four lanes (those in `lanes` when `tail`), requantized to q: + the output zero point, clamped,
 * stored as int8 */
static MCU_ALWAYS_INLINE void mcu_dw_store_mve(int8_t *out, int32x4_t q, int32_t zp, int32x4_t lo, int32x4_t hi,
                                               int tail, mve_pred16_t lanes)
{
    const int32x4_t clamped = vminq_s32(vmaxq_s32(vaddq_n_s32(q, zp), lo), hi);
    if (tail) {
        vstrbq_p_s32(out, clamped, lanes);
    } else {
        vstrbq_s32(out, clamped);
    }
}

/* The exact requantization (mcu_requantize_mve) of npos positions' accumulators acc[0..npos) of the four
 * channels from c (those in `lanes`), `channels` bytes apart from out: a layer the generator could not prove the
 * short form for (rare), kept out of line so that the row functions' code holds the short form only. */
static MCU_NOINLINE void mcu_dw_stores_exact_mve(const mcu_dw_rows_t *restrict g, int8_t *out, const int32x4_t *acc,
                                                 int32_t npos, int32_t c, mve_pred16_t lanes)
{
    const int32_t zp = g->output_zp, channels = g->channels;
    const int32x4_t lo = g->act_min, hi = g->act_max;
    const int32x4_t mult = vldrwq_z_s32(g->mult + c, lanes), shift = vldrwq_z_s32(g->shift + c, lanes);
    for (int32_t k = 0; k < npos; ++k, out += channels) {
        mcu_dw_store_mve(out, mcu_requantize_mve(acc[k], mult, shift), zp, lo, hi, 1, lanes);
    }
}

/* The npos (1 to 5) positions' accumulators of the four channels from c (those in `lanes` when `tail`),
 * `channels` bytes apart from out: by the short requantization mcu_requant_round_mve where the generator proved it
 * exact for the layer (g->round: every multiplier >= 0 and shift <= -1, fixedpoint.requant_round_constants),
 * else by mcu_dw_stores_exact_mve. The zero point and bounds read once into locals: an int8 store may alias g's
 * fields, which the compiler would load again after each. */
static MCU_ALWAYS_INLINE void mcu_dw_stores_mve(const mcu_dw_rows_t *restrict g, int8_t *out, mcu_dw_acc_t a,
                                                int32_t c, int npos, int tail, mve_pred16_t lanes)
{
    if (!g->round) {
        const int32x4_t acc[5] = {a.a0, a.a1, a.a2, a.a3, a.a4};
        mcu_dw_stores_exact_mve(g, out, acc, npos, c, lanes);
        return;
    }
    const int32_t zp = g->output_zp, channels = g->channels;
    const int32x4_t lo = g->act_min, hi = g->act_max;
    const int32x4_t mult = tail ? vldrwq_z_s32(g->mult + c, lanes) : vldrwq_s32(g->mult + c);
    const int32x4_t shift = tail ? vldrwq_z_s32(g->shift + c, lanes) : vldrwq_s32(g->shift + c);
    mcu_dw_store_mve(out, mcu_requant_round_mve(a.a0, mult, shift), zp, lo, hi, tail, lanes);
    if (npos > 1) {
        mcu_dw_store_mve(out + channels, mcu_requant_round_mve(a.a1, mult, shift), zp, lo, hi, tail, lanes);
    }
    if (npos > 2) {
        mcu_dw_store_mve(out + 2 * channels, mcu_requant_round_mve(a.a2, mult, shift), zp, lo, hi, tail, lanes);
    }
    if (npos > 3) {
        mcu_dw_store_mve(out + 3 * channels, mcu_requant_round_mve(a.a3, mult, shift), zp, lo, hi, tail, lanes);
    }
    if (npos > 4) {
        mcu_dw_store_mve(out + 4 * channels, mcu_requant_round_mve(a.a4, mult, shift), zp, lo, hi, tail, lanes);
    }
}

/* A tap's pointer the compiler cannot relate to the others: the positions of one tap read bytes that other taps
 * read for other positions, and the compiler, loading each once, keeps more vectors live than Helium has
 * registers (spilled: 20% more instructions); each tap then loads its own with immediate offsets. */
static inline const int8_t *mcu_dw_opaque(const int8_t *x)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(x));
#endif
    return x;
}

/* One tap: acc_k += x[k * pos_step] * w for the npos (1 to 5) positions. */
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
    if (npos > 4) {
        a.a4 = vaddq_s32(a.a4, vmulq_s32(vldrbq_s32(x + 4 * pos_step), w));
    }
    return a;
}

/* a filter tap's four channels (the lanes `lanes` of them when `tail`: no read past the filter) */
static MCU_ALWAYS_INLINE int32x4_t mcu_dw_filter_mve(const int8_t *f, int tail, mve_pred16_t lanes)
{
    return tail ? vldrbq_z_s32(f, lanes) : vldrbq_s32(f);
}

/* The taps of a 3x3 kernel for four channels of P (1 to 5) positions `pos_step` (a constant: 4 or 8) bytes apart
 * in the rows' layout (P 4 or 5; fewer take mcu_dw_tap_mve's), the three input rows x0, x1, x2 at the first
 * position's left tap, the filter vectors at f,
 * `channels` bytes apart in tap order: a.ak = bias + sum of x * f, the same integers as mcu_dw_tap_mve's, written
 * out as VLDRB.S32 / VMUL / VADD because GCC 12 spills the accumulators of this block around the taps (the
 * widening loads take low registers only: "l"). Each filter vector is loaded once for the P positions: five
 * positions (a row of 5, or 4k + 1) take 17 instructions a tap for 5 x 4 products where four and one took 19. */
#define MCU_DW_POS(x, k, j, acc)                                                                                    \
    "vldrb.s32 q1, [%[" x "], #(" #j "*%c[ps]+" #k "*4)]\n\t"                                                      \
    "vmul.i32 q1, q1, q0\n\t"                                                                                       \
    "vadd.i32 %q[" acc "], %q[" acc "], q1\n\t"
#define MCU_DW_P4(x, k)                                                                                             \
    MCU_DW_POS(x, k, 0, "a0") MCU_DW_POS(x, k, 1, "a1") MCU_DW_POS(x, k, 2, "a2") MCU_DW_POS(x, k, 3, "a3")
#define MCU_DW_P5(x, k) MCU_DW_P4(x, k) MCU_DW_POS(x, k, 4, "a4")
#define MCU_DW_TAP(x, k, P)                                                                                         \
    "vldrb.s32 q0, [%[f]]\n\t"                                                                                      \
    "add %[f], %[f], %[ch]\n\t" MCU_DW_P##P(x, k)
#define MCU_DW_ROW(x, P) MCU_DW_TAP(x, 0, P) MCU_DW_TAP(x, 1, P) MCU_DW_TAP(x, 2, P)
#define MCU_DW_INIT4 "vldrw.u32 %q[a0], [%[b]]\n\tvmov %q[a1], %q[a0]\n\tvmov %q[a2], %q[a0]\n\tvmov %q[a3], %q[a0]\n\t"
#define MCU_DW_INIT5 MCU_DW_INIT4 "vmov %q[a4], %q[a0]\n\t"
/* one asm statement per kernel row (C99's 4095 characters a string literal), the accumulators in registers */
#define MCU_DW_TAPS(P, step)                                                                                        \
    __asm__(MCU_DW_INIT##P MCU_DW_ROW("x0", P)                                                                      \
            : [a0] "=&w"(a.a0), [a1] "=&w"(a.a1), [a2] "=&w"(a.a2), [a3] "=&w"(a.a3), [a4] "=&w"(a.a4),             \
              [f] "+&l"(f)                                                                                          \
            : [b] "r"(bias), [x0] "l"(x0), [ch] "r"(channels), [ps] "i"(step)                                       \
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "memory"); /* q0, q1 */                              \
    __asm__(MCU_DW_ROW("x1", P)                                                                                     \
            : [a0] "+w"(a.a0), [a1] "+w"(a.a1), [a2] "+w"(a.a2), [a3] "+w"(a.a3), [a4] "+w"(a.a4), [f] "+l"(f)      \
            : [x1] "l"(x1), [ch] "r"(channels), [ps] "i"(step)                                                      \
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "memory");                                            \
    __asm__(MCU_DW_ROW("x2", P)                                                                                     \
            : [a0] "+w"(a.a0), [a1] "+w"(a.a1), [a2] "+w"(a.a2), [a3] "+w"(a.a3), [a4] "+w"(a.a4), [f] "+l"(f)      \
            : [x2] "l"(x2), [ch] "r"(channels), [ps] "i"(step)                                                      \
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "memory")
#define MCU_DW_TAPS_OF(step)                                                                                        \
    if (npos == 4) {                                                                                                \
        MCU_DW_TAPS(4, step);                                                                                       \
    } else {                                                                                                        \
        MCU_DW_TAPS(5, step);                                                                                       \
    }
static MCU_ALWAYS_INLINE mcu_dw_acc_t mcu_dw_3x3_taps_mve(const int32_t *bias, const int8_t *x0, const int8_t *x1,
                                                          const int8_t *x2, const int8_t *f, int32_t channels,
                                                          int32_t pos_step, int npos)
{
    mcu_dw_acc_t a;
    if (pos_step == 4) {
        MCU_DW_TAPS_OF(4)
    } else {
        MCU_DW_TAPS_OF(8)
    }
    return a;
}
#undef MCU_DW_TAPS_OF
#undef MCU_DW_TAPS
#undef MCU_DW_INIT4
#undef MCU_DW_INIT5
#undef MCU_DW_ROW
#undef MCU_DW_TAP
#undef MCU_DW_P4
#undef MCU_DW_P5
#undef MCU_DW_POS

/* Four channels from c (the lanes `lanes` of them when `tail`) of `npos` (1 to 5) output positions, the first
 * at byte `at` of the output row's input rows `rows` (its window's left tap): the raw inputs against the filter
 * taps from the bias with the zero point folded in, each tap's filter vector loaded once for the positions.
 * Inlined with constant npos, tail, steps and kernel width (3: the taps of a row written out), the compiler drops
 * the other cases and the taps' loads take immediate offsets. */
static MCU_ALWAYS_INLINE void mcu_dw_block_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int32_t at,
                                               int32_t c, int8_t *out, int npos, int tail, mve_pred16_t lanes,
                                               int32_t pos_step, int32_t tap_step, int32_t kernel_w, int three)
{
    const int32_t channels = g->channels;
    mcu_dw_acc_t a;
    const int8_t *f = g->filter + c;
    if (kernel_w == 3 && npos >= 4 && !tail && tap_step == 4 && (pos_step == 4 || pos_step == 8) && three) {
        a = mcu_dw_3x3_taps_mve(g->bias + c, rows[0] + at, rows[1] + at, rows[2] + at, f, channels, pos_step, npos);
    } else {
        a.a0 = tail ? vldrwq_z_s32(g->bias + c, lanes) : vldrwq_s32(g->bias + c);
        a.a1 = a.a2 = a.a3 = a.a4 = a.a0;
        for (int32_t ky = 0; ky < g->kernel_h; ++ky) {
            const int8_t *x = rows[ky] + at;
            if (kernel_w == 3) {
                a = mcu_dw_tap_mve(a, x, mcu_dw_filter_mve(f, tail, lanes), npos, pos_step);
                a = mcu_dw_tap_mve(a, mcu_dw_opaque(x + tap_step), mcu_dw_filter_mve(f + channels, tail, lanes), npos,
                                   pos_step);
                a = mcu_dw_tap_mve(a, mcu_dw_opaque(x + 2 * tap_step),
                                   mcu_dw_filter_mve(f + 2 * channels, tail, lanes), npos, pos_step);
                f += 3 * channels;
                continue;
            }
            const int8_t *r = x;
            for (int32_t kx = kernel_w; kx > 0; --kx, r += tap_step, f += channels) {
                a = mcu_dw_tap_mve(a, r, mcu_dw_filter_mve(f, tail, lanes), npos, pos_step);
            }
        }
    }
    mcu_dw_stores_mve(g, out + c, a, c, npos, tail, lanes);
}

/* The last one to three channels (channels not a multiple of 4) of npos positions from byte `at` of the rows and
 * out: one position at a time, the filter loads predicated (the rows hold all four lanes of a group); out of line,
 * its steps read from g, one copy for every row function of a model (the rest is rare). */
static MCU_NOINLINE void mcu_dw_tail_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int32_t at,
                                         int8_t *out, int32_t npos)
{
    const int32_t channels = g->channels, c = channels & ~3;
    const mve_pred16_t lanes = vctp32q((uint32_t)(channels - c));
    for (int32_t k = 0; k < npos; ++k, at += g->pos_step, out += channels) {
        mcu_dw_block_mve(g, rows, at, c, out, 1, 1, lanes, g->pos_step, g->tap_step, g->kernel_w, 0);
    }
}

/* Every channel of npos positions from output position ox: whole groups of four, then the last one to three. */
static MCU_ALWAYS_INLINE void mcu_dw_positions_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int32_t ox,
                                                   int8_t *out, int npos, int32_t pos_step, int32_t tap_step,
                                                   int32_t kernel_w, int three)
{
    const int32_t channels = g->channels, channels4 = channels & ~3;
    int32_t at = ox * pos_step;
    out += ox * channels;
    for (int32_t c = 0; c < channels4; c += 4, at += g->group) {
        mcu_dw_block_mve(g, rows, at, c, out, npos, 0, vctp32q(4), pos_step, tap_step, kernel_w, three);
    }
    if (channels4 < channels) {
        mcu_dw_tail_mve(g, rows, at, out, npos);
    }
}

/* One output row, four positions per pass; with `three` (a constant: the 3x3 forms, kernel_h 3 as
 * depthwise_conv2d.variants picks them, whose taps of four and five positions take assembly) a rest of one after
 * at least four taken with the last four as five (a lone position loads every filter vector for one product),
 * else the last two or three together or one alone. Kept out of the caller's loops, which would take the
 * registers the taps need; written once, instantiated for 3x3 kernels of dilation_w 1 at stride_w 1 and 2 (the
 * steps constants) and for any other geometry. */
static MCU_ALWAYS_INLINE void mcu_dw_row_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                             int32_t out_w, int32_t pos_step, int32_t tap_step, int32_t kernel_w,
                                             int three)
{
    const int five = three && out_w > 4 && (out_w & 3) == 1;
    const int32_t fours = five ? out_w - 5 : out_w & ~3;
    int32_t ox = 0;
    for (; ox < fours; ox += 4) {
        mcu_dw_positions_mve(g, rows, ox, out, 4, pos_step, tap_step, kernel_w, three);
    }
    if (five) {
        mcu_dw_positions_mve(g, rows, ox, out, 5, pos_step, tap_step, kernel_w, three);
    } else if (out_w - ox == 3) {
        mcu_dw_positions_mve(g, rows, ox, out, 3, pos_step, tap_step, kernel_w, three);
    } else if (out_w - ox == 2) {
        mcu_dw_positions_mve(g, rows, ox, out, 2, pos_step, tap_step, kernel_w, three);
    } else if (out_w - ox == 1) {
        mcu_dw_positions_mve(g, rows, ox, out, 1, pos_step, tap_step, kernel_w, three);
    }
}

/* The forms' row functions, kept out of the caller's loops, which would take the registers the taps need (a
 * model's source holds only those its forms call): 3x3 kernels of dilation_w 1 at stride_w 1 and 2, the steps
 * constants (each tap's loads take immediate offsets), and any geometry, the steps read from g. */
static MCU_NOINLINE void mcu_dw_row_3x3s1_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                              int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, 4, 4, 3, 1);
}

static MCU_NOINLINE void mcu_dw_row_3x3s2_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                              int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, 8, 4, 3, 1);
}

static MCU_NOINLINE void mcu_dw_row_any_mve(const mcu_dw_rows_t *restrict g, const int8_t *const *rows, int8_t *out,
                                            int32_t out_w)
{
    mcu_dw_row_mve(g, rows, out, out_w, g->pos_step, g->tap_step, g->kernel_w, 0);
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
    g.round = p->out_round != NULL;
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
