/* SPDX-License-Identifier: Apache-2.0 */
/* The DSP 3x3 depthwise forms (mcu_depthwise_conv2d_3x3_dsp_s8 at stride_w 1, _3x3s2_dsp_s8 at stride_w 2;
 * dilation 1): each input row the windows reach is widened once into a ring of three slots, channel-major
 * ([channels][pitch] int16: one channel's positions side by side), as x - zp and 0 where the window lies outside
 * the input. A channel's row then holds neighbouring taps in one word, and one SMLAD takes two of them: per
 * kernel row, (x0, x1) by (f0, f1) and x2 by f2 for one output, (x2, x3) by (f1, f2) and x1 by f0 for the next.
 * The sum is TFLM's accumulator itself, bias + sum (x - zp) w, a padded tap adding 0 as TFLM skips it: no folded
 * bias. Each channel's filter is packed into those pairs once per call, into the scratch before the ring
 * (mcu_dw3p_pack). */
#ifndef MCU_DEPTHWISE_PLANAR_DSP_H
#define MCU_DEPTHWISE_PLANAR_DSP_H

#include <stdint.h>
#include <string.h>

#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_DSP
/* A slot's positions per channel: the row's width rounded up past it to even, so that every channel's row is
 * word-aligned and a pair read at the last position stays inside the row (depthwise_conv2d._dsp_planar). */
static inline int32_t mcu_dw3p_pitch(int32_t width)
{
    return (width + 2) & ~1;
}

/* A channel's filter as SMLAD pairs, packed once per call: per kernel row (f0 | f1 << 16), (f1 | f2 << 16) */
enum { MCU_DW3P_PACK = 6 };

typedef struct {
    const int32_t *taps; /* [channels][MCU_DW3P_PACK] */
    const int32_t *bias;
    mcu_requant_s8_t q;
    int32_t channels, pitch;
} mcu_dw3p_t;

static inline int32_t mcu_load_s16x2(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Each channel's pack (MCU_DW3P_PACK words) from the filter [3][3][channels] */
static void mcu_dw3p_pack(const mcu_conv2d_params_t *p, int32_t *pack)
{
    const int32_t channels = p->out_c;
    for (int32_t c = 0; c < channels; ++c, pack += MCU_DW3P_PACK) {
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int8_t *f = p->filter + 3 * ky * channels + c;
            const int32_t f0 = f[0], f1 = f[channels], f2 = f[2 * channels];
            pack[2 * ky] = mcu_pack_low16(f0, f1);
            pack[2 * ky + 1] = mcu_pack_low16(f1, f2);
        }
    }
}

/* Input row y into a slot: positions from x = -pad_left, pitch of them per channel; only the positions inside
 * the input are written, the others hold the 0 the ring was cleared to at the start of the call (a row outside
 * the input is cleared whole). Four channels at a time: pairs of positions (even x: one word per channel; the
 * pitch is even), an odd first or last position alone. */
static MCU_ALWAYS_INLINE void mcu_dw3p_fill_one4(const int8_t *at, int32_t zp2, int16_t *to, int32_t pitch)
{
    const int32_t w = mcu_load_s8x4(at), even = mcu_even_s8x4(w, zp2), odd = mcu_odd_s8x4(w, zp2);
    to[0] = (int16_t)even;
    to[pitch] = (int16_t)odd;
    to[2 * pitch] = (int16_t)(even >> 16);
    to[3 * pitch] = (int16_t)(odd >> 16);
}

static MCU_NOINLINE void mcu_dw3p_fill_row(const mcu_conv2d_params_t *p, const int8_t *input, int32_t y,
                                           int32_t pitch, int16_t *slot)
{
    const int32_t channels = p->in_c, zp = p->input_zp;
    if (y < 0 || y >= p->in_h) {
        memset(slot, 0, (size_t)(channels * pitch) * sizeof *slot);
        return;
    }
    const int32_t begin = p->pad_left, end = p->pad_left + p->in_w; /* end <= width + 1 <= pitch: stride_w <= 2 */
    const int32_t first = (begin + 1) & ~1, last = end & ~1;     /* the pairs [first, last) */
    const int32_t zp2 = mcu_pair_s16(zp), half = pitch / 2;
    const int8_t *row = input + (y * p->in_w - begin) * channels;
    int32_t c = 0;
    for (; c + 4 <= channels; c += 4) {
        int16_t *to = slot + c * pitch;
        if (begin & 1) {
            mcu_dw3p_fill_one4(row + begin * channels + c, zp2, to + begin, pitch);
        }
        const int8_t *at = row + first * channels + c;
        int32_t *t = (int32_t *)(void *)(to + first);
        for (int32_t x = first; x < last; x += 2, at += 2 * channels, ++t) {
            const int32_t a = mcu_load_s8x4(at), b = mcu_load_s8x4(at + channels);
            const int32_t ae = mcu_even_s8x4(a, zp2), be = mcu_even_s8x4(b, zp2);
            const int32_t ao = mcu_odd_s8x4(a, zp2), bo = mcu_odd_s8x4(b, zp2);
            t[0] = mcu_pack_low16(ae, be);
            t[half] = mcu_pack_low16(ao, bo);
            t[2 * half] = mcu_pack_high16(ae, be);
            t[3 * half] = mcu_pack_high16(ao, bo);
        }
        if (end & 1) {
            mcu_dw3p_fill_one4(row + last * channels + c, zp2, to + last, pitch);
        }
    }
    for (; c < channels; ++c) {
        for (int32_t x = begin; x < end; ++x) {
            slot[c * pitch + x] = (int16_t)(row[x * channels + c] - zp);
        }
    }
}

/* One kernel row's part of one output, the rest of the row function in C (x: its first tap; the pair read at
 * x + 2 stays in the row's pitch) */
#define MCU_DW3P_TAPS(s, x, t) (s = __smlabt(mcu_load_s16x2((x) + 2), (t)[1], __smlad(mcu_load_s16x2(x), (t)[0], s)))

/* An output row, a layer the short requantization to the whole int8 range is not proven for (the exact form or
 * a clamp to the activation): one position at a time, by mcu_requant_s8. */
static MCU_NOINLINE void mcu_dw3p_row_c(const mcu_dw3p_t *restrict g, const int16_t *const *rows, int8_t *out,
                                        int32_t out_w, int32_t stride)
{
    const int32_t channels = g->channels, pitch = g->pitch;
    for (int32_t c = 0; c < channels; ++c) {
        const int32_t *t = g->taps + MCU_DW3P_PACK * c;
        for (int32_t ox = 0; ox < out_w; ++ox) {
            const int32_t at = c * pitch + ox * stride;
            int32_t s = g->bias[c];
            MCU_DW3P_TAPS(s, rows[0] + at, t);
            MCU_DW3P_TAPS(s, rows[1] + at, t + 2);
            MCU_DW3P_TAPS(s, rows[2] + at, t + 4);
            out[ox * channels + c] = mcu_requant_s8(g->q, s, c);
        }
    }
}

/* An output row of the assembly: the three rows' and the pack's pointers at channel 0 and what it steps by. */
typedef struct {
    const int16_t *x0, *x1, *x2;
    const int32_t *pack;
    int8_t *out;
    int32_t channels;
    int32_t pairs, odd;            /* out_w / 2 passes of two positions, then one alone if odd */
    int32_t dx, dout;              /* after a channel's passes: to the next channel's rows (bytes), output (+1) */
    const int32_t *bias, *mult, *round; /* channel 0's; round: {rounding, exponent} per channel */
} mcu_dw3p_job_t;

/* One kernel row of a pass at stride 1: the row's pairs (r9, r10), the input pairs (x0, x1) (x2, x3) of the row
 * at X (r11, r12; X stepped on by one pair); s0 (r7) += x0 f0 + x1 f1 + x2 f2, s1 (r8) += x1 f0 + x2 f1 + x3 f2 */
#define MCU_DW3P_S1(X, OFF)                                                                                    \
    "ldrd r9, r10, [r3, #" OFF "]\n\t"                                                                         \
    "ldrd r11, r12, [" X "], #4\n\t"                                                                           \
    "smlad r7, r11, r9, r7\n\t"                                                                                \
    "smlabt r7, r12, r10, r7\n\t"                                                                              \
    "smlatb r8, r11, r9, r8\n\t"                                                                               \
    "smlad r8, r12, r10, r8\n\t"
/* at stride 2: inputs (x0, x1) (x2, x3) (x4, x5) (r11, r12, lr; X stepped on by two pairs); s1 from x2 */
#define MCU_DW3P_S2(X, OFF)                                                                                    \
    "ldrd r9, r10, [r3, #" OFF "]\n\t"                                                                         \
    "ldrd r11, r12, [" X "], #8\n\t"                                                                           \
    "ldr lr, [" X "]\n\t"                                                                                      \
    "smlad r7, r11, r9, r7\n\t"                                                                                \
    "smlabt r7, r12, r10, r7\n\t"                                                                              \
    "smlad r8, r12, r9, r8\n\t"                                                                                \
    "smlabt r8, lr, r10, r8\n\t"
/* the lone last position (no step) */
#define MCU_DW3P_ONE(X, OFF)                                                                                   \
    "ldrd r9, r10, [r3, #" OFF "]\n\t"                                                                         \
    "ldrd r11, r12, [" X "]\n\t"                                                                               \
    "smlad r7, r11, r9, r7\n\t"                                                                                \
    "smlabt r7, r12, r10, r7\n\t"
/* S (a sum register) requantized by mcu_requant_round (multiplier r9, rounding r10, exponent r11) and SSAT into
 * r12 */
#define MCU_DW3P_CONSTANTS "ldr r9, [sp, #36]\n\tldrd r10, r11, [sp, #40]\n\t"
#define MCU_DW3P_REQUANT(S)                                                                                    \
    "add r12, " S ", " S "\n\t"                                                                                \
    "smmlar r12, r12, r9, r10\n\t"                                                                             \
    "add r12, r12, " S ", asr #31\n\t"                                                                         \
    "asr r12, r12, r11\n\t"                                                                                    \
    "ssat r12, #8, r12\n\t"

/* A job's output row, every channel, two positions per pass (PASS: MCU_DW3P_S1 or _S2): 37 instructions per pass
 * at stride 1, where GCC's schedule of the same intrinsics spilled (about 60). Registers: r0-r2 the kernel rows,
 * r3 the pack, r4 the output, r5 the channels (the output's step), r6 the passes left, r7 r8 the sums; the job's
 * counts on the stack. */
#define MCU_DW3P_ROW_ASM(PASS)                                                                                 \
    __asm__("push {r4-r11, lr}\n\t"                                                                            \
            "sub sp, sp, #48\n\t"                                                                              \
            "ldrd r4, r5, [r0, #24]\n\t"                                                                       \
            "ldrd r6, r7, [r0, #32]\n\t"                                                                       \
            "ldr r8, [r0, #20]\n\t"                                                                            \
            "ldrd r9, r10, [r0, #40]\n\t"                                                                      \
            "ldr r11, [r0, #48]\n\t"                                                                           \
            "stm sp, {r4-r11}\n\t" /* [sp] pairs, odd, dx, dout, channels left, bias, mult, round pointers */  \
            "ldm r0, {r0-r5}\n\t"                                                                              \
            "1:\n\t" /* the channel's bias and requantization to [sp, #32 .. #44] */                          \
            "ldrd r6, r7, [sp, #20]\n\t"                                                                       \
            "ldr r8, [sp, #28]\n\t"                                                                            \
            "ldr r9, [r6], #4\n\t"                                                                             \
            "ldr r10, [r7], #4\n\t"                                                                            \
            "ldrd r11, r12, [r8], #8\n\t"                                                                      \
            "strd r6, r7, [sp, #20]\n\t"                                                                       \
            "str r8, [sp, #28]\n\t"                                                                            \
            "add lr, sp, #32\n\t"                                                                              \
            "stm lr, {r9-r12}\n\t"                                                                             \
            "ldr r6, [sp, #0]\n\t"                                                                             \
            "cmp r6, #0\n\t"                                                                                   \
            "beq 3f\n\t"                                                                                       \
            "2:\n\t"                                                                                           \
            "ldr r7, [sp, #32]\n\t"                                                                            \
            "mov r8, r7\n\t" PASS("r0", "0") PASS("r1", "8") PASS("r2", "16") MCU_DW3P_CONSTANTS               \
                MCU_DW3P_REQUANT("r7")                                                                         \
            "strb r12, [r4]\n\t" MCU_DW3P_REQUANT("r8")                                                        \
            "strb r12, [r4, r5]\n\t"                                                                           \
            "add r4, r4, r5, lsl #1\n\t"                                                                       \
            "subs r6, r6, #1\n\t"                                                                              \
            "bne 2b\n\t"                                                                                       \
            "3:\n\t"                                                                                           \
            "ldr r6, [sp, #4]\n\t"                                                                             \
            "cmp r6, #0\n\t"                                                                                   \
            "beq 4f\n\t"                                                                                       \
            "ldr r7, [sp, #32]\n\t" MCU_DW3P_ONE("r0", "0") MCU_DW3P_ONE("r1", "8") MCU_DW3P_ONE("r2", "16")   \
                MCU_DW3P_CONSTANTS MCU_DW3P_REQUANT("r7")                                                      \
            "strb r12, [r4]\n\t"                                                                               \
            "4:\n\t"                                                                                           \
            "ldrd r6, r7, [sp, #8]\n\t"                                                                        \
            "add r0, r0, r6\n\t"                                                                               \
            "add r1, r1, r6\n\t"                                                                               \
            "add r2, r2, r6\n\t"                                                                               \
            "add r4, r4, r7\n\t"                                                                               \
            "add r3, r3, #24\n\t"                                                                              \
            "ldr r6, [sp, #16]\n\t"                                                                            \
            "subs r6, r6, #1\n\t"                                                                              \
            "str r6, [sp, #16]\n\t"                                                                            \
            "bne 1b\n\t"                                                                                       \
            "add sp, sp, #48\n\t"                                                                              \
            "pop {r4-r11, pc}\n\t")

__attribute__((naked, noinline, unused)) static void mcu_dw3p_row_s1_asm(const mcu_dw3p_job_t *job MCU_NAKED_ARG)
{
    MCU_DW3P_ROW_ASM(MCU_DW3P_S1);
}

__attribute__((naked, noinline, unused)) static void mcu_dw3p_row_s2_asm(const mcu_dw3p_job_t *job MCU_NAKED_ARG)
{
    MCU_DW3P_ROW_ASM(MCU_DW3P_S2);
}

/* An output row at stride 1 or 2: the assembly where the layer is proven for the short requantization to the
 * whole int8 range (the common case: TFLite's fused ReLU / ReLU6 usually spans it), else mcu_dw3p_row_c */
static MCU_ALWAYS_INLINE void mcu_dw3p_row(const mcu_dw3p_t *restrict g, const int16_t *const *rows, int8_t *out,
                                           int32_t out_w, int32_t stride)
{
    if (g->q.kind != MCU_REQUANT_ROUND_S8) {
        mcu_dw3p_row_c(g, rows, out, out_w, stride);
        return;
    }
    const int32_t pairs = out_w / 2;
    const mcu_dw3p_job_t job = {rows[0], rows[1], rows[2], g->taps, out, g->channels, pairs, out_w & 1,
                                2 * g->pitch - 4 * stride * pairs, 1 - 2 * g->channels * pairs, g->bias, g->q.mult,
                                g->q.round};
    if (stride == 1) {
        mcu_dw3p_row_s1_asm(&job);
    } else {
        mcu_dw3p_row_s2_asm(&job);
    }
}

static MCU_NOINLINE void mcu_dw3p_row_s1(const mcu_dw3p_t *restrict g, const int16_t *const *rows, int8_t *out,
                                         int32_t out_w)
{
    mcu_dw3p_row(g, rows, out, out_w, 1);
}

static MCU_NOINLINE void mcu_dw3p_row_s2(const mcu_dw3p_t *restrict g, const int16_t *const *rows, int8_t *out,
                                         int32_t out_w)
{
    mcu_dw3p_row(g, rows, out, out_w, 2);
}

typedef void (*mcu_dw3p_row_fn)(const mcu_dw3p_t *restrict g, const int16_t *const *rows, int8_t *out,
                                int32_t out_w);

/* The driver: the taps packed, then per output row its new input rows into the ring and the row function.
 * Scratch: the packs (24 bytes per channel), then three slots of channels * pitch int16. */
static MCU_NOINLINE void mcu_dw3p_run(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                      void *scratch, mcu_dw3p_row_fn row)
{
    const int32_t channels = p->out_c, out_w = p->out_w;
    const int32_t width = (out_w - 1) * p->stride_w + 3, pitch = mcu_dw3p_pitch(width);
    int32_t *pack = scratch;
    int16_t *slots = (int16_t *)(void *)(pack + MCU_DW3P_PACK * channels);
    mcu_dw3p_t g;
    g.q = mcu_conv_out(p);
    mcu_dw3p_pack(p, pack);
    g.taps = pack;
    g.bias = p->bias;
    g.channels = channels;
    g.pitch = pitch;
    memset(slots, 0, (size_t)(3 * channels * pitch) * sizeof *slots); /* the positions outside the input */
    const int16_t *rows[3];
    int32_t filled = -p->pad_top - 3; /* the ring holds input rows [filled, filled + 3) */
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (int32_t ky = 0; ky < 3; ++ky) {
            const int32_t y = y0 + ky, k = (y % 3 + 3) % 3;
            int16_t *slot = slots + k * channels * pitch;
            if (y >= filled + 3) {
                mcu_dw3p_fill_row(p, input, y, pitch, slot);
            }
            rows[ky] = slot;
        }
        filled = y0;
        row(&g, rows, output + oy * out_w * channels, out_w);
    }
}
#endif

#endif
