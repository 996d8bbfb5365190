/* SPDX-License-Identifier: Apache-2.0 */
/* What the Thumb-1 forms' assembly shares (mcu_gemm_thumb1.h, mcu_depthwise_conv2d_thumb1_s8.c): LDRSB and MULS
 * reach only r0-r7, so the inner loops keep their accumulators in high registers (ADD and CMP reach r8-r14). The
 * loops are naked functions (GCC and clang: a body of assembly only), which save and restore the registers they
 * use themselves: GCC's size builds (-Os, -Oz) give inline assembly no high register at all, and a debug build
 * keeps r7 for its frame pointer, whereas a naked function has all thirteen at every optimization level. Each
 * takes one pointer, to a job of its fields in the order it loads them, and writes its sums to memory; C
 * requantizes them. */
#ifndef MCU_THUMB1_H
#define MCU_THUMB1_H

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"
#include "mcu_simd.h"

#if MCU_HAS_THUMB1
/* A parameter of a naked function, which reads it from its register (as mcu_gemm_s8.h's DSP section) */
#define MCU_T1_ARG __attribute__((unused))

/* The bodies are written in the unified syntax: clang's only one; GCC assembles Thumb-1 inline assembly in the
 * divided syntax unless -masm-syntax-unified (which defines __ARM_ASM_SYNTAX_UNIFIED__), so they switch to the
 * unified syntax and back. */
#if defined(__clang__) || defined(__ARM_ASM_SYNTAX_UNIFIED__)
#define MCU_T1_BEGIN ""
#define MCU_T1_END ""
#else
#define MCU_T1_BEGIN ".syntax unified\n\t"
#define MCU_T1_END ".syntax divided\n\t"
#endif

/* The entry and exit of a naked loop: r4-r7 and lr pushed, then r8-r11 through r4-r7 (10 instructions); the
 * exit pops them back and returns (10). */
#define MCU_T1_ENTER                                                                                            \
    MCU_T1_BEGIN                                                                                                \
    "push {r4, r5, r6, r7, lr}\n\t"                                                                            \
    "mov r4, r8\n\t"                                                                                           \
    "mov r5, r9\n\t"                                                                                           \
    "mov r6, r10\n\t"                                                                                          \
    "mov r7, r11\n\t"                                                                                          \
    "push {r4, r5, r6, r7}\n\t"
#define MCU_T1_LEAVE                                                                                            \
    "pop {r4, r5, r6, r7}\n\t"                                                                                 \
    "mov r8, r4\n\t"                                                                                           \
    "mov r9, r5\n\t"                                                                                           \
    "mov r10, r6\n\t"                                                                                          \
    "mov r11, r7\n\t"                                                                                          \
    "pop {r4, r5, r6, r7, pc}\n\t" MCU_T1_END

/* The outputs summed per call of a form's naked loop, into a buffer on the caller's stack (one or two rows of
 * them: 64 or 128 bytes); MCU_T1_ROW1: row 1's sums after row 0's, from row 0's last two, in bytes (the text of
 * MCU_T1_CHUNK * 4 - 8, for the assembly) */
#define MCU_T1_CHUNK 16
#define MCU_T1_ROW1 "56"

/* out[channel + k] = the requantized sums[k], k < n (the layer's kind tested once): the forms' one copy of it */
static MCU_NOINLINE void mcu_t1_requant_run(const mcu_requant_s8_t *q, const int32_t *sums, int32_t n, int8_t *out,
                                            int32_t channel)
{
    if (q->kind == MCU_REQUANT_ROUND_S8) {
        const int32_t *m = q->mult + channel, *r = q->round + 2 * channel;
        for (int32_t k = 0; k < n; ++k) {
            out[channel + k] = (int8_t)mcu_sat_s8(mcu_requant_round(sums[k], m[k], r[2 * k], r[2 * k + 1]));
        }
        return;
    }
    const mcu_requant_s8_t p = *q;
    for (int32_t k = 0; k < n; ++k) {
        out[channel + k] = mcu_requant_s8(p, sums[k], channel + k);
    }
}
#endif

#endif
