/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_DSP
/* n int8 values to int16, four per word: (b0, b2) and (b1, b3) by SXTB16, repacked as (b0, b1), (b2, b3) */
static inline void mcu_first_widen_dsp(int16_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t v = mcu_load_s8x4(src + i), e = __sxtb16(v), o = mcu_sxtb16_ror8(v);
        const int32_t lo = mcu_pack_low16(e, o), hi = mcu_pack_high16(e, o);
        memcpy(dst + i, &lo, sizeof lo);
        memcpy(dst + i + 2, &hi, sizeof hi);
    }
    for (; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* One position's window (in the filters' order: [kernel_h][kernel_w][in_c]) as int16 values, a tap outside the
 * input holding the zero point; an odd size then a 0, to make the pairs whole (its weight is 0 too). */
static void mcu_first_window_dsp(const mcu_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox,
                                 int16_t *window)
{
    const int32_t in_c = p->in_c, in_w = p->in_w, run = p->kernel_w * in_c;
    const mcu_window_t w = mcu_conv_window(p, oy, ox);
    const int16_t zp = (int16_t)p->input_zp;
    for (int32_t ky = 0; ky < p->kernel_h; ++ky, window += run) {
        const int32_t y = w.in_y0 + ky * p->dilation_h;
        const int inside = ky >= w.ky_begin && ky < w.ky_end;
        if (inside && w.kx_begin == 0 && w.kx_end == p->kernel_w && p->dilation_w == 1) { /* the usual case */
            mcu_first_widen_dsp(window, input + (y * in_w + w.in_x0) * in_c, run);
            continue;
        }
        for (int32_t kx = 0, i = 0; kx < p->kernel_w; ++kx) {
            const int32_t x = w.in_x0 + kx * p->dilation_w;
            const int tap = inside && kx >= w.kx_begin && kx < w.kx_end;
            for (int32_t c = 0; c < in_c; ++c, ++i) {
                window[i] = tap ? input[(y * in_w + x) * in_c + c] : zp;
            }
        }
    }
    if ((p->kernel_h * run) & 1) {
        window[0] = 0; /* one past the last row */
    }
}

/* Four sums over `pairs` int16 pairs: s[2i + k] += sum_j x_i[j] . w[j][k] (SMLAD), the two windows x0, x1 and
 * the two filters' pairs side by side in w. Two pairs per pass in assembly (GCC spilled the loop's end and loaded
 * the weights word by word: 13 instructions per pair, these 8). */
static inline void mcu_first_sums_dsp(int32_t s[4], const int32_t *x0, const int32_t *x1, const int32_t *w,
                                      int32_t pairs)
{
    int32_t a00 = s[0], a01 = s[1], a10 = s[2], a11 = s[3];
    if (pairs & 1) {
        a00 = __smlad(x0[0], w[0], a00);
        a01 = __smlad(x0[0], w[1], a01);
        a10 = __smlad(x1[0], w[0], a10);
        a11 = __smlad(x1[0], w[1], a11);
        ++x0;
        ++x1;
        w += 2;
    }
#if defined(__GNUC__)
    for (int32_t n = pairs >> 1; n > 0; --n) {
        int32_t wa, wb, u, v;
        __asm__("ldrd %[wa], %[wb], [%[w]], #8\n\t"
                "ldr %[u], [%[x0]], #4\n\t"
                "ldr %[v], [%[x1]], #4\n\t"
                "smlad %[a00], %[u], %[wa], %[a00]\n\t"
                "smlad %[a01], %[u], %[wb], %[a01]\n\t"
                "smlad %[a10], %[v], %[wa], %[a10]\n\t"
                "smlad %[a11], %[v], %[wb], %[a11]\n\t"
                "ldrd %[wa], %[wb], [%[w]], #8\n\t"
                "ldr %[u], [%[x0]], #4\n\t"
                "ldr %[v], [%[x1]], #4\n\t"
                "smlad %[a00], %[u], %[wa], %[a00]\n\t"
                "smlad %[a01], %[u], %[wb], %[a01]\n\t"
                "smlad %[a10], %[v], %[wa], %[a10]\n\t"
                "smlad %[a11], %[v], %[wb], %[a11]"
                : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x0] "+r"(x0),
                  [x1] "+r"(x1), [wa] "=&r"(wa), [wb] "=&r"(wb), [u] "=&r"(u), [v] "=&r"(v)
                :
                : "memory");
    }
#else
    for (int32_t j = 0; j < (pairs & ~1); ++j, w += 2) {
        a00 = __smlad(x0[j], w[0], a00);
        a01 = __smlad(x0[j], w[1], a01);
        a10 = __smlad(x1[j], w[0], a10);
        a11 = __smlad(x1[j], w[1], a11);
    }
#endif
    s[0] = a00;
    s[1] = a01;
    s[2] = a10;
    s[3] = a11;
}

/* mcu_conv2d_s8 for first layers (1 to 3 input channels: a window of a few dozen values against few filters,
 * where the matrix product's gathering and widening per position dominate): the filters widened once into
 * int16 pairs in the scratch buffer, two filters' pairs side by side; then per two positions their windows as
 * int16 pairs and, for every two filters, four sums of SMLADs over the pairs (one LDRD of weights feeds four).
 * The bias has the zero point folded in (p->interior_bias; p->bias itself without padding), so a tap outside
 * the input, holding the zero point, adds zp * w that the fold takes back, as TFLM skips the tap. Scratch
 * (conv2d.SCRATCH): the widened filters, then two windows. */
MCU_KERNEL void mcu_conv2d_first_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                        void *scratch)
{
    const int32_t size = p->kernel_h * p->kernel_w * p->in_c, pairs = (size + 1) / 2;
    const int32_t out_c = p->out_c, out_w = p->out_w, positions = p->out_h * out_w;
    const int32_t *bias = p->interior_bias ? p->interior_bias : p->bias;
    const mcu_requant_s8_t q = mcu_conv_out(p);
    int32_t *weights = scratch;                               /* [(out_c + 1) / 2][pairs][2] */
    int16_t *window0 = (int16_t *)(void *)(weights + ((out_c + 1) / 2) * pairs * 2);
    int16_t *window1 = window0 + 2 * pairs;
    for (int32_t oc = 0; oc < out_c; oc += 2) {
        const int8_t *fa = p->filter + oc * size, *fb = oc + 1 < out_c ? fa + size : 0;
        int32_t *w = weights + oc * pairs;
        for (int32_t j = 0; j < pairs; ++j, w += 2) {
            const int32_t t = 2 * j, last = t + 1 < size;
            w[0] = mcu_pack_low16(fa[t], last ? fa[t + 1] : 0);
            w[1] = fb ? mcu_pack_low16(fb[t], last ? fb[t + 1] : 0) : 0;
        }
    }
    for (int32_t r = 0; r < positions; r += 2) {
        const int32_t n = r + 1 < positions ? 2 : 1;
        mcu_first_window_dsp(p, input, r / out_w, r % out_w, window0);
        if (n == 2) {
            mcu_first_window_dsp(p, input, (r + 1) / out_w, (r + 1) % out_w, window1);
        }
        const int32_t *x0 = (const int32_t *)(const void *)window0;
        const int32_t *x1 = n == 2 ? (const int32_t *)(const void *)window1 : x0;
        int8_t *out0 = output + r * out_c, *out1 = out0 + out_c;
        for (int32_t oc = 0; oc < out_c; oc += 2) {
            const int32_t m = out_c - oc < 2 ? 1 : 2;
            const int32_t *w = weights + oc * pairs;
            int32_t sums[4] = {bias[oc], m == 2 ? bias[oc + 1] : 0, bias[oc], m == 2 ? bias[oc + 1] : 0};
            mcu_first_sums_dsp(sums, x0, x1, w, pairs);
            out0[oc] = mcu_requant_s8(q, sums[0], oc);
            if (m == 2) {
                out0[oc + 1] = mcu_requant_s8(q, sums[1], oc + 1);
            }
            if (n == 2) {
                out1[oc] = mcu_requant_s8(q, sums[2], oc);
                if (m == 2) {
                    out1[oc + 1] = mcu_requant_s8(q, sums[3], oc + 1);
                }
            }
        }
    }
}
#else
typedef int mcu_conv2d_first_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
