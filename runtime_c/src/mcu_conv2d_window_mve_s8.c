/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_conv2d_s8 on Helium for a whole window of at most 64 values (kernel_h * kernel_w * in_c <= 64, dilation 1:
 * a first layer such as kws's 10x4 on one channel or a 3x3 on three): each position's window is gathered once,
 * a run of memory per kernel row (mcu_conv_gather_window), into 64 bytes of stack, a tap outside the input filled
 * with the zero point (so it adds (zp - zp) * w = 0, as TFLM skips it, once the zero point is in the bias:
 * p->interior_bias, or p->bias itself without padding), and kept in up to four vector registers; every filter is
 * then one contiguous run of the OHWI weights against it: sixteen raw int8 products per VMLADAVA. */
MCU_KERNEL void mcu_conv2d_window_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t size = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t *bias = p->interior_bias ? p->interior_bias : p->bias;
    const int32_t whole = size >> 4;                                /* vectors of sixteen taps, then the rest */
    const mve_pred16_t rest = vctp8q((uint32_t)(size & 15));
    const mcu_requant_s8_t q = mcu_conv_out(p);
    int8_t window[80] = {0}; /* 64 values and room past them: a whole-vector load past a short window reads 0 */
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ++ox) {
            mcu_conv_gather_window(p, input, oy, ox, window);
            /* the window in registers: whole vectors, and the rest (lanes past the window load as 0) */
            const int8x16_t x0 = vldrbq_s8(window), x1 = vldrbq_s8(window + 16), x2 = vldrbq_s8(window + 32);
            const int8x16_t x3 = vldrbq_s8(window + 48), xr = vldrbq_z_s8(window + 16 * whole, rest);
            int8_t *out = output + (oy * out_w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc += 4) {
                const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
                int32_t acc[4] = {0, 0, 0, 0};
                for (int32_t k = 0; k < n; ++k) {
                    const int8_t *f = p->filter + (oc + k) * size;
                    int32_t dot = 0;
                    if (whole > 0) {
                        const int8x16_t w = vldrbq_s8(f);
                        dot = vmladavaq_s8(dot, x0, w);
                    }
                    if (whole > 1) {
                        const int8x16_t w = vldrbq_s8(f + 16);
                        dot = vmladavaq_s8(dot, x1, w);
                    }
                    if (whole > 2) {
                        const int8x16_t w = vldrbq_s8(f + 32);
                        dot = vmladavaq_s8(dot, x2, w);
                    }
                    if (whole > 3) {
                        const int8x16_t w = vldrbq_s8(f + 48);
                        dot = vmladavaq_s8(dot, x3, w);
                    }
                    const int8x16_t w = vldrbq_z_s8(f + 16 * whole, rest);
                    dot = vmladavaq_s8(dot, xr, w);
                    acc[k] = dot;
                }
                const mve_pred16_t lanes = vctp32q((uint32_t)n);
                const int32x4_t total = vaddq_s32(vldrwq_s32(acc), vldrwq_z_s32(bias + oc, lanes));
                mcu_store_mve_s8(out + oc, total, q.mult + oc, q.shift + oc, q.zp, q.act_min, q.act_max, lanes);
            }
        }
    }
}
#else
typedef int mcu_conv2d_window_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
