/* SPDX-License-Identifier: Apache-2.0 */
/* What the Thumb-1 forms' inline assembly shares (mcu_gemm_thumb1.h, mcu_depthwise_conv2d_thumb1_s8.c): LDRSB
 * and MULS reach only r0-r7, so the inner loops keep their accumulators in high registers (ADD and CMP reach
 * r8-r14) and use at most seven low ones (r7 stays free for a frame pointer at -O0). */
#ifndef MCU_THUMB1_H
#define MCU_THUMB1_H

#include "mcu_nn.h"

#if MCU_HAS_THUMB1
/* The two instructions whose spelling differs between the syntaxes: GCC assembles Thumb-1 inline assembly in the
 * divided syntax unless -masm-syntax-unified (which defines __ARM_ASM_SYNTAX_UNIFIED__), clang in the unified one
 * only. MULS d, m, d: d = d * m; ADDS d, #1. */
#if defined(__clang__) || defined(__ARM_ASM_SYNTAX_UNIFIED__)
#define MCU_T1_MULS(d, m) "muls " d ", " m ", " d "\n\t"
#define MCU_T1_INC(d) "adds " d ", #1\n\t"
#else
#define MCU_T1_MULS(d, m) "mul " d ", " m "\n\t"
#define MCU_T1_INC(d) "add " d ", #1\n\t"
#endif
#endif

#endif
