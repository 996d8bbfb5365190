/* SPDX-License-Identifier: Apache-2.0 */
/* The int8 matrix product of mcu_gemm_s8.h (the same integers) for Thumb-1 cores (Armv6-M: Cortex-M0, M0+, M1;
 * Armv8-M baseline: M23), which have no multiply-accumulate: each product is a MULS and an ADD. LDRSB and MULS
 * reach only r0-r7, and eight low registers cannot hold a 2 x 2 block's four accumulators, four row pointers and
 * the values in flight, so GCC's portable form spills inside its inner loop (28 instructions per depth step). The
 * inner loops are written in assembly with the accumulators in high registers (ADD reaches r8-r14) and seven low
 * registers (r7 stays free for a frame pointer at -O0):
 *   2 rows x 2 outputs: 15 instructions per depth step, 4 products (one input value loaded twice: no eighth low
 *   register for a copy);  1 row x 3 outputs: 12 per step, 3 products.
 * GCC and clang inline assembly only (MCU_HAS_THUMB1). */
#ifndef MCU_GEMM_THUMB1_H
#define MCU_GEMM_THUMB1_H

#include "mcu_gemm_s8.h"
#include "mcu_thumb1.h"

#if MCU_HAS_THUMB1
/* acc[] = {row 0 by w0, row 0 by w1, row 1 by w0, row 1 by w1} plus depth (>= 1) products each; the pointers are
 * walked by one negative index that counts up to 0 (the loop's test is the ADDS's flags). */
static MCU_ALWAYS_INLINE void mcu_gemm_thumb1_2x2(const int8_t *in0, const int8_t *in1, const int8_t *w0,
                                                  const int8_t *w1, int32_t depth, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3], i = -depth, x, v;
    __asm__("1:\n\t"
            "ldrsb %[x], [%[in0], %[i]]\n\t"
            "ldrsb %[v], [%[w0], %[i]]\n\t"
            MCU_T1_MULS("%[x]", "%[v]")
            "add %[a00], %[x]\n\t"
            "ldrsb %[x], [%[in1], %[i]]\n\t"
            MCU_T1_MULS("%[v]", "%[x]")
            "add %[a10], %[v]\n\t"
            "ldrsb %[v], [%[w1], %[i]]\n\t"
            MCU_T1_MULS("%[x]", "%[v]")
            "add %[a11], %[x]\n\t"
            "ldrsb %[x], [%[in0], %[i]]\n\t"
            MCU_T1_MULS("%[x]", "%[v]")
            "add %[a01], %[x]\n\t"
            MCU_T1_INC("%[i]")
            "bne 1b"
            : [a00] "+h"(a00), [a01] "+h"(a01), [a10] "+h"(a10), [a11] "+h"(a11), [i] "+l"(i), [x] "=&l"(x),
              [v] "=&l"(v)
            : [in0] "l"(in0 + depth), [in1] "l"(in1 + depth), [w0] "l"(w0 + depth), [w1] "l"(w1 + depth)
            : "cc", "memory");
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* acc[k] += in . w_k over depth (>= 1) steps, k < 3 */
static MCU_ALWAYS_INLINE void mcu_gemm_thumb1_1x3(const int8_t *in, const int8_t *w0, const int8_t *w1,
                                                  const int8_t *w2, int32_t depth, int32_t acc[3])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], i = -depth, x, v;
    __asm__("1:\n\t"
            "ldrsb %[x], [%[in], %[i]]\n\t"
            "ldrsb %[v], [%[w0], %[i]]\n\t"
            MCU_T1_MULS("%[v]", "%[x]")
            "add %[a0], %[v]\n\t"
            "ldrsb %[v], [%[w1], %[i]]\n\t"
            MCU_T1_MULS("%[v]", "%[x]")
            "add %[a1], %[v]\n\t"
            "ldrsb %[v], [%[w2], %[i]]\n\t"
            MCU_T1_MULS("%[v]", "%[x]")
            "add %[a2], %[v]\n\t"
            MCU_T1_INC("%[i]")
            "bne 1b"
            : [a0] "+h"(a0), [a1] "+h"(a1), [a2] "+h"(a2), [i] "+l"(i), [x] "=&l"(x), [v] "=&l"(v)
            : [in] "l"(in + depth), [w0] "l"(w0 + depth), [w1] "l"(w1 + depth), [w2] "l"(w2 + depth)
            : "cc", "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}

/* One row, three outputs per pass (a last group of fewer repeats its first row, its extra results discarded). */
static MCU_NOINLINE void mcu_gemv_thumb1_s8(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in,
                                            int8_t *out)
{
    const int32_t depth = g->depth, outputs = g->outputs;
    for (int32_t o = 0; o < outputs; o += 3) {
        const int8_t *w0 = g->weights + o * depth;
        const int8_t *w1 = o + 1 < outputs ? w0 + depth : w0, *w2 = o + 2 < outputs ? w0 + 2 * depth : w0;
        int32_t acc[3] = {g->bias[o], o + 1 < outputs ? g->bias[o + 1] : 0, o + 2 < outputs ? g->bias[o + 2] : 0};
        mcu_gemm_thumb1_1x3(in, w0, w1, w2, depth, acc);
        mcu_store4_s8(q, out, o, outputs - o < 3 ? outputs - o : 3, acc[0], acc[1], acc[2], 0);
    }
}

/* Two rows (out0: row 0's outputs, row 1's right after them), 2 x 2 blocks (an odd last output repeats its first
 * weights, discarded); the outputs of a block are written after its last read of both rows' inputs. */
static MCU_NOINLINE void mcu_gemm_thumb1_rows2(const mcu_gemm_s8_t *g, mcu_requant_s8_t q, const int8_t *in0,
                                               const int8_t *in1, int8_t *out0)
{
    const int32_t depth = g->depth, outputs = g->outputs;
    for (int32_t o = 0; o < outputs; o += 2) {
        const int8_t *w0 = g->weights + o * depth, *w1 = o + 1 < outputs ? w0 + depth : w0;
        const int32_t b1 = o + 1 < outputs ? g->bias[o + 1] : 0;
        int32_t acc[4] = {g->bias[o], b1, g->bias[o], b1};
        mcu_gemm_thumb1_2x2(in0, in1, w0, w1, depth, acc);
        mcu_gemm_store_2x2_s8(q, out0, 2, outputs, 0, o, acc[0], acc[1], acc[2], acc[3]);
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
