/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_thumb1.h"
#include "mcu_window.h"

#if MCU_HAS_THUMB1
/* The channel pairs of mcu_dw_thumb1_sums_asm: fields in the order it loads them. */
typedef struct {
    int32_t step;                       /* channels: a tap to the next in the window and the filter */
    int32_t neg_end;                    /* -kernel_h * kernel_w * channels */
    const int32_t *bias;                /* the pairs' two biases each, in turn */
    int32_t *sums;                      /* pair k's two to sums[2k], sums[2k + 1] */
    const int32_t *sums_end;            /* sums + 2 * pairs, pairs >= 1 */
    const int8_t *in0, *in1, *f0, *f1;  /* the first pair's two channels of the window and the filter; each pair
                                         * two channels on */
} mcu_dw_thumb1_job_t;

/* The sums of a job's pairs of channels over all the window's taps (gathered in the filter's layout, so one index
 * walks both): r0 r1 the two window channels, r2 r3 the filter's (+ end), walked by the negative index r4 that
 * counts up by the step r7 to 0; the accumulators r8 r9; the sums r10, their end r11, the biases r12, -end lr.
 * 10 instructions per tap, 17 per pair besides. */
__attribute__((naked, noinline, unused)) static void mcu_dw_thumb1_sums_asm(const mcu_dw_thumb1_job_t *job MCU_T1_ARG)
{
    __asm__(MCU_T1_ENTER
            "ldmia r0!, {r1, r2, r3, r4, r5}\n\t"
            "movs r7, r1\n\t"
            "mov lr, r2\n\t"
            "mov r12, r3\n\t"
            "mov r10, r4\n\t"
            "mov r11, r5\n\t"
            "movs r6, r2\n\t"
            "ldm r0, {r0, r1, r2, r3}\n\t"
            "subs r0, r0, r6\n\t" /* the pointers + end */
            "subs r1, r1, r6\n\t"
            "subs r2, r2, r6\n\t"
            "subs r3, r3, r6\n\t"
            "1:\n\t"
            "mov r6, r12\n\t"
            "ldmia r6!, {r4, r5}\n\t"
            "mov r12, r6\n\t"
            "mov r8, r4\n\t"
            "mov r9, r5\n\t"
            "mov r4, lr\n\t"
            "2:\n\t"
            "ldrsb r5, [r0, r4]\n\t"
            "ldrsb r6, [r2, r4]\n\t"
            "muls r5, r6, r5\n\t"
            "add r8, r5\n\t"
            "ldrsb r5, [r1, r4]\n\t"
            "ldrsb r6, [r3, r4]\n\t"
            "muls r5, r6, r5\n\t"
            "add r9, r5\n\t"
            "adds r4, r4, r7\n\t"
            "bne 2b\n\t"
            "mov r4, r8\n\t"
            "mov r5, r9\n\t"
            "mov r6, r10\n\t"
            "stmia r6!, {r4, r5}\n\t"
            "mov r10, r6\n\t"
            "adds r0, #2\n\t"
            "adds r1, #2\n\t"
            "adds r2, #2\n\t"
            "adds r3, #2\n\t"
            "cmp r6, r11\n\t"
            "bne 1b\n\t" MCU_T1_LEAVE);
}

/* The sums of `pairs` pairs of channels from channel c on; `single`: channel c alone (as a pair of itself, the
 * copy discarded). */
static MCU_ALWAYS_INLINE void mcu_dw_thumb1_sums(const mcu_conv2d_params_t *p, const int32_t *bias,
                                                 const int8_t *window, int32_t c, int32_t pairs, int single,
                                                 int32_t *sums)
{
    const int32_t channels = p->out_c, other = c + !single;
    const int32_t lone[2] = {bias[c], bias[c]};
    const mcu_dw_thumb1_job_t job = {channels, -p->kernel_h * p->kernel_w * channels, single ? lone : bias + c, sums, sums + 2 * pairs,
                                     window + c, window + other, p->filter + c, p->filter + other};
    mcu_dw_thumb1_sums_asm(&job);
}

/* mcu_depthwise_conv2d_s8 for depth multiplier 1 and dilation_w 1: each position's window gathered into the
 * scratch buffer in the filter's layout [kernel_h][kernel_w][channels] (mcu_conv_gather_window: a tap outside the
 * input holds the zero point), then its channels in pairs over all its taps (MCU_T1_CHUNK channels summed per
 * call, then requantized). The zero point is folded into the bias (p->interior_bias where the layer pads, else
 * p->bias itself), so a tap outside, holding the zero point, adds zp * f that the fold takes back, as TFLM skips
 * the tap. Scratch: one window (depthwise_conv2d.SCRATCH). */
MCU_KERNEL void mcu_depthwise_conv2d_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                               void *scratch)
{
    const int32_t channels = p->out_c;
    const int32_t *bias = p->interior_bias ? p->interior_bias : p->bias;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    int8_t *window = scratch;
    int32_t sums[MCU_T1_CHUNK];
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + (oy * p->out_w + ox) * channels;
            mcu_conv_gather_window(p, input, oy, ox, window);
            for (int32_t c = 0; c < channels; c += MCU_T1_CHUNK) {
                const int32_t n = channels - c < MCU_T1_CHUNK ? channels - c : MCU_T1_CHUNK, pairs = n >> 1;
                if (pairs > 0) {
                    mcu_dw_thumb1_sums(p, bias, window, c, pairs, 0, sums);
                }
                if (n & 1) { /* the odd last channel */
                    mcu_dw_thumb1_sums(p, bias, window, c + n - 1, 1, 1, sums + 2 * pairs);
                }
                mcu_t1_requant_run(&q, sums, n, out, c);
            }
        }
    }
}
#else
typedef int mcu_depthwise_conv2d_thumb1_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
