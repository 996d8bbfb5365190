/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_thumb1.h"
#include "mcu_window.h"

#if MCU_HAS_THUMB1
/* acc[k] += sum of in_k[t] * f_k[t] over t = 0, step, .., end - step (end > 0), k < 2: two channels of a window
 * gathered in the filter's layout, so one index walks both. Seven low registers: the two accumulators and the
 * loop's step and end in high ones (mcu_thumb1.h). */
static MCU_ALWAYS_INLINE void mcu_dw_thumb1_taps2(const int8_t *in0, const int8_t *in1, const int8_t *f0,
                                                  const int8_t *f1, int32_t end, int32_t step, int32_t acc[2])
{
    int32_t a0 = acc[0], a1 = acc[1], t = 0, x, v;
    __asm__("1:\n\t"
            "ldrsb %[x], [%[in0], %[t]]\n\t"
            "ldrsb %[v], [%[f0], %[t]]\n\t"
            MCU_T1_MULS("%[x]", "%[v]")
            "add %[a0], %[x]\n\t"
            "ldrsb %[x], [%[in1], %[t]]\n\t"
            "ldrsb %[v], [%[f1], %[t]]\n\t"
            MCU_T1_MULS("%[x]", "%[v]")
            "add %[a1], %[x]\n\t"
            "add %[t], %[step]\n\t"
            "cmp %[t], %[end]\n\t"
            "bne 1b"
            : [a0] "+h"(a0), [a1] "+h"(a1), [t] "+l"(t), [x] "=&l"(x), [v] "=&l"(v)
            : [in0] "l"(in0), [in1] "l"(in1), [f0] "l"(f0), [f1] "l"(f1), [step] "h"(step), [end] "h"(end)
            : "cc", "memory");
    acc[0] = a0;
    acc[1] = a1;
}

/* mcu_depthwise_conv2d_s8 for depth multiplier 1 and dilation_w 1: each position's window gathered into the
 * scratch buffer in the filter's layout [kernel_h][kernel_w][channels] (mcu_conv_gather_window: a tap outside the
 * input holds the zero point), then two channels per pass over all its taps. The zero point is folded into the
 * bias (p->interior_bias where the layer pads, else p->bias itself), so a tap outside, holding the zero point,
 * adds zp * f that the fold takes back, as TFLM skips the tap. Scratch: one window (depthwise_conv2d.SCRATCH). */
MCU_KERNEL void mcu_depthwise_conv2d_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                               void *scratch)
{
    const int32_t channels = p->out_c, end = p->kernel_h * p->kernel_w * channels;
    const int32_t *bias = p->interior_bias ? p->interior_bias : p->bias;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    int8_t *window = scratch;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + (oy * p->out_w + ox) * channels;
            mcu_conv_gather_window(p, input, oy, ox, window);
            for (int32_t c = 0; c < channels; c += 2) {
                const int32_t pair = c + 1 < channels; /* a last odd channel runs twice, its copy discarded */
                int32_t acc[2] = {bias[c], bias[c + pair]};
                mcu_dw_thumb1_taps2(window + c, window + c + pair, p->filter + c, p->filter + c + pair, end,
                                    channels, acc);
                mcu_store4_s8(q, out, c, 1 + pair, acc[0], acc[1], 0, 0);
            }
        }
    }
}
#else
typedef int mcu_depthwise_conv2d_thumb1_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
