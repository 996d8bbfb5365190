/* SPDX-License-Identifier: Apache-2.0 */
/* What the DSP depthwise forms share (mcu_depthwise_conv2d_dsp_s8 for any geometry, _3x3_dsp_s8 and
 * _3x3s2_dsp_s8 for 3x3 kernels of dilation 1 at stride_w 1 and 2): four channels of a tap as one word, split
 * by SXTB16 into even lanes (channels 0, 2) and odd lanes (1, 3), each channel its own SMLABB / SMLATT. */
#ifndef MCU_DEPTHWISE_DSP_H
#define MCU_DEPTHWISE_DSP_H

#include <stdint.h>
#include <string.h>

#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_DSP
typedef struct {
    int32_t a0, a1, a2, a3;
} mcu_acc4_t;

/* acc[k] += x[k] * f[k] for four channels: their inputs and filter taps as even and odd int16 pairs */
static MCU_ALWAYS_INLINE mcu_acc4_t mcu_dw_tap4(mcu_acc4_t a, int32_t xe, int32_t xo, int32_t fe, int32_t fo)
{
    a.a0 = __smlabb(xe, fe, a.a0);
    a.a1 = __smlabb(xo, fo, a.a1);
    a.a2 = __smlatt(xe, fe, a.a2);
    a.a3 = __smlatt(xo, fo, a.a3);
    return a;
}

static MCU_ALWAYS_INLINE mcu_acc4_t mcu_dw_bias4(const int32_t *bias)
{
    const mcu_acc4_t a = {bias[0], bias[1], bias[2], bias[3]};
    return a;
}

/* the raw int8 words of four inputs and four filter taps */
static MCU_ALWAYS_INLINE mcu_acc4_t mcu_dw_raw_tap4(mcu_acc4_t a, const int8_t *x, const int8_t *f)
{
    const int32_t xw = mcu_load_s8x4(x), fw = mcu_load_s8x4(f);
    return mcu_dw_tap4(a, __sxtb16(xw), mcu_sxtb16_ror8(xw), __sxtb16(fw), mcu_sxtb16_ror8(fw));
}

/* The 3x3 forms' input rows (the scratch buffer: three slots of `width` positions of `channels` bytes, NHWC as
 * the input, from x = -pad_left; depthwise_conv2d.rows_width), a position outside the input holding the zero
 * point. A ring: input row y in slot y mod 3, copied once, not once per output row that reads it; a row that
 * needs no padding is read in place. Every position then multiplies raw inputs from the bias with the zero
 * point folded in (p->interior_bias, or p->bias itself without padding): a padded tap adds zp * w, which the
 * fold takes back, as TFLM skips the tap. No bounds tests in the loops. */
typedef struct {
    const int8_t *filter;               /* [3][3][channels] */
    const int32_t *bias;                /* folded */
    mcu_requant_s8_t q;
    int32_t channels;
} mcu_dw3_t;

/* mcu_dw_raw_tap4 as ten instructions in this order: GCC otherwise hoists the loads of a block of taps to its
 * start and spills what it loaded (a third more instructions); the loads' addressing is the compiler's. */
static MCU_ALWAYS_INLINE mcu_acc4_t mcu_dw_tap4_asm(mcu_acc4_t a, const int8_t *x, const int8_t *f)
{
#if defined(__GNUC__)
    int32_t xe, xo, fe, fo;
    __asm__("ldr %[xo], %[xm]\n\t"
            "ldr %[fo], %[fm]\n\t"
            "sxtb16 %[xe], %[xo]\n\t"
            "sxtb16 %[fe], %[fo]\n\t"
            "sxtb16 %[xo], %[xo], ror #8\n\t"
            "sxtb16 %[fo], %[fo], ror #8\n\t"
            "smlabb %[a0], %[xe], %[fe], %[a0]\n\t"
            "smlatt %[a2], %[xe], %[fe], %[a2]\n\t"
            "smlabb %[a1], %[xo], %[fo], %[a1]\n\t"
            "smlatt %[a3], %[xo], %[fo], %[a3]"
            : [a0] "+r"(a.a0), [a1] "+r"(a.a1), [a2] "+r"(a.a2), [a3] "+r"(a.a3), [xe] "=&r"(xe), [xo] "=&r"(xo),
              [fe] "=&r"(fe), [fo] "=&r"(fo)
            : [xm] "m"(*(const int32_t *)(const void *)x), [fm] "m"(*(const int32_t *)(const void *)f));
    return a;
#else
    return mcu_dw_raw_tap4(a, x, f);
#endif
}

/* One kernel row of four channels from c for one position (inputs from x, filter taps from f, both `channels`
 * bytes from one tap to the next), the taps written out: GCC -O2 keeps a loop of three taps rolled. */
static MCU_ALWAYS_INLINE mcu_acc4_t mcu_dw3_row1_dsp(mcu_acc4_t a, const int8_t *x, const int8_t *f, int32_t channels)
{
    a = mcu_dw_tap4_asm(a, x, f);
    a = mcu_dw_tap4_asm(a, x + channels, f + channels);
    return mcu_dw_tap4_asm(a, x + 2 * channels, f + 2 * channels);
}

/* One kernel row for two neighbouring positions at stride 1, the lanes of one parity of four channels (even:
 * channels 0 and 2 in acc0 / acc2, b0 / b2 the second position; ROT ", ror #8": the odd ones): the row's three
 * filter words and four input words (the middle two read by both windows) loaded and widened once, twelve
 * SMLAxy; 28 instructions, 12 registers (GCC's C for both parities at once took twice the instructions: it hoisted
 * the loads and spilled). x, f: the row's first input and filter words, `channels` bytes from one tap to the
 * next. */
#define MCU_DW3_ROW2_ASM(ROT, A0, A2, B0, B2, X, F, C)                                                  \
    do {                                                                                                       \
        int32_t f0_, f1_, f2_, t_;                                                                             \
        const int8_t *p_;                                                                                      \
        __asm__("ldr %[t], [%[f]]\n\t"                                                                         \
                "sxtb16 %[f0], %[t]" ROT "\n\t"                                                                \
                "ldr %[t], [%[f], %[c]]\n\t"                                                                   \
                "sxtb16 %[f1], %[t]" ROT "\n\t"                                                                \
                "add %[p], %[f], %[c], lsl #1\n\t"                                                             \
                "ldr %[t], [%[p]]\n\t"                                                                         \
                "sxtb16 %[f2], %[t]" ROT "\n\t"                                                                \
                "ldr %[t], [%[x]]\n\t"                                                                         \
                "sxtb16 %[t], %[t]" ROT "\n\t"                                                                 \
                "smlabb %[a0], %[t], %[f0], %[a0]\n\t"                                                         \
                "smlatt %[a2], %[t], %[f0], %[a2]\n\t"                                                         \
                "ldr %[t], [%[x], %[c]]\n\t"                                                                   \
                "sxtb16 %[t], %[t]" ROT "\n\t"                                                                 \
                "smlabb %[a0], %[t], %[f1], %[a0]\n\t"                                                         \
                "smlatt %[a2], %[t], %[f1], %[a2]\n\t"                                                         \
                "smlabb %[b0], %[t], %[f0], %[b0]\n\t"                                                         \
                "smlatt %[b2], %[t], %[f0], %[b2]\n\t"                                                         \
                "add %[p], %[x], %[c], lsl #1\n\t"                                                             \
                "ldr %[t], [%[p]]\n\t"                                                                         \
                "sxtb16 %[t], %[t]" ROT "\n\t"                                                                 \
                "smlabb %[a0], %[t], %[f2], %[a0]\n\t"                                                         \
                "smlatt %[a2], %[t], %[f2], %[a2]\n\t"                                                         \
                "smlabb %[b0], %[t], %[f1], %[b0]\n\t"                                                         \
                "smlatt %[b2], %[t], %[f1], %[b2]\n\t"                                                         \
                "ldr %[t], [%[p], %[c]]\n\t"                                                                   \
                "sxtb16 %[t], %[t]" ROT "\n\t"                                                                 \
                "smlabb %[b0], %[t], %[f2], %[b0]\n\t"                                                         \
                "smlatt %[b2], %[t], %[f2], %[b2]"                                                             \
                : [a0] "+r"(A0), [a2] "+r"(A2), [b0] "+r"(B0), [b2] "+r"(B2), [f0] "=&r"(f0_), [f1] "=&r"(f1_), \
                  [f2] "=&r"(f2_), [t] "=&r"(t_), [p] "=&r"(p_)                                                \
                : [x] "r"(X), [f] "r"(F), [c] "r"(C)                                                    \
                : "memory");                                                                                   \
    } while (0)

/* Four channels from c of one output position, its window from byte `at` of the three rows. */
static MCU_ALWAYS_INLINE void mcu_dw3_block1_dsp(const mcu_dw3_t *restrict g, const int8_t *const *rows, int32_t at,
                                                 int32_t c, int8_t *out)
{
    const int32_t channels = g->channels;
    const int8_t *f = g->filter + c;
    mcu_acc4_t a = mcu_dw_bias4(g->bias + c);
    a = mcu_dw3_row1_dsp(a, rows[0] + at + c, f, channels);
    a = mcu_dw3_row1_dsp(a, rows[1] + at + c, f + 3 * channels, channels);
    a = mcu_dw3_row1_dsp(a, rows[2] + at + c, f + 6 * channels, channels);
    mcu_store4_s8(g->q, out, c, 4, a.a0, a.a1, a.a2, a.a3);
}

/* The same for two neighbouring positions at stride 1: each kernel row's lanes of one parity, then the other's
 * (four accumulators live at a time). */
static MCU_ALWAYS_INLINE void mcu_dw3_block2_dsp(const mcu_dw3_t *restrict g, const int8_t *const *rows, int32_t at,
                                                 int32_t c, int8_t *out)
{
    const int32_t channels = g->channels;
    const int8_t *f = g->filter + c;
    const int32_t *bias = g->bias + c;
    const int8_t *x0 = rows[0] + at + c, *x1 = rows[1] + at + c, *x2 = rows[2] + at + c;
    int32_t a0 = bias[0], a2 = bias[2], b0 = a0, b2 = a2;
    MCU_DW3_ROW2_ASM("", a0, a2, b0, b2, x0, f, channels);
    MCU_DW3_ROW2_ASM("", a0, a2, b0, b2, x1, f + 3 * channels, channels);
    MCU_DW3_ROW2_ASM("", a0, a2, b0, b2, x2, f + 6 * channels, channels);
    int32_t a1 = bias[1], a3 = bias[3], b1 = a1, b3 = a3;
    MCU_DW3_ROW2_ASM(", ror #8", a1, a3, b1, b3, x0, f, channels);
    MCU_DW3_ROW2_ASM(", ror #8", a1, a3, b1, b3, x1, f + 3 * channels, channels);
    MCU_DW3_ROW2_ASM(", ror #8", a1, a3, b1, b3, x2, f + 6 * channels, channels);
    mcu_store4_s8(g->q, out, c, 4, a0, a1, a2, a3);
    mcu_store4_s8(g->q, out + channels, c, 4, b0, b1, b2, b3);
}

/* the last one to three channels of a position (window from byte `at`), one by one */
static inline void mcu_dw3_rest_dsp(const mcu_dw3_t *restrict g, const int8_t *const *rows, int32_t at,
                                    int8_t *out)
{
    const int32_t channels = g->channels;
    for (int32_t c = channels & ~3; c < channels; ++c) {
        int32_t sum = g->bias[c];
        for (int32_t t = 0; t < 9; ++t) {
            sum += rows[t / 3][at + (t % 3) * channels + c] * g->filter[t * channels + c];
        }
        mcu_store4_s8(g->q, out, c, 1, sum, 0, 0, 0);
    }
}

/* One output row at stride 1: two positions per pass (kws on the M4: 3% fewer instructions than one at a time),
 * the last one alone. Kept out of the driver's loops, as the row functions below. */
static MCU_NOINLINE void mcu_dw3_row_s1_dsp(const mcu_dw3_t *restrict g, const int8_t *const *rows, int8_t *out,
                                            int32_t out_w)
{
    const int32_t channels = g->channels, channels4 = channels & ~3;
    int32_t ox = 0;
    for (; ox + 2 <= out_w; ox += 2, out += 2 * channels) {
        for (int32_t c = 0; c < channels4; c += 4) {
            mcu_dw3_block2_dsp(g, rows, ox * channels, c, out);
        }
        mcu_dw3_rest_dsp(g, rows, ox * channels, out);
        mcu_dw3_rest_dsp(g, rows, (ox + 1) * channels, out + channels);
    }
    for (; ox < out_w; ++ox, out += channels) {
        for (int32_t c = 0; c < channels4; c += 4) {
            mcu_dw3_block1_dsp(g, rows, ox * channels, c, out);
        }
        mcu_dw3_rest_dsp(g, rows, ox * channels, out);
    }
}

/* One output row at stride 2: one position at a time (two windows share one column in three) */
static MCU_NOINLINE void mcu_dw3_row_s2_dsp(const mcu_dw3_t *restrict g, const int8_t *const *rows, int8_t *out,
                                            int32_t out_w)
{
    const int32_t channels = g->channels, channels4 = channels & ~3;
    for (int32_t ox = 0; ox < out_w; ++ox, out += channels) {
        for (int32_t c = 0; c < channels4; c += 4) {
            mcu_dw3_block1_dsp(g, rows, 2 * ox * channels, c, out);
        }
        mcu_dw3_rest_dsp(g, rows, 2 * ox * channels, out);
    }
}

typedef void (*mcu_dw3_row_fn)(const mcu_dw3_t *restrict g, const int8_t *const *rows, int8_t *out, int32_t out_w);

/* Input row y as the ring holds it (`slot`: width positions), or the row itself when it needs no padding. */
static const int8_t *mcu_dw3_fill_row_dsp(const mcu_conv2d_params_t *p, const int8_t *input, int32_t y,
                                          int32_t width, int8_t *slot)
{
    const int32_t channels = p->in_c, pad_left = p->pad_left;
    const int32_t begin = pad_left < width ? pad_left : width;
    const int32_t end = pad_left + p->in_w < width ? pad_left + p->in_w : width;
    const int inside = y >= 0 && y < p->in_h;
    if (inside && begin == 0 && end == width) {
        return input + y * p->in_w * channels;
    }
    const int8_t zp = (int8_t)p->input_zp;
    if (!inside) {
        memset(slot, zp, (size_t)(width * channels));
        return slot;
    }
    memset(slot, zp, (size_t)(begin * channels));
    memcpy(slot + begin * channels, input + y * p->in_w * channels, (size_t)((end - begin) * channels));
    memset(slot + end * channels, zp, (size_t)((width - end) * channels));
    return slot;
}

/* The 3x3 forms' driver: each output row's new input rows into the ring, then the form's row function. */
static MCU_NOINLINE void mcu_dw3_run_dsp(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                         void *scratch, mcu_dw3_row_fn row)
{
    const int32_t channels = p->out_c, out_w = p->out_w;
    const int32_t width = (out_w - 1) * p->stride_w + 3, slot = width * channels;
    mcu_dw3_t g;
    g.filter = p->filter;
    g.bias = p->interior_bias ? p->interior_bias : p->bias;
    g.q = mcu_conv_out(p);
    g.channels = channels;
    int8_t *slots = scratch;
    const int8_t *rows[3];
    const int8_t *held[3] = {0, 0, 0};
    int32_t filled = -p->pad_top - 3; /* the ring holds input rows [filled, filled + 3) */
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int32_t y = y0 + ky, k = (y % 3 + 3) % 3;
            if (y >= filled + 3) {
                held[k] = mcu_dw3_fill_row_dsp(p, input, y, width, slots + k * slot);
            }
            rows[ky] = held[k];
        }
        filled = y0;
        row(&g, rows, output + oy * out_w * channels, out_w);
    }
}

#endif

#endif
