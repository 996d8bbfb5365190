/* SPDX-License-Identifier: Apache-2.0 */
/* The int8 matrix product behind fully connected layers and 1x1 unpadded convolutions of any stride:
 *     out[r][o] = clamp(requant(bias[o] + sum_i in[r][i] * weights[o][i]) + output_zp)
 * where row r of a strided convolution is the input position under output position r (mcu_gemm_lines_t).
 * with the input zero point already folded into the bias at generation time (bias[o] - input_zp * sum_i w[o][i],
 * exact whenever every tap reads the input: no padding), so the inner loops only multiply and add.
 * Three forms of the same integers: portable C (two rows by two outputs per pass, so that every load feeds two
 * multiply-accumulates), the DSP extension (SMLAD: two 16-bit products per instruction, four int8 lanes per
 * 32-bit load; its loops are naked assembly functions, as they need every register Thumb-2 has) and Helium
 * (VMLADAVA: sixteen int8 products per instruction). Each form is compiled only where
 * its instructions exist; the generated code picks one at the call site from the ACLE feature macros.
 * Rows are processed in order, two at a time: the two rows' outputs are written while both rows' inputs are still
 * being read (conv2d.overlap_limit keeps an in-place output below them). */
#ifndef MCU_GEMM_S8_H
#define MCU_GEMM_S8_H

#include <stdint.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"
#include "mcu_simd.h"

typedef struct {
    int32_t rows, depth, outputs;       /* in [rows][depth], weights [outputs][depth], out [rows][outputs] */
    int32_t output_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias, *out_mult, *out_shift, *out_round;
    int32_t row_step;                   /* bytes from one row's input to the next: depth, or a strided convolution's
                                         * stride_w * in_c (mcu_gemm_lines_t walks its image rows) */
} mcu_gemm_s8_t;

/* A fully connected layer: rows one after the other. */
static inline mcu_gemm_s8_t mcu_gemm_of_fc(const mcu_fully_connected_params_t *p)
{
    const mcu_gemm_s8_t g = {.rows = p->rows, .depth = p->in_features, .outputs = p->out_features,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->weights, .bias = p->bias, .out_mult = p->out_mult, .out_shift = p->out_shift,
                             .out_round = p->out_round, .row_step = p->in_features};
    return g;
}

/* A 1x1 unpadded convolution as matrix products: stride 1 is one product over every position; a strided one is a
 * product per output image row (`count` of them, `in_step` and `out_step` bytes apart), each row of it the input
 * position under an output position. */
typedef struct {
    int32_t count, in_step, out_step;
} mcu_gemm_lines_t;

static inline int mcu_gemm_strided(const mcu_conv2d_params_t *p)
{
    return p->stride_h != 1 || p->stride_w != 1;
}

static inline mcu_gemm_lines_t mcu_gemm_lines_of_conv1x1(const mcu_conv2d_params_t *p)
{
    const mcu_gemm_lines_t lines = {mcu_gemm_strided(p) ? p->out_h : 1, p->stride_h * p->in_w * p->in_c,
                                    p->out_w * p->out_c};
    return lines;
}

static inline mcu_gemm_s8_t mcu_gemm_of_conv1x1(const mcu_conv2d_params_t *p)
{
    const mcu_gemm_s8_t g = {.rows = mcu_gemm_strided(p) ? p->out_w : p->out_h * p->out_w, .depth = p->in_c,
                             .outputs = p->out_c, .output_zp = p->output_zp, .act_min = p->act_min,
                             .act_max = p->act_max, .weights = p->filter, .bias = p->bias, .out_mult = p->out_mult,
                             .out_shift = p->out_shift, .out_round = p->out_round,
                             .row_step = p->stride_w * p->in_c};
    return g;
}

/* The im2col forms' product: two gathered windows (mcu_conv_gather_windows2) by every filter; the bias with the
 * zero point folded in (p->interior_bias; p->bias itself without padding), so a tap outside the input, holding the
 * zero point, adds zp * w that the fold takes back, as TFLM skips the tap. */
static inline mcu_gemm_s8_t mcu_gemm_of_conv_windows(const mcu_conv2d_params_t *p)
{
    const int32_t size = p->kernel_h * p->kernel_w * p->in_c;
    const mcu_gemm_s8_t g = {.rows = 2, .depth = size, .outputs = p->out_c, .output_zp = p->output_zp,
                             .act_min = p->act_min, .act_max = p->act_max, .weights = p->filter,
                             .bias = p->interior_bias ? p->interior_bias : p->bias, .out_mult = p->out_mult,
                             .out_shift = p->out_shift, .out_round = p->out_round, .row_step = size};
    return g;
}

static inline mcu_requant_s8_t mcu_gemm_out(const mcu_gemm_s8_t *g)
{
    return mcu_requant_s8_of(g->out_mult, g->out_shift, g->out_round, g->output_zp, g->act_min, g->act_max);
}

/* A 2 x 2 block of results: rows r, r + 1 by outputs o, o + 1, those that exist (the layer's kind tested once;
 * the short form's constants loaded once for both rows). */
static MCU_REQUANT_INLINE void mcu_gemm_store_2x2_s8(mcu_requant_s8_t q, int8_t *out0, int32_t rows,
                                                     int32_t outputs, int32_t r, int32_t o, int32_t acc00,
                                                     int32_t acc01, int32_t acc10, int32_t acc11)
{
    if (q.kind == MCU_REQUANT_ROUND_S8) {
        const int32_t m0 = q.mult[o], r0 = q.round[2 * o], e0 = q.round[2 * o + 1];
        out0[o] = (int8_t)mcu_sat_s8(mcu_requant_round(acc00, m0, r0, e0));
        if (r + 1 < rows) {
            out0[outputs + o] = (int8_t)mcu_sat_s8(mcu_requant_round(acc10, m0, r0, e0));
        }
        if (o + 1 < outputs) {
            const int32_t m1 = q.mult[o + 1], r1 = q.round[2 * o + 2], e1 = q.round[2 * o + 3];
            out0[o + 1] = (int8_t)mcu_sat_s8(mcu_requant_round(acc01, m1, r1, e1));
            if (r + 1 < rows) {
                out0[outputs + o + 1] = (int8_t)mcu_sat_s8(mcu_requant_round(acc11, m1, r1, e1));
            }
        }
        return;
    }
    out0[o] = mcu_requant_s8(q, acc00, o);
    if (o + 1 < outputs) {
        out0[o + 1] = mcu_requant_s8(q, acc01, o + 1);
    }
    if (r + 1 < rows) {
        out0[outputs + o] = mcu_requant_s8(q, acc10, o);
        if (o + 1 < outputs) {
            out0[outputs + o + 1] = mcu_requant_s8(q, acc11, o + 1);
        }
    }
}

/* Four outputs of one row per pass (a fully connected layer's usual single row, or the last of an odd count):
 * every input load feeds four multiply-accumulates (mcu_rows4: a last group of fewer repeats its first row). */
static inline void mcu_gemv_s8(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in, int8_t *out)
{
    const int32_t depth = g->depth, outputs = g->outputs;
    for (int32_t o = 0; o < outputs; o += 4) {
        const mcu_rows4_t r = mcu_rows4(g->weights, g->bias, o, outputs, depth);
        const int8_t *w0 = r.w0, *w1 = r.w1, *w2 = r.w2, *w3 = r.w3;
        int32_t acc0 = r.b0, acc1 = r.b1, acc2 = r.b2, acc3 = r.b3;
        int32_t i = 0;
        for (; i < depth; ++i) {
            const int32_t x = in[i];
            acc0 += x * w0[i];
            acc1 += x * w1[i];
            acc2 += x * w2[i];
            acc3 += x * w3[i];
        }
        mcu_store4_s8(q, out, o, r.n, acc0, acc1, acc2, acc3);
    }
}

/* Portable: 2 x 2 blocks (an odd last output repeats its first weights, discarded), an odd last row by
 * mcu_gemv_s8. */
static inline void mcu_gemm_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output)
{
    const int32_t rows = g->rows, depth = g->depth, outputs = g->outputs;
    const int8_t *weights = g->weights;
    const int32_t *bias = g->bias;
    const mcu_requant_s8_t q = mcu_gemm_out(g);
    const int32_t row_step = g->row_step;
    for (int32_t r = 0; r + 1 < rows; r += 2) {
        const int8_t *in0 = input + r * row_step, *in1 = in0 + row_step;
        int8_t *out0 = output + r * outputs;
        for (int32_t o = 0; o < outputs; o += 2) {
            const int8_t *w0 = weights + o * depth;
            const int8_t *w1 = o + 1 < outputs ? w0 + depth : w0;
            int32_t acc00 = bias[o], acc10 = acc00;
            int32_t acc01 = o + 1 < outputs ? bias[o + 1] : 0, acc11 = acc01;
            for (int32_t i = 0; i < depth; ++i) {
                const int32_t x0 = in0[i], x1 = in1[i], v0 = w0[i], v1 = w1[i];
                acc00 += x0 * v0;
                acc01 += x0 * v1;
                acc10 += x1 * v0;
                acc11 += x1 * v1;
            }
            mcu_gemm_store_2x2_s8(q, out0, rows, outputs, r, o, acc00, acc01, acc10, acc11);
        }
    }
    if (rows & 1) {
        mcu_gemv_s8(g, q, input + (rows - 1) * row_step, output + (rows - 1) * outputs);
    }
}

#if MCU_HAS_DSP

/* The DSP matrix product widens each pair of rows once into the int16 pairs SMLAD takes (so the inner loop only
 * widens weights), into its scratch buffer in the arena: 16 bytes per four depth steps (fully_connected.SCRATCH,
 * conv2d.SCRATCH). */

/* Two rows' first 4 * steps values, four depth steps at a time as four words: row 0 lanes (0, 2), row 0 lanes
 * (1, 3), row 1 lanes (0, 2), row 1 lanes (1, 3). Assembly (one STM of the four words: 9 instructions per four
 * steps, GCC's 13). */
__attribute__((naked, noinline, unused)) static void mcu_gemm_widen_rows2(const int8_t *in0 MCU_NAKED_ARG,
                                                                         const int8_t *in1 MCU_NAKED_ARG,
                                                                         int32_t steps MCU_NAKED_ARG,
                                                                         int32_t *pairs MCU_NAKED_ARG)
{
    __asm__("push {r4-r7}\n\t"
            "cmp r2, #0\n\t"
            "beq 2f\n\t"
            "1:\n\t"
            "ldr r6, [r0], #4\n\t"
            "ldr r7, [r1], #4\n\t"
            "sxtb16 r4, r6\n\t"
            "sxtb16 r5, r6, ror #8\n\t"
            "sxtb16 r6, r7\n\t"
            "sxtb16 r7, r7, ror #8\n\t"
            "stmia r3!, {r4-r7}\n\t"
            "subs r2, r2, #1\n\t"
            "bne 1b\n\t"
            "2:\n\t"
            "pop {r4-r7}\n\t"
            "bx lr\n\t");
}

/* One row (a fully connected layer's usual single row; the odd last row of a matrix product) widened once into
 * the int16 pairs SMLAD takes, so that the inner loop widens only weights: 8 bytes per four depth steps (lanes
 * (0, 2), then (1, 3)); steps > 0. Assembly for the STRD of the two words (GCC stores them one by one). */
__attribute__((naked, noinline, unused)) static void mcu_gemv_widen_row(const int8_t *in MCU_NAKED_ARG,
                                                                       int32_t steps MCU_NAKED_ARG,
                                                                       int32_t *pairs MCU_NAKED_ARG)
{
    __asm__("1:\n\t"
            "ldr r3, [r0], #4\n\t"
            "sxtb16 r12, r3\n\t"
            "sxtb16 r3, r3, ror #8\n\t"
            "strd r12, r3, [r2], #8\n\t"
            "subs r1, r1, #1\n\t"
            "bne 1b\n\t"
            "bx lr\n\t");
}

/* The word after a widened row's last pair of words (both words), where mcu_gemv_dsp_groups_asm's passes end:
 * no widened value is 2^14 (each half of a pair is an int8) */
#define MCU_GEMV_DSP_END 0x40004000

/* The groups of mcu_gemv_dsp_groups_asm: fields in the order it keeps them on its stack. */
typedef struct {
    const int32_t *bias;     /* the first group's six biases, then the next group's */
    int32_t *sums;           /* group k's six sums to sums[6k .. 6k + 5] */
    const int32_t *sums_end; /* sums + 6 * groups, groups > 0 */
    const int32_t *pairs;    /* the row widened (mcu_gemv_widen_row), then MCU_GEMV_DSP_END twice */
    int32_t lead;            /* (depth / 4) % 4: the four-steps of the first pass, if not 0 (else four); depth >= 4 */
    int32_t depth;           /* bytes from one weight row to the next */
    int32_t skip;            /* depth % 4: from a row's last four-step to the next row */
} mcu_gemv_dsp_job_t;

/* Four depth steps of the widened row by six outputs (sums r0-r2 of the rows at r5, r5 + r9, r5 + 2 r9; r3, r6,
 * r7 of those at r8, ...: r9 is the depth), the row's two pairs already in r10, r11: each weight word widened
 * (two SXTB16) and taken by two SMLADs; with the next LDRD of the pairs (MCU_GEMV_DSP_STEP4), 31 instructions for
 * 24 multiply-accumulates; r5, r8 stepped on. */
#define MCU_GEMV_DSP_WORD(load, acc)                                                                           \
    "ldr r12, " load "\n\t"                                                                                    \
    "sxtb16 lr, r12\n\t"                                                                                       \
    "sxtb16 r12, r12, ror #8\n\t"                                                                              \
    "smlad " acc ", r10, lr, " acc "\n\t"                                                                      \
    "smlad " acc ", r11, r12, " acc "\n\t"
#define MCU_GEMV_DSP_OUTPUTS6                                                                                   \
    MCU_GEMV_DSP_WORD("[r5, r9]", "r1") MCU_GEMV_DSP_WORD("[r5, r9, lsl #1]", "r2")                              \
    MCU_GEMV_DSP_WORD("[r5], #4", "r0") MCU_GEMV_DSP_WORD("[r8, r9]", "r6")                                      \
    MCU_GEMV_DSP_WORD("[r8, r9, lsl #1]", "r7") MCU_GEMV_DSP_WORD("[r8], #4", "r3")
#define MCU_GEMV_DSP_PAIRS "ldrd r10, r11, [r4], #8\n\t"
#define MCU_GEMV_DSP_STEP4 MCU_GEMV_DSP_PAIRS MCU_GEMV_DSP_OUTPUTS6

/* The groups of six outputs of a job, the first one's weight rows from w0 on (the next group's: after the last),
 * over the depth steps that are a multiple of 4: one call for all of them (the loop over the depth needs all 14
 * registers; the job's fields wait on the stack, the row ends at MCU_GEMV_DSP_END, so that no register holds
 * its end), sixteen steps per pass, the first pass entered where the lead's four-steps are left (its address
 * found once per call, the thumb bit set for LDR PC). Six outputs from two row pointers and the depth (LDR's
 * register offset, shifted for the third row); 16 instructions per group besides the passes. */
__attribute__((naked, noinline, unused)) static void mcu_gemv_dsp_groups_asm(const mcu_gemv_dsp_job_t *job
                                                                            MCU_NAKED_ARG,
                                                                            const int8_t *w0 MCU_NAKED_ARG)
{
    __asm__("push {r4-r11, lr}\n\t"
            "mov r5, r1\n\t"
            "ldm r0, {r0-r3, r6-r8}\n\t"
            "mov r9, r7\n\t"
            "adr r12, 2f\n\t"
            "cmp r6, #1\n\t"
            "bne 6f\n\t"
            "adr r12, 5f\n\t"
            "6:\n\t"
            "cmp r6, #2\n\t"
            "bne 7f\n\t"
            "adr r12, 4f\n\t"
            "7:\n\t"
            "cmp r6, #3\n\t"
            "bne 8f\n\t"
            "adr r12, 3f\n\t"
            "8:\n\t"
            "orr r6, r12, #1\n\t"
            "push {r0-r3, r6, r8}\n\t" /* the job: [sp, #0] bias ... [sp, #16] the entry, [sp, #20] skip */
            "1:\n\t"
            "ldr lr, [sp, #0]\n\t"
            "ldm lr!, {r0-r3, r6, r7}\n\t"
            "str lr, [sp, #0]\n\t"
            "ldr r4, [sp, #12]\n\t"
            "add r8, r5, r9, lsl #1\n\t"
            "add r8, r8, r9\n\t"
            "ldr pc, [sp, #16]\n\t"
            "2:\n\t" MCU_GEMV_DSP_PAIRS
            "9:\n\t" MCU_GEMV_DSP_OUTPUTS6
            "3:\n\t" MCU_GEMV_DSP_STEP4
            "4:\n\t" MCU_GEMV_DSP_STEP4
            "5:\n\t" MCU_GEMV_DSP_STEP4 MCU_GEMV_DSP_PAIRS
            "cmp r11, #0x40004000\n\t" /* MCU_GEMV_DSP_END */
            "bne 9b\n\t"
            "ldr lr, [sp, #4]\n\t"
            "stmia lr!, {r0-r3, r6, r7}\n\t"
            "str lr, [sp, #4]\n\t"
            "ldr r5, [sp, #20]\n\t"
            "add r5, r8, r5\n\t" /* the fourth row's end + skip + 2 depth: the next group's first row */
            "add r5, r5, r9, lsl #1\n\t"
            "ldr r12, [sp, #8]\n\t"
            "cmp lr, r12\n\t"
            "bne 1b\n\t"
            "add sp, sp, #24\n\t"
            "pop {r4-r11, pc}\n\t");
}

/* sum + the last n (0 to 3) depth steps of the int8 row x by the weight row w from there */
static inline int32_t mcu_gemv_tail(int32_t sum, const int8_t *x, const int8_t *w, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        sum += x[i] * w[i];
    }
    return sum;
}

/* The outputs past the last group of six: s[0] (and s[1] if `two`: the weight row after w) + the first
 * 4 * steps products of the widened row with their weight rows, two outputs per pass where there are two */
static MCU_ALWAYS_INLINE void mcu_gemv_dsp_dot(const int32_t *pairs, const int8_t *w, int32_t depth, int32_t steps,
                                               int32_t *s, int two)
{
    int32_t s0 = s[0], s1 = two ? s[1] : 0;
    for (const int8_t *w1 = w + depth; steps > 0; --steps, pairs += 2, w += 4, w1 += 4) {
        const int32_t v = mcu_load_s8x4(w);
        s0 = __smlad(pairs[0], __sxtb16(v), s0);
        s0 = __smlad(pairs[1], mcu_sxtb16_ror8(v), s0);
        if (two) {
            const int32_t u = mcu_load_s8x4(w1);
            s1 = __smlad(pairs[0], __sxtb16(u), s1);
            s1 = __smlad(pairs[1], mcu_sxtb16_ror8(u), s1);
        }
    }
    s[0] = s0;
    if (two) {
        s[1] = s1;
    }
}

/* out[i] = requant(sums[i]) for the n channels from `first` on (the layer's kind tested once for them all; the
 * short form four at a time) */
static MCU_ALWAYS_INLINE void mcu_gemv_dsp_store(mcu_requant_s8_t q, const int32_t *sums, int32_t n, int32_t first,
                                                 int8_t *out)
{
    if (q.kind == MCU_REQUANT_ROUND_S8) {
        const int32_t *m = q.mult + first, *k = q.round + 2 * first;
        int32_t i = 0;
        for (; i + 4 <= n; i += 4, k += 8) {
            out[i] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[i], m[i], k[0], k[1]));
            out[i + 1] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[i + 1], m[i + 1], k[2], k[3]));
            out[i + 2] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[i + 2], m[i + 2], k[4], k[5]));
            out[i + 3] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[i + 3], m[i + 3], k[6], k[7]));
        }
        for (; i < n; ++i, k += 2) {
            out[i] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[i], m[i], k[0], k[1]));
        }
        return;
    }
    for (int32_t i = 0; i < n; ++i) {
        out[i] = mcu_requant_s8(q, sums[i], first + i);
    }
}

/* One row by every output, the row widened into `pairs` first (2 * (depth & ~3) bytes and 8 for
 * MCU_GEMV_DSP_END where depth >= 4): chunks of MCU_GEMV_DSP_CHUNK outputs summed into a buffer on the stack
 * (whole groups of six by mcu_gemv_dsp_groups_asm, the last one to five outputs, or all of them below a depth of 4,
 * in C, two at a time; the last depth % 4 steps in C from the row itself), then requantized. */
#define MCU_GEMV_DSP_CHUNK 36 /* outputs summed per call: six groups */
static MCU_NOINLINE void mcu_gemv_dsp_widened_s8(const mcu_gemm_s8_t *g, const int8_t *in, int32_t *pairs,
                                                 int8_t *out)
{
    const int32_t depth = g->depth, outputs = g->outputs, depth4 = depth & ~3, steps = depth4 >> 2;
    const mcu_requant_s8_t q = mcu_gemm_out(g);
    int32_t sums[MCU_GEMV_DSP_CHUNK];
    mcu_gemv_dsp_job_t job = {g->bias, sums, sums, pairs, steps & 3, depth, depth - depth4};
    if (steps > 0) {
        mcu_gemv_widen_row(in, steps, pairs);
        pairs[2 * steps] = pairs[2 * steps + 1] = MCU_GEMV_DSP_END;
    }
    for (int32_t o = 0; o < outputs; o += MCU_GEMV_DSP_CHUNK) {
        const int32_t n = outputs - o < MCU_GEMV_DSP_CHUNK ? outputs - o : MCU_GEMV_DSP_CHUNK;
        const int32_t whole = steps > 0 ? n / 6 * 6 : 0;
        const int8_t *w = g->weights + o * depth;
        if (whole > 0) {
            job.bias = g->bias + o;
            job.sums_end = sums + whole;
            mcu_gemv_dsp_groups_asm(&job, w);
        }
        int32_t k = whole;
        for (; k < n; ++k) {
            sums[k] = g->bias[o + k];
        }
        for (k = whole; k + 1 < n; k += 2) {
            mcu_gemv_dsp_dot(pairs, w + k * depth, depth, steps, sums + k, 1);
        }
        if (k < n) {
            mcu_gemv_dsp_dot(pairs, w + k * depth, depth, steps, sums + k, 0);
        }
        for (int32_t k = 0; depth4 < depth && k < n; ++k) {
            sums[k] = mcu_gemv_tail(sums[k], in + depth4, w + k * depth + depth4, depth - depth4);
        }
        mcu_gemv_dsp_store(q, sums, n, o, out + o);
    }
}

/* The blocks of mcu_gemm_dsp_sums_asm: fields in the order it keeps them on its stack. */
typedef struct {
    const int32_t *bias;     /* the first block's two biases, then the next block's (int32 pairs) */
    int32_t *sums;           /* block k's four sums (row 0 by its two outputs, then row 1) to sums[4k .. 4k + 3] */
    const int32_t *sums_end; /* sums + 4 * blocks, blocks > 0 */
    const int32_t *pairs;    /* the two rows widened (mcu_gemm_widen_rows2) */
    int32_t passes, rest4;   /* (depth & ~3) / 8 eight-step passes, then a four-step one if rest4 */
    int32_t skip, depth;     /* a block's first weight row after its last four-step: + skip = the next block's;
                              * its second: the first + depth */
} mcu_gemm_dsp_job_t;

/* Four depth steps of a 2 x 2 block (sums r0 r1 = row 0 by outputs 0 and 1, r2 r3 = row 1): the two rows'
 * widened pairs from r6 by one LDM (into r8-r11: row 0 lanes (0, 2) and (1, 3), row 1's), then each weight word
 * from the rows at r4 and r5 widened (two SXTB16) and taken by four SMLADs: 15 instructions for 16
 * multiply-accumulates; r4, r5, r6 stepped on. */
#define MCU_GEMM_DSP_STEP4                                                                                      \
    "ldm r6!, {r8-r11}\n\t"                                                                                    \
    "ldr r12, [r4], #4\n\t"                                                                                    \
    "sxtb16 lr, r12\n\t"                                                                                       \
    "sxtb16 r12, r12, ror #8\n\t"                                                                              \
    "smlad r0, r8, lr, r0\n\t"                                                                                 \
    "smlad r0, r9, r12, r0\n\t"                                                                                \
    "smlad r2, r10, lr, r2\n\t"                                                                                \
    "smlad r2, r11, r12, r2\n\t"                                                                               \
    "ldr r12, [r5], #4\n\t"                                                                                    \
    "sxtb16 lr, r12\n\t"                                                                                       \
    "sxtb16 r12, r12, ror #8\n\t"                                                                              \
    "smlad r1, r8, lr, r1\n\t"                                                                                 \
    "smlad r1, r9, r12, r1\n\t"                                                                                \
    "smlad r3, r10, lr, r3\n\t"                                                                                \
    "smlad r3, r11, r12, r3\n\t"

/* The blocks of a job, from the weight rows w0, w1 on (w1 == w0: an odd last output alone), the depth steps
 * that are a multiple of 4. Written in assembly, because the blocks' loop needs all 14 registers: compiled
 * from C (the same intrinsics), GCC's schedule spilled inside it (a third more instructions), and its
 * bookkeeping between blocks took 40 instructions where this takes 22 (the job's fields on the stack), 16 in
 * the common case (a depth of a multiple of 8, blocks of two outputs), which has a loop of its own. */
__attribute__((naked, noinline, unused)) static void mcu_gemm_dsp_sums_asm(const mcu_gemm_dsp_job_t *job MCU_NAKED_ARG,
                                                                          const int8_t *w0 MCU_NAKED_ARG,
                                                                          const int8_t *w1 MCU_NAKED_ARG)
{
    __asm__("push {r4-r11, lr}\n\t"
            "mov r4, r1\n\t"
            "mov r5, r2\n\t"
            "ldm r0, {r0-r3, r6-r9}\n\t"
            "push {r0-r3, r6-r9}\n\t" /* the job: [sp, #0] bias ... [sp, #28] depth */
            "cmp r7, #0\n\t"          /* the common case: eight-step passes only, blocks of two outputs */
            "bne 1f\n\t"
            "cmp r8, r9\n\t"
            "bne 1f\n\t"
            "cmp r6, #0\n\t"
            "bne 5f\n\t"
            "1:\n\t"
            "ldr lr, [sp, #0]\n\t"
            "ldrd r0, r1, [lr], #8\n\t"
            "str lr, [sp, #0]\n\t"
            "mov r2, r0\n\t"
            "mov r3, r1\n\t"
            "ldr r6, [sp, #12]\n\t"
            "ldr r7, [sp, #16]\n\t"
            "cmp r7, #0\n\t"
            "beq 3f\n\t"
            "2:\n\t" MCU_GEMM_DSP_STEP4 MCU_GEMM_DSP_STEP4
            "subs r7, r7, #1\n\t"
            "bne 2b\n\t"
            "3:\n\t"
            "ldr r7, [sp, #20]\n\t"
            "cmp r7, #0\n\t"
            "beq 4f\n\t" MCU_GEMM_DSP_STEP4
            "4:\n\t"
            "ldr lr, [sp, #4]\n\t"
            "stmia lr!, {r0-r3}\n\t"
            "str lr, [sp, #4]\n\t"
            "ldr r7, [sp, #24]\n\t"
            "add r4, r4, r7\n\t"
            "ldr r7, [sp, #28]\n\t"
            "add r5, r4, r7\n\t"
            "ldr r7, [sp, #8]\n\t"
            "cmp lr, r7\n\t"
            "bne 1b\n\t"
            "b 9f\n\t"
            "5:\n\t" /* the common case's blocks: 16 instructions each besides the passes */
            "ldr lr, [sp, #0]\n\t"
            "ldrd r0, r1, [lr], #8\n\t"
            "str lr, [sp, #0]\n\t"
            "mov r2, r0\n\t"
            "mov r3, r1\n\t"
            "ldr r6, [sp, #12]\n\t"
            "ldr r7, [sp, #16]\n\t"
            "6:\n\t" MCU_GEMM_DSP_STEP4 MCU_GEMM_DSP_STEP4
            "subs r7, r7, #1\n\t"
            "bne 6b\n\t"
            "ldr lr, [sp, #4]\n\t"
            "stmia lr!, {r0-r3}\n\t"
            "str lr, [sp, #4]\n\t"
            "mov r4, r5\n\t" /* the second row's end: the next block's first */
            "ldr r7, [sp, #28]\n\t"
            "add r5, r5, r7\n\t"
            "ldr r7, [sp, #8]\n\t"
            "cmp lr, r7\n\t"
            "bne 5b\n\t"
            "9:\n\t"
            "add sp, sp, #32\n\t"
            "pop {r4-r11, pc}\n\t");
}

/* The last n (1 to 3) depth steps of a 2 x 2 block added to s[0..3], from the int8 rows one by one (a depth not a
 * multiple of 4) */
static MCU_NOINLINE void mcu_gemm_tail_2x2(int32_t *s, const int8_t *in0, const int8_t *in1, const int8_t *w0,
                                           const int8_t *w1, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t x0 = in0[i], x1 = in1[i], v0 = w0[i], v1 = w1[i];
        s[0] += x0 * v0;
        s[1] += x0 * v1;
        s[2] += x1 * v0;
        s[3] += x1 * v1;
    }
}

/* The sums of `blocks` 2 x 2 blocks of two rows from output `first` on (mcu_gemm_dsp_job_t's sums), `single`: one
 * block of the odd last output alone (its repeat discarded). */
static MCU_NOINLINE void mcu_gemm_dsp_sums(const mcu_gemm_s8_t *g, const int8_t *in0, const int8_t *in1,
                                           const int32_t *pairs, int32_t first, int32_t blocks, int single,
                                           int32_t *sums)
{
    const int32_t depth = g->depth, done = depth & ~3;
    const int8_t *w = g->weights + first * depth;
    const int32_t lone[2] = {g->bias[first], g->bias[first]};
    const mcu_gemm_dsp_job_t job = {single ? lone : g->bias + first, sums, sums + 4 * blocks, pairs, done >> 3,
                                    done & 4, 2 * depth - done, depth};
    mcu_gemm_dsp_sums_asm(&job, w, single ? w : w + depth);
    for (int32_t k = 0; done < depth && k < blocks; ++k) {
        const int8_t *w0 = w + 2 * k * depth + done;
        mcu_gemm_tail_2x2(sums + 4 * k, in0 + done, in1 + done, w0, single ? w0 : w0 + depth, depth - done);
    }
}

/* The outputs of two rows (out0: row 0's, row 1's right after them) from their widened pairs (and the rows
 * themselves for a depth not a multiple of 4), 2 * MCU_GEMM_DSP_CHUNK at a time summed (mcu_gemm_dsp_sums, into a
 * buffer on the stack) then requantized. */
#define MCU_GEMM_DSP_CHUNK 8 /* blocks summed per call */
static MCU_ALWAYS_INLINE void mcu_gemm_dsp_rows2_widened(const mcu_gemm_s8_t *g, mcu_requant_s8_t q,
                                                          const int8_t *in0, const int8_t *in1, const int32_t *pairs,
                                                          int8_t *out0)
{
    const int32_t outputs = g->outputs, even = outputs & ~1;
    int32_t sums[4 * MCU_GEMM_DSP_CHUNK];
    for (int32_t o = 0; o < outputs; o += 2 * MCU_GEMM_DSP_CHUNK) {
        const int32_t n = outputs - o < 2 * MCU_GEMM_DSP_CHUNK ? outputs - o : 2 * MCU_GEMM_DSP_CHUNK;
        const int32_t whole = n >> 1; /* blocks of two outputs */
        if (whole > 0) {
            mcu_gemm_dsp_sums(g, in0, in1, pairs, o, whole, 0, sums);
        }
        if (o + n > even) { /* the odd last output */
            mcu_gemm_dsp_sums(g, in0, in1, pairs, even, 1, 1, sums + 4 * whole);
        }
        for (int32_t k = 0; k < n; k += 2) {
            const int32_t *s = sums + 2 * k;
            mcu_gemm_store_2x2_s8(q, out0, 2, outputs, 0, o + k, s[0], s[1], s[2], s[3]);
        }
    }
}

/* The outputs of two rows (mcu_gemm_dsp_rows2_widened), the rows widened into `pairs` first (4 * (depth & ~3)
 * bytes), so an output written over its own rows is safe too. */
static MCU_ALWAYS_INLINE void mcu_gemm_dsp_rows2(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in0,
                                                  const int8_t *in1, int32_t *pairs, int8_t *out0)
{
    mcu_gemm_widen_rows2(in0, in1, g->depth >> 2, pairs);
    mcu_gemm_dsp_rows2_widened(g, q, in0, in1, pairs, out0);
}

/* DSP: pairs of rows (mcu_gemm_dsp_rows2), an odd last row by mcu_gemv_dsp_widened_s8; `pairs`: the scratch
 * buffer, 4 * (depth & ~3) bytes (which holds a single row's widened pairs and their end). */
static inline void mcu_gemm_dsp_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output, int32_t *pairs)
{
    const int32_t rows = g->rows, outputs = g->outputs, row_step = g->row_step;
    const mcu_requant_s8_t q = mcu_gemm_out(g);
    for (int32_t r = 0; r + 1 < rows; r += 2) {
        const int8_t *in0 = input + r * row_step;
        mcu_gemm_dsp_rows2(g, q, in0, in0 + row_step, pairs, output + r * outputs);
    }
    if (rows & 1) {
        mcu_gemv_dsp_widened_s8(g, input + (rows - 1) * row_step, pairs, output + (rows - 1) * outputs);
    }
}
#endif

#if MCU_HAS_MVE

/* Helium for a depth of at most 16 (a whole input row is one vector), four outputs per pass: one VMLADAV per
 * output against its weight row (vww's 1x1 convolutions of 8 and 16 input channels: no loop over the depth),
 * four outputs requantized as one vector. A group's weight rows, biases, multipliers and shifts: outputs past
 * the last of a group of fewer than four have zero weights (their rows not read: an empty predicate) and are
 * not stored. */
typedef struct {
    int8x16_t w0, w1, w2, w3;
    int32x4_t bias, mult, shift;
    mve_pred16_t lanes;
} mcu_gemm_group_mve_t;

static MCU_ALWAYS_INLINE mcu_gemm_group_mve_t mcu_gemm_group_mve(const mcu_gemm_s8_t *g, int32_t o, mve_pred16_t depth)
{
    const int32_t n = g->outputs - o < 4 ? g->outputs - o : 4, size = g->depth;
    const int8_t *w = g->weights + o * size;
    mcu_gemm_group_mve_t k;
    k.w0 = vldrbq_z_s8(w, depth);
    k.w1 = vldrbq_z_s8(n > 1 ? w + size : w, n > 1 ? depth : 0);
    k.w2 = vldrbq_z_s8(n > 2 ? w + 2 * size : w, n > 2 ? depth : 0);
    k.w3 = vldrbq_z_s8(n > 3 ? w + 3 * size : w, n > 3 ? depth : 0);
    k.lanes = vctp32q((uint32_t)n);
    k.bias = vldrwq_z_s32(g->bias + o, k.lanes);
    k.mult = vldrwq_z_s32(g->out_mult + o, k.lanes);
    k.shift = vldrwq_z_s32(g->out_shift + o, k.lanes);
    return k;
}

/* a group's four outputs of the row x, stored at out */
static MCU_ALWAYS_INLINE void mcu_gemm_group_out_mve(const mcu_gemm_s8_t *g, int8x16_t x, const mcu_gemm_group_mve_t *k,
                                                     int32x4_t act_min, int32x4_t act_max, int8_t *out)
{
    const int32_t sums[4] = {vmladavq_s8(x, k->w0), vmladavq_s8(x, k->w1), vmladavq_s8(x, k->w2),
                             vmladavq_s8(x, k->w3)};
    const int32x4_t y = mcu_requantize_mve(vaddq_s32(vldrwq_s32(sums), k->bias), k->mult, k->shift);
    vstrbq_p_s32(out, vminq_s32(vmaxq_s32(vaddq_n_s32(y, g->output_zp), act_min), act_max), k->lanes);
}

/* whether the output lies apart from the input (else a Helium form copies blocks of rows to its scratch buffer
 * before it writes their outputs) */
static inline int mcu_gemm_apart(const mcu_gemm_s8_t *g, const int8_t *input, const int8_t *output)
{
    const uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
    const uintptr_t in_end = in + (uintptr_t)((g->rows - 1) * g->row_step + g->depth);
    return out + (uintptr_t)(g->rows * g->outputs) <= in || out >= in_end;
}

/* `count` rows from `in` (row_step bytes apart; out: theirs) by every group, each group loaded once and run over
 * the rows */
static MCU_NOINLINE void mcu_gemm_mve_shallow_rows(const mcu_gemm_s8_t *g, const int8_t *in, int32_t row_step,
                                                   int32_t count, int8_t *out)
{
    const mve_pred16_t depth = vctp8q((uint32_t)g->depth);
    const int32x4_t act_min = vdupq_n_s32(g->act_min), act_max = vdupq_n_s32(g->act_max);
    for (int32_t o = 0; o < g->outputs; o += 4) {
        const mcu_gemm_group_mve_t k = mcu_gemm_group_mve(g, o, depth);
        for (int32_t r = 0; r < count; ++r) {
            mcu_gemm_group_out_mve(g, vldrbq_z_s8(in + r * row_step, depth), &k, act_min, act_max,
                                   out + r * g->outputs + o);
        }
    }
}

/* Every row and output: all rows at once where the output lies apart from the input, else blocks of
 * MCU_GEMM_MVE_SHALLOW_BLOCK rows copied into `rows` (the scratch buffer: MCU_GEMM_MVE_SHALLOW_BLOCK * depth
 * bytes, conv2d.SCRATCH) first, so that a block's outputs may overwrite its inputs (conv2d.overlap_limit keeps
 * them below the rows still to be read). */
#define MCU_GEMM_MVE_SHALLOW_BLOCK 16
static inline void mcu_gemm_mve_shallow_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output, int8_t *rows)
{
    if (mcu_gemm_apart(g, input, output)) {
        mcu_gemm_mve_shallow_rows(g, input, g->row_step, g->rows, output);
        return;
    }
    const mve_pred16_t depth = vctp8q((uint32_t)g->depth);
    for (int32_t first = 0; first < g->rows; first += MCU_GEMM_MVE_SHALLOW_BLOCK) {
        const int32_t left = g->rows - first;
        const int32_t count = left < MCU_GEMM_MVE_SHALLOW_BLOCK ? left : MCU_GEMM_MVE_SHALLOW_BLOCK;
        for (int32_t r = 0; r < count; ++r) {
            vstrbq_p_s8(rows + r * g->depth, vldrbq_z_s8(input + (first + r) * g->row_step, depth), depth);
        }
        mcu_gemm_mve_shallow_rows(g, rows, g->depth, count, output + first * g->outputs);
    }
}

/* GCC's optimizing builds only: clang has no "Up" (predicate) operand, and at -O0 GCC cannot find the twelve
 * registers with r7 its frame pointer; the others take mcu_gemm_mve_group4's intrinsic loop, the same sums. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define MCU_DOT4_ASM 1
/* The four sums of one row x against the four weight rows w, w + depth, w + 2 * depth, w + 3 * depth, as one
 * vector: `head` (1 to 16) depth steps first (predicated unless `whole`: head 16, and the lanes past head load as
 * 0), then `passes` whole vectors. The same VLDRB / VMLADAV(A) the intrinsics give, written out because GCC 12
 * spills the five pointers of this loop to the stack around it; VMLADAV takes even registers only ("Te"), and
 * the sums go into the lanes by two-lane VMOVs. */
static MCU_ALWAYS_INLINE int32x4_t mcu_dot4_mve(const int8_t *x, const int8_t *w, int32_t depth, int32_t head,
                                                int32_t passes, int whole)
{
    int32_t a0, a1, a2, a3;
    int32x4_t acc;
    const int8_t *w1, *w2, *w3;
#define MCU_DOT4_LOOP                                                                                               \
    "wls lr, %[n], 2f\n"                                                                                            \
    "1:\n\t"                                                                                                        \
    "vldrb.u8 %q[acc], [%[x]], #16\n\t"                                                                             \
    "vldrb.u8 q1, [%[w0]], #16\n\t"                                                                                 \
    "vldrb.u8 q2, [%[w1]], #16\n\t"                                                                                 \
    "vmlava.s8 %[a0], %q[acc], q1\n\t"                                                                              \
    "vldrb.u8 q3, [%[w2]], #16\n\t"                                                                                 \
    "vmlava.s8 %[a1], %q[acc], q2\n\t"                                                                              \
    "vldrb.u8 q1, [%[w3]], #16\n\t"                                                                                 \
    "vmlava.s8 %[a2], %q[acc], q3\n\t"                                                                              \
    "vmlava.s8 %[a3], %q[acc], q1\n\t"                                                                              \
    "le lr, 1b\n"                                                                                                   \
    "2:\n\t"                                                                                                        \
    "vmov %q[acc][2], %q[acc][0], %[a0], %[a2]\n\t"                                                                 \
    "vmov %q[acc][3], %q[acc][1], %[a1], %[a3]"
#define MCU_DOT4_OPERANDS                                                                                           \
    : [acc] "=&w"(acc), [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [x] "+&r"(x),           \
      [w0] "+&r"(w), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3)                                                 \
    : [d] "r"(depth), [n] "r"(passes), [h] "r"(head), [p] "Up"(vctp8q((uint32_t)head))                             \
    : "lr", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "memory" /* q1-q3 ("q1"  \
                                                                        would be taken for s4 alone) */
    if (whole) {
        __asm__("add %[w1], %[w0], %[d]\n\t"
                "add %[w2], %[w1], %[d]\n\t"
                "add %[w3], %[w2], %[d]\n\t"
                "vldrb.u8 %q[acc], [%[x]], #16\n\t"
                "vldrb.u8 q1, [%[w0]], #16\n\t"
                "vldrb.u8 q2, [%[w1]], #16\n\t"
                "vmlav.s8 %[a0], %q[acc], q1\n\t"
                "vldrb.u8 q3, [%[w2]], #16\n\t"
                "vmlav.s8 %[a1], %q[acc], q2\n\t"
                "vldrb.u8 q1, [%[w3]], #16\n\t"
                "vmlav.s8 %[a2], %q[acc], q3\n\t"
                "vmlav.s8 %[a3], %q[acc], q1\n\t" MCU_DOT4_LOOP MCU_DOT4_OPERANDS);
    } else {
        __asm__("add %[w1], %[w0], %[d]\n\t"
                "add %[w2], %[w1], %[d]\n\t"
                "add %[w3], %[w2], %[d]\n\t"
                "vpstttt\n\t"
                "vldrbt.u8 %q[acc], [%[x]]\n\t"
                "vldrbt.u8 q1, [%[w0]]\n\t"
                "vldrbt.u8 q2, [%[w1]]\n\t"
                "vldrbt.u8 q3, [%[w2]]\n\t"
                "vmlav.s8 %[a0], %q[acc], q1\n\t"
                "vpst\n\t"
                "vldrbt.u8 q1, [%[w3]]\n\t"
                "vmlav.s8 %[a1], %q[acc], q2\n\t"
                "vmlav.s8 %[a2], %q[acc], q3\n\t"
                "vmlav.s8 %[a3], %q[acc], q1\n\t"
                "add %[x], %[x], %[h]\n\t"
                "add %[w0], %[w0], %[h]\n\t"
                "add %[w1], %[w1], %[h]\n\t"
                "add %[w2], %[w2], %[h]\n\t"
                "add %[w3], %[w3], %[h]\n\t" MCU_DOT4_LOOP MCU_DOT4_OPERANDS);
    }
#undef MCU_DOT4_LOOP
#undef MCU_DOT4_OPERANDS
    (void)a0;
    (void)a1;
    (void)a2;
    (void)a3;
    (void)x;
    (void)w;
    return acc;
}
#else
#define MCU_DOT4_ASM 0
#endif

/* Four outputs from o on of `count` rows (g->row_step bytes apart; out: the first row's, rows g->outputs apart),
 * any depth: the group's biases, multipliers and shifts loaded once into vectors for all the rows, so that a row
 * costs its depth loop, four sums moved into one vector and one vector requantization. Per row sixteen depth
 * steps per VMLADAVA, the first pass taking depth % 16 of them (the lanes past them load as 0; a whole vector
 * when `whole`, depth % 16 == 0: no predicate) and starting the four sums. `full`: four outputs exist, else those
 * that do (a last group of fewer repeats its first weights, its other lanes not stored). `round`: the layer's
 * short requantization is proven (g->out_round set: every multiplier >= 0, every shift <= -1), four instructions
 * (mcu_requant_round_mve) where the exact form takes six. */
static MCU_ALWAYS_INLINE void mcu_gemm_mve_group4(const mcu_gemm_s8_t *g, int32_t o, const int8_t *in, int32_t count,
                                                  int8_t *out, int whole, int full, int round)
{
    const int32_t depth = g->depth, outputs = g->outputs, row_step = g->row_step;
    const int32_t n = full ? 4 : outputs - o;
    const int8_t *r0 = g->weights + o * depth, *r1 = n > 1 ? r0 + depth : r0;
    const int8_t *r2 = n > 2 ? r0 + 2 * depth : r0, *r3 = n > 3 ? r0 + 3 * depth : r0;
    const mve_pred16_t lanes = vctp32q((uint32_t)n);
    const int32x4_t bias = full ? vldrwq_s32(g->bias + o) : vldrwq_z_s32(g->bias + o, lanes);
    const int32x4_t mult = full ? vldrwq_s32(g->out_mult + o) : vldrwq_z_s32(g->out_mult + o, lanes);
    const int32x4_t shift = full ? vldrwq_s32(g->out_shift + o) : vldrwq_z_s32(g->out_shift + o, lanes);
    const int32_t head = whole || (depth & 15) == 0 ? 16 : depth & 15, passes = (depth - head) >> 4;
    const mve_pred16_t first = vctp8q((uint32_t)head);
    const int32x4_t act_min = vdupq_n_s32(g->act_min), act_max = vdupq_n_s32(g->act_max);
    for (; count > 0; --count, in += row_step, out += outputs) {
        int32x4_t acc;
        if (full && MCU_DOT4_ASM) {
#if MCU_DOT4_ASM
            acc = mcu_dot4_mve(in, r0, depth, head, passes, whole);
#endif
        } else {
            const int8_t *x = in + head, *w0 = r0 + head, *w1 = r1 + head, *w2 = r2 + head, *w3 = r3 + head;
            const int8x16_t v = vldrbq_z_s8(in, first);
            int32_t a0 = vmladavq_s8(v, vldrbq_z_s8(r0, first)), a1 = vmladavq_s8(v, vldrbq_z_s8(r1, first));
            int32_t a2 = vmladavq_s8(v, vldrbq_z_s8(r2, first)), a3 = vmladavq_s8(v, vldrbq_z_s8(r3, first));
            for (int32_t k = passes; k > 0; --k) {
                const int8x16_t u = vldrbq_s8(x);
                a0 = vmladavaq_s8(a0, u, vldrbq_s8(w0));
                a1 = vmladavaq_s8(a1, u, vldrbq_s8(w1));
                a2 = vmladavaq_s8(a2, u, vldrbq_s8(w2));
                a3 = vmladavaq_s8(a3, u, vldrbq_s8(w3));
                x += 16;
                w0 += 16;
                w1 += 16;
                w2 += 16;
                w3 += 16;
            }
            acc = vsetq_lane_s32(a3, vsetq_lane_s32(a2, vsetq_lane_s32(a1, vdupq_n_s32(a0), 1), 2), 3);
        }
        acc = vaddq_s32(acc, bias);
        int32x4_t y = round ? mcu_requant_round_mve(acc, mult, shift) : mcu_requantize_mve(acc, mult, shift);
        y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, g->output_zp), act_min), act_max);
        if (full) {
            vstrbq_s32(out, y);
        } else {
            vstrbq_p_s32(out, y, lanes);
        }
    }
}

/* `count` rows from `in` (out: theirs) by every group of four outputs, each group over all the rows (one call for
 * them all: the groups' loops have the registers to themselves); the short requantization in the whole groups of
 * a proven layer, the exact form in the rest and in a last group of fewer (rare: one copy of each loop less) */
static MCU_NOINLINE void mcu_gemm_mve_groups(const mcu_gemm_s8_t *g, const int8_t *in, int32_t count, int8_t *out)
{
    const int32_t outputs4 = g->outputs & ~3;
    int32_t o = 0;
    if ((g->depth & 15) == 0 && g->out_round) {
        for (; o < outputs4; o += 4) {
            mcu_gemm_mve_group4(g, o, in, count, out + o, 1, 1, 1);
        }
    } else if ((g->depth & 15) == 0) {
        for (; o < outputs4; o += 4) {
            mcu_gemm_mve_group4(g, o, in, count, out + o, 1, 1, 0);
        }
    } else if (g->out_round) {
        for (; o < outputs4; o += 4) {
            mcu_gemm_mve_group4(g, o, in, count, out + o, 0, 1, 1);
        }
    } else {
        for (; o < outputs4; o += 4) {
            mcu_gemm_mve_group4(g, o, in, count, out + o, 0, 1, 0);
        }
    }
    if (o < g->outputs) {
        mcu_gemm_mve_group4(g, o, in, count, out + o, 0, 0, 0);
    }
}

/* Helium for any depth, every group over all the rows where the output lies apart from the input; else blocks of
 * MCU_GEMM_MVE_BLOCK rows copied into `rows` (the scratch buffer: MCU_GEMM_MVE_BLOCK * depth bytes, conv2d.SCRATCH)
 * first, so that a block's outputs may overwrite its inputs (conv2d.overlap_limit keeps them below the rows still
 * to be read). */
#define MCU_GEMM_MVE_BLOCK 8
static inline void mcu_gemm_mve_blocks_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output, int8_t *rows)
{
    if (mcu_gemm_apart(g, input, output)) {
        mcu_gemm_mve_groups(g, input, g->rows, output);
        return;
    }
    mcu_gemm_s8_t copied = *g;
    copied.row_step = g->depth;
    for (int32_t first = 0; first < g->rows; first += MCU_GEMM_MVE_BLOCK) {
        const int32_t count = g->rows - first < MCU_GEMM_MVE_BLOCK ? g->rows - first : MCU_GEMM_MVE_BLOCK;
        for (int32_t r = 0; r < count; ++r) {
            mcu_copy_s8(rows + r * g->depth, input + (first + r) * g->row_step, g->depth);
        }
        mcu_gemm_mve_groups(&copied, rows, count, output + first * g->outputs);
    }
}

/* Helium: one row by four outputs, sixteen depth steps per pass; the last pass loads only the lanes left
 * (tail predication: the other lanes read as 0 and add nothing); four outputs requantized as one vector. */
static MCU_ALWAYS_INLINE void mcu_gemm_mve_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output)
{
    const int32_t rows = g->rows, depth = g->depth, outputs = g->outputs, depth16 = depth & ~15;
    const int32_t outputs4 = outputs & ~3; /* bounds known before the loops: GCC cannot misjudge the tail loop */
    const int8_t *weights = g->weights;
    const int32_t *bias = g->bias;
    const mcu_requant_s8_t q = mcu_gemm_out(g);
    const int32_t row_step = g->row_step;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + r * row_step;
        int8_t *out = output + r * outputs;
        for (int32_t o = 0; o < outputs4; o += 4) {
            const int8_t *w0 = weights + o * depth, *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
            int32_t acc0 = bias[o], acc1 = bias[o + 1], acc2 = bias[o + 2], acc3 = bias[o + 3];
            int32_t i = 0;
            for (; i < depth16; i += 16) { /* whole vectors: no predication */
                const int8x16_t x = vldrbq_s8(in + i);
                acc0 = vmladavaq_s8(acc0, x, vldrbq_s8(w0 + i));
                acc1 = vmladavaq_s8(acc1, x, vldrbq_s8(w1 + i));
                acc2 = vmladavaq_s8(acc2, x, vldrbq_s8(w2 + i));
                acc3 = vmladavaq_s8(acc3, x, vldrbq_s8(w3 + i));
            }
            if (i < depth) {
                const mve_pred16_t lanes = vctp8q((uint32_t)(depth - i));
                const int8x16_t x = vldrbq_z_s8(in + i, lanes);
                acc0 = vmladavaq_s8(acc0, x, vldrbq_z_s8(w0 + i, lanes));
                acc1 = vmladavaq_s8(acc1, x, vldrbq_z_s8(w1 + i, lanes));
                acc2 = vmladavaq_s8(acc2, x, vldrbq_z_s8(w2 + i, lanes));
                acc3 = vmladavaq_s8(acc3, x, vldrbq_z_s8(w3 + i, lanes));
            }
            const int32_t sums[4] = {acc0, acc1, acc2, acc3}; /* requantized as one vector */
            mcu_store_mve_s8(out + o, vldrwq_s32(sums), q.mult + o, q.shift + o, q.zp, q.act_min, q.act_max,
                             vctp32q(4));
        }
        for (int32_t o = outputs4; o < outputs; ++o) {
            const int8_t *w = weights + o * depth;
            int32_t acc = bias[o];
            for (int32_t i = 0; i < depth; i += 16) {
                const mve_pred16_t lanes = vctp8q((uint32_t)(depth - i));
                acc = vmladavaq_s8(acc, vldrbq_z_s8(in + i, lanes), vldrbq_z_s8(w + i, lanes));
            }
            out[o] = mcu_requant_s8(q, acc, o);
        }
    }
}

/* mcu_gemm_mve_s8 a row per call, whose loops then have the registers to themselves (fully connected layers:
 * a row or a few, deep; a third fewer instructions on ad than inlined into the caller) */
static MCU_NOINLINE void mcu_gemm_mve_row(const mcu_gemm_s8_t *g, const int8_t *in, int8_t *out)
{
    mcu_gemm_s8_t row = *g;
    row.rows = 1;
    mcu_gemm_mve_s8(&row, in, out);
}

static inline void mcu_gemm_mve_rows_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < g->rows; ++r) {
        mcu_gemm_mve_row(g, input + r * g->row_step, output + r * g->outputs);
    }
}

/* A 1x1 convolution's lines (mcu_gemm_lines_of_conv1x1) by mcu_gemm_mve_blocks_s8 (rows: its scratch buffer), or
 * `shallow` (at most 16 input channels) by mcu_gemm_mve_shallow_s8 (rows: the same). */
static MCU_ALWAYS_INLINE void mcu_conv1x1_mve(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                              int8_t *rows, int shallow)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_conv1x1(p);
    const mcu_gemm_lines_t lines = mcu_gemm_lines_of_conv1x1(p);
    for (int32_t y = 0; y < lines.count; ++y) {
        if (shallow) {
            mcu_gemm_mve_shallow_s8(&g, input + y * lines.in_step, output + y * lines.out_step, rows);
        } else {
            mcu_gemm_mve_blocks_s8(&g, input + y * lines.in_step, output + y * lines.out_step, rows);
        }
    }
}
#endif

#endif
