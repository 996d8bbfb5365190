/* SPDX-License-Identifier: Apache-2.0 */
/* The general DSP depthwise form's taps (mcu_depthwise_conv2d_dsp_s8, any geometry; the 3x3 forms are
 * mcu_depthwise_planar_dsp.h's): four channels of a tap as one word, split by SXTB16 into even lanes (channels
 * 0, 2) and odd lanes (1, 3), each channel its own SMLABB / SMLATT. */
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

#endif

#endif
