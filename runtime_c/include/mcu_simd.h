/* SPDX-License-Identifier: Apache-2.0 */
/* What the DSP forms of the kernels share (MCU_HAS_DSP: Cortex-M4, M7, M33, M55): four int8 lanes from one
 * 32-bit load, split by SXTB16 into their even lanes (0, 2) and odd lanes (1, 3) as two int16 pairs. */
#ifndef MCU_SIMD_H
#define MCU_SIMD_H

#include <stdint.h>
#include <string.h>

#include "mcu_nn.h"

#if MCU_HAS_DSP
#include <arm_acle.h>

static inline int32_t mcu_load_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v); /* one LDR: Armv7E-M and Armv8-M mainline load unaligned words */
    return v;
}

/* lanes 1 and 3 of four int8 as an int16 pair: one SXTB16 with its rotation (compilers emit a separate
 * rotate for __sxtb16 of a rotated value); lanes 0 and 2 are __sxtb16(v) */
static inline int32_t mcu_sxtb16_ror8(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* lanes 0 and 2 of four int8 as int16 pairs, minus zp2 (the zero point in both halves): [-255, 255] */
static inline int32_t mcu_even_s8x4(int32_t v, int32_t zp2)
{
    return __ssub16(__sxtb16(v), zp2);
}

/* lanes 1 and 3 */
static inline int32_t mcu_odd_s8x4(int32_t v, int32_t zp2)
{
    return __ssub16(mcu_sxtb16_ror8(v), zp2);
}

static inline int32_t mcu_pair_s16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16));
}
#endif

#endif
