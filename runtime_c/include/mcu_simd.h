/* SPDX-License-Identifier: Apache-2.0 */
/* What the DSP forms of the kernels share (MCU_HAS_DSP: Cortex-M4, M7, M33, M55): four int8 lanes from one
 * 32-bit load, split by SXTB16 into their even lanes (0, 2) and odd lanes (1, 3) as two int16 pairs. */
#ifndef MCU_SIMD_H
#define MCU_SIMD_H

#include <stdint.h>
#include <string.h>

#include "mcu_nn.h"

/* an inner loop kept out of its caller: inlined, the caller's loops would take the registers it needs ("unused":
 * a header's static function that a model's forms do not call is no warning) */
#if defined(__GNUC__)
#define MCU_NOINLINE __attribute__((noinline, unused))
#else
#define MCU_NOINLINE
#endif
/* a helper written once for two cases (a flag it is called with as a constant): inlined into each call, the
 * compiler drops the other case's code from its loops */
#if defined(__GNUC__)
#define MCU_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define MCU_ALWAYS_INLINE inline
#endif

#if MCU_HAS_DSP
#include <arm_acle.h>

/* A parameter of a naked function (GCC and clang: its body is assembly only), which reads it from its register */
#define MCU_NAKED_ARG __attribute__((unused))

static inline int32_t mcu_load_s8x4(const int8_t *p)
{
    int32_t v;
    /* one LDR: Armv7E-M and Armv8-M mainline load unaligned words (as CMSIS-NN relies on too), unless the
     * firmware sets CCR.UNALIGN_TRP, which would fault here */
    memcpy(&v, p, sizeof v);
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

/* (lo's low half, hi's low half) and (lo's high half, hi's high half) as int16 pairs: one PKHBT / PKHTB each
 * (ACLE has no intrinsic, and GCC spells them with two instructions) */
static inline int32_t mcu_pack_low16(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

static inline int32_t mcu_pack_high16(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

static inline int32_t mcu_pair_s16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16));
}
#endif

#if MCU_HAS_MVE
#include <arm_mve.h>

/* mcu_requantize on four lanes, the same integers: VQSHL is mcu_saturating_left_shift, VQRDMULH is
 * mcu_sat_rounding_doubling_high_mul (saturation included), and VRSHL by -exponent after adding -1 to negative
 * values is mcu_rounding_divide_by_pot (ties away from zero, as gemmlowp's vector form does it). */
static inline int32x4_t mcu_requantize_mve(int32x4_t x, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t right = vminq_s32(shift, zero); /* -exponent, <= 0 */
    x = vqrdmulhq_s32(vqshlq_s32(x, vmaxq_s32(shift, zero)), multiplier);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, right), 31); /* -1 where x < 0 and there is a shift */
    return vrshlq_s32(vqaddq_s32(x, fixup), right);
}

/* mcu_requantize_mve for a layer whose short requantization the generator proved (mcu_requant_s8_t's kind is
 * not MCU_REQUANT_EXACT: every multiplier >= 0, every shift <= -1): the same integers in four instructions instead
 * of eight. VQRDMULH is the high-mul h (no saturation: the multiplier is >= 0); the rounding divide by 2^e (ties
 * away from zero) is VRSHL by the shift (<= -1) of h - [h < 0] = h + (h >> 31), inside int32 (h >= -(2^31 - 1)
 * for a multiplier >= 0). From h, not x ([x < 0] would do too, fixedpoint.requant_round_constants): x is dead
 * after the VQRDMULH, one vector register fewer live (the Helium depthwise rows: 3% fewer instructions). */
static inline int32x4_t mcu_requant_round_mve(int32x4_t x, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t h = vqrdmulhq_s32(x, multiplier);
    return vrshlq_s32(vaddq_s32(h, vshrq_n_s32(h, 31)), shift);
}

/* A per-tensor multiplier and shift as mcu_requantize_mve needs them in scalar registers (vector-by-scalar
 * forms: no vector register held across a loop), split once: left = max(shift, 0), right = min(shift, 0) and
 * fixup 1 where right < 0. */
typedef struct {
    int32_t multiplier, left, right, fixup;
} mcu_requant_n_t;

static inline mcu_requant_n_t mcu_requant_n(int32_t multiplier, int32_t shift)
{
    const mcu_requant_n_t r = {multiplier, shift > 0 ? shift : 0, shift < 0 ? shift : 0, shift < 0};
    return r;
}

/* mcu_requantize_mve with one multiplier and shift for the four lanes: the same integers */
static inline int32x4_t mcu_requantize_n_mve(int32x4_t x, mcu_requant_n_t r)
{
    x = vqrdmulhq_n_s32(vqshlq_r_s32(x, r.left), r.multiplier);
    x = vqaddq_s32(x, vmulq_n_s32(vshrq_n_s32(x, 31), r.fixup)); /* -1 where x < 0 and there is a right shift */
    return vrshlq_n_s32(x, r.right);
}

/* out[k] = clamp(requant(acc[k]) + output_zp) for the lanes in `lanes`, stored as int8 */
static inline void mcu_store_mve_s8(int8_t *out, int32x4_t acc, const int32_t *multiplier, const int32_t *shift,
                                    int32_t output_zp, int32_t act_min, int32_t act_max, mve_pred16_t lanes)
{
    int32x4_t y = mcu_requantize_mve(acc, vldrwq_z_s32(multiplier, lanes), vldrwq_z_s32(shift, lanes));
    y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, output_zp), vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
    vstrbq_p_s32(out, y, lanes);
}

#endif

/* Bytes copied and filled by the gathers of the windowed forms: Helium's whole vectors and one predicated rest
 * (6% fewer instructions than the C library's on the M55's ic, small runs), else the C library's. */
static inline void mcu_copy_s8(int8_t *dst, const int8_t *src, int32_t n)
{
#if MCU_HAS_MVE
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        vstrbq_s8(dst + i, vldrbq_s8(src + i));
    }
    if (i < n) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(dst + i, vldrbq_z_s8(src + i, lanes), lanes);
    }
#else
    memcpy(dst, src, (size_t)n);
#endif
}

static inline void mcu_fill_s8(int8_t *dst, int8_t value, int32_t n)
{
#if MCU_HAS_MVE
    const int8x16_t v = vdupq_n_s8(value);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        vstrbq_s8(dst + i, v);
    }
    if (i < n) {
        vstrbq_p_s8(dst + i, v, vctp8q((uint32_t)(n - i)));
    }
#else
    memset(dst, value, (size_t)n);
#endif
}

#endif
