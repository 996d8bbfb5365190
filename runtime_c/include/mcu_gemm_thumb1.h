/* SPDX-License-Identifier: Apache-2.0 */
/* The int8 matrix product of mcu_gemm_s8.h (the same integers) for Thumb-1 cores (Armv6-M: Cortex-M0, M0+, M1;
 * Armv8-M baseline: M23), which have no multiply-accumulate: each product is a MULS and an ADD. LDRSB and MULS
 * reach only r0-r7, and eight low registers cannot hold a 2 x 2 block's four accumulators, four row pointers and
 * the values in flight, so GCC's portable form spills inside its inner loop (28 instructions per depth step). The
 * loops over the blocks are naked assembly functions (mcu_thumb1.h) with the accumulators in r8-r11:
 *   2 rows x 2 outputs: 15 instructions per depth step, 4 products (one input value loaded twice: a copy would
 *   cost the same), 21 per block besides;  1 row x 4 outputs: 15 per step, 4 products, 26 per block.
 * GCC and clang only (MCU_HAS_THUMB1), at every optimization level. */
#ifndef MCU_GEMM_THUMB1_H
#define MCU_GEMM_THUMB1_H

#include "mcu_gemm_s8.h"
#include "mcu_thumb1.h"

#if MCU_HAS_THUMB1
/* The blocks of mcu_gemm_thumb1_sums_asm: fields in the order it loads them. */
typedef struct {
    int32_t off1;                       /* a block's second weight row - its first: depth, or 0 (an odd last output) */
    int32_t neg_depth;                  /* -depth, depth >= 1 */
    const int32_t *sums_end;            /* sums + 2 * blocks, blocks >= 1 */
    const int32_t *bias;                /* the blocks' two biases each, in turn */
    int32_t step;                       /* a block's first weight row to the next block's: 2 * depth */
    const int8_t *in0_end, *in1_end;    /* the two rows + depth */
    const int8_t *w0_end;               /* the first block's first weight row + depth */
    int32_t *sums;                      /* block k's row 0 by its two outputs to sums[2k], sums[2k + 1], row 1's
                                         * MCU_T1_CHUNK later */
} mcu_gemm_thumb1_job_t;

/* The sums of a job's 2 x 2 blocks: r0 r1 the rows, r2 r3 the weight rows (all + depth), walked by one negative
 * index r4 that counts up to 0 (the loop's test is the ADDS's flags); r7 the sums; the accumulators r11 r8
 * (row 0), r9 r10 (row 1); the biases' pointer lr, the step r12, the rest of the job on the stack. */
__attribute__((naked, noinline, unused)) static void mcu_gemm_thumb1_sums_asm(const mcu_gemm_thumb1_job_t *job
                                                                              MCU_T1_ARG)
{
    __asm__(MCU_T1_ENTER
            "ldmia r0!, {r1, r2, r3, r4, r5}\n\t"
            "push {r1, r2, r3}\n\t" /* [sp, #0] off1, [sp, #4] neg_depth, [sp, #8] sums_end */
            "mov lr, r4\n\t"
            "mov r12, r5\n\t"
            "ldm r0, {r0, r1, r2, r7}\n\t"
            "1:\n\t"
            "mov r6, lr\n\t"
            "ldmia r6!, {r3, r4}\n\t"
            "mov lr, r6\n\t"
            "mov r11, r3\n\t"
            "mov r9, r3\n\t"
            "mov r8, r4\n\t"
            "mov r10, r4\n\t"
            "ldr r3, [sp, #0]\n\t"
            "adds r3, r3, r2\n\t"
            "ldr r4, [sp, #4]\n\t"
            "2:\n\t"
            "ldrsb r5, [r0, r4]\n\t" /* row 0 */
            "ldrsb r6, [r2, r4]\n\t" /* weight row 0 */
            "muls r5, r6, r5\n\t"
            "add r11, r5\n\t"
            "ldrsb r5, [r1, r4]\n\t" /* row 1 */
            "muls r6, r5, r6\n\t"
            "add r9, r6\n\t"
            "ldrsb r6, [r3, r4]\n\t" /* weight row 1 */
            "muls r5, r6, r5\n\t"
            "add r10, r5\n\t"
            "ldrsb r5, [r0, r4]\n\t"
            "muls r5, r6, r5\n\t"
            "add r8, r5\n\t"
            "adds r4, #1\n\t"
            "bne 2b\n\t"
            "mov r3, r11\n\t"
            "mov r4, r8\n\t"
            "mov r5, r9\n\t"
            "mov r6, r10\n\t"
            "stmia r7!, {r3, r4}\n\t"
            "str r5, [r7, #" MCU_T1_ROW1 "]\n\t"
            "str r6, [r7, #" MCU_T1_ROW1 " + 4]\n\t"
            "add r2, r12\n\t"
            "ldr r3, [sp, #8]\n\t"
            "cmp r7, r3\n\t"
            "bne 1b\n\t"
            "add sp, #12\n\t" MCU_T1_LEAVE);
}

/* The groups of mcu_gemv_thumb1_sums_asm: fields in the order it loads them. */
typedef struct {
    int32_t off1, off2, off3;           /* a group's weight rows 1 to 3 - its first: 1 to 3 * depth (or 0: a last
                                         * group of fewer repeats its first row, those sums discarded) */
    int32_t neg_depth;                  /* -depth, depth >= 1 */
    const int32_t *sums_end;            /* sums + 4 * groups, groups >= 1 */
    int32_t *sums;                      /* group k's four to sums[4k .. 4k + 3] */
    const int32_t *bias;                /* the groups' four biases each, in turn */
    int32_t step;                       /* a group's first weight row to the next group's: 4 * depth */
    const int8_t *in_end, *w0_end;      /* the row + depth, the first group's first weight row + depth */
} mcu_gemv_thumb1_job_t;

/* The sums of a job's groups of one row by four outputs: r0 the row, r1-r4 the weight rows (+ depth), the
 * negative index r5, the row's value r6; the accumulators r8-r11; the biases' pointer lr, the step r12, the rest
 * of the job on the stack. */
__attribute__((naked, noinline, unused)) static void mcu_gemv_thumb1_sums_asm(const mcu_gemv_thumb1_job_t *job
                                                                              MCU_T1_ARG)
{
    __asm__(MCU_T1_ENTER
            "ldmia r0!, {r1, r2, r3, r4, r5, r6}\n\t"
            "push {r1, r2, r3, r4, r5, r6}\n\t" /* [sp, #0] off1 .. [sp, #12] neg_depth, sums_end, [sp, #20] sums */
            "ldm r0, {r0, r1, r2, r3}\n\t"
            "mov lr, r0\n\t"
            "mov r12, r1\n\t"
            "movs r0, r2\n\t"
            "movs r1, r3\n\t"
            "1:\n\t"
            "mov r6, lr\n\t"
            "ldmia r6!, {r2, r3, r4, r5}\n\t"
            "mov lr, r6\n\t"
            "mov r8, r2\n\t"
            "mov r9, r3\n\t"
            "mov r10, r4\n\t"
            "mov r11, r5\n\t"
            "ldr r2, [sp, #0]\n\t"
            "adds r2, r2, r1\n\t"
            "ldr r3, [sp, #4]\n\t"
            "adds r3, r3, r1\n\t"
            "ldr r4, [sp, #8]\n\t"
            "adds r4, r4, r1\n\t"
            "ldr r5, [sp, #12]\n\t"
            "2:\n\t"
            "ldrsb r6, [r0, r5]\n\t"
            "ldrsb r7, [r1, r5]\n\t"
            "muls r7, r6, r7\n\t"
            "add r8, r7\n\t"
            "ldrsb r7, [r2, r5]\n\t"
            "muls r7, r6, r7\n\t"
            "add r9, r7\n\t"
            "ldrsb r7, [r3, r5]\n\t"
            "muls r7, r6, r7\n\t"
            "add r10, r7\n\t"
            "ldrsb r7, [r4, r5]\n\t"
            "muls r7, r6, r7\n\t"
            "add r11, r7\n\t"
            "adds r5, #1\n\t"
            "bne 2b\n\t"
            "mov r4, r8\n\t"
            "mov r5, r9\n\t"
            "mov r6, r10\n\t"
            "mov r7, r11\n\t"
            "ldr r2, [sp, #20]\n\t"
            "stmia r2!, {r4, r5, r6, r7}\n\t"
            "str r2, [sp, #20]\n\t"
            "add r1, r12\n\t"
            "ldr r3, [sp, #16]\n\t"
            "cmp r2, r3\n\t"
            "bne 1b\n\t"
            "add sp, #24\n\t" MCU_T1_LEAVE);
}

/* One row, four outputs per group, MCU_T1_CHUNK outputs summed per call, then requantized (a last group of
 * fewer repeats its first row, its extra results discarded). */
static MCU_NOINLINE void mcu_gemv_thumb1_s8(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in,
                                            int8_t *out)
{
    const int32_t depth = g->depth, outputs = g->outputs;
    int32_t sums[MCU_T1_CHUNK];
    for (int32_t o = 0; o < outputs; o += MCU_T1_CHUNK) {
        const int32_t n = outputs - o < MCU_T1_CHUNK ? outputs - o : MCU_T1_CHUNK, whole = n & ~3;
        if (whole > 0) {
            const mcu_gemv_thumb1_job_t job = {depth, 2 * depth, 3 * depth, -depth, sums + whole, sums,
                                               g->bias + o, 4 * depth, in + depth, g->weights + o * depth + depth};
            mcu_gemv_thumb1_sums_asm(&job);
        }
        if (whole < n) {
            const mcu_rows4_t r = mcu_rows4(g->weights, g->bias, o + whole, outputs, depth);
            const int32_t lone[4] = {r.b0, r.b1, r.b2, r.b3};
            const mcu_gemv_thumb1_job_t job = {(int32_t)(r.w1 - r.w0), (int32_t)(r.w2 - r.w0),
                                               (int32_t)(r.w3 - r.w0), -depth, sums + whole + 4, sums + whole,
                                               lone, 0, in + depth, r.w0 + depth};
            mcu_gemv_thumb1_sums_asm(&job);
        }
        mcu_t1_requant_run(&q, sums, n, out, o);
    }
}

/* The sums of `blocks` 2 x 2 blocks of two rows from output `first` on, `single`: one block of the odd last
 * output alone (its repeat discarded). */
static MCU_ALWAYS_INLINE void mcu_gemm_thumb1_sums(const mcu_gemm_s8_t *g, const int8_t *in0, const int8_t *in1,
                                                   int32_t first, int32_t blocks, int single, int32_t *sums)
{
    const int32_t depth = g->depth;
    const int32_t lone[2] = {g->bias[first], g->bias[first]};
    const mcu_gemm_thumb1_job_t job = {single ? 0 : depth, -depth, sums + 2 * blocks, single ? lone : g->bias + first,
                                       2 * depth, in0 + depth, in1 + depth, g->weights + first * depth + depth, sums};
    mcu_gemm_thumb1_sums_asm(&job);
}

/* Two rows (out0: row 0's outputs, row 1's right after them), 2 x 2 blocks, MCU_T1_CHUNK outputs summed per
 * call, then requantized: the outputs are written after the last read of both rows' inputs for them. */
static MCU_NOINLINE void mcu_gemm_thumb1_rows2(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in0,
                                               const int8_t *in1, int8_t *out0)
{
    const int32_t outputs = g->outputs, even = outputs & ~1;
    int32_t sums[2 * MCU_T1_CHUNK];
    for (int32_t o = 0; o < outputs; o += MCU_T1_CHUNK) {
        const int32_t n = outputs - o < MCU_T1_CHUNK ? outputs - o : MCU_T1_CHUNK, whole = n >> 1;
        if (whole > 0) {
            mcu_gemm_thumb1_sums(g, in0, in1, o, whole, 0, sums);
        }
        if (o + n > even) { /* the odd last output */
            mcu_gemm_thumb1_sums(g, in0, in1, even, 1, 1, sums + 2 * whole);
        }
        mcu_t1_requant_run(&q, sums, n, out0, o);
        mcu_t1_requant_run(&q, sums + MCU_T1_CHUNK, n, out0 + outputs, o);
    }
}

/* pairs of rows, an odd last row by mcu_gemv_thumb1_s8 (the row order of mcu_gemm_s8: conv2d.overlap_limit) */
static inline void mcu_gemm_thumb1_s8(const mcu_gemm_s8_t *g, const int8_t *input, int8_t *output)
{
    const int32_t rows = g->rows, outputs = g->outputs, row_step = g->row_step;
    const mcu_requant_s8_t q = mcu_gemm_out(g);
    for (int32_t r = 0; r + 1 < rows; r += 2) {
        const int8_t *in0 = input + r * row_step;
        mcu_gemm_thumb1_rows2(g, q, in0, in0 + row_step, output + r * outputs);
    }
    if (rows & 1) {
        mcu_gemv_thumb1_s8(g, q, input + (rows - 1) * row_step, output + (rows - 1) * outputs);
    }
}
#endif

#endif
