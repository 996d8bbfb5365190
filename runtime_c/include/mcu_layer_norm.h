/* SPDX-License-Identifier: Apache-2.0 */
/* The integer layer norm (ops/layer_norm.py has the arithmetic), written once for int8 and int16: each kernel
 * passes its element size, a constant, to the always-inlined body, so each form reads and writes its own type. */
#ifndef MCU_LAYER_NORM_H
#define MCU_LAYER_NORM_H

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"
#include "mcu_simd.h"

static MCU_ALWAYS_INLINE int32_t mcu_layer_norm_load(const void *row, int32_t i, int32_t bytes)
{
    return bytes == 1 ? ((const int8_t *)row)[i] : ((const int16_t *)row)[i];
}

static MCU_ALWAYS_INLINE void mcu_layer_norm_rows(const mcu_layer_norm_params_t *p, const void *input, void *output,
                                                  int32_t bytes)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const void *in = (const char *)input + r * p->depth * bytes;
        int32_t sum = 0;
        for (int32_t i = 0; i < p->depth; ++i) {
            sum += mcu_layer_norm_load(in, i, bytes) - p->input_zp;
        }
        int64_t w = p->eps;             /* sum of t^2 + E, t = D (q - zp) - S: below 2^62 (prepare) */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (mcu_layer_norm_load(in, i, bytes) - p->input_zp) - sum;
            w += (int64_t)t * t;
        }
        int32_t e;
        const int64_t inv = mcu_inv_sqrt_s64(w < 1 ? 1 : w, &e);    /* 1 / sqrt(w) = inv 2^(-42 - e) */
        for (int32_t i = 0; i < p->depth; ++i) {
            const int32_t t = p->depth * (mcu_layer_norm_load(in, i, bytes) - p->input_zp) - sum;
            const int64_t n = mcu_rounding_shift_s64((int64_t)t * inv, 24 - 42 - e);    /* t / sqrt(w), 2^24 */
            const int64_t y = mcu_rounding_shift_s64(n * p->gamma_q[i] + p->beta_q[i], -p->out_shift);
            const int32_t q = mcu_clamp_s64(y + p->output_zp, p->q_min, p->q_max);
            if (bytes == 1) {
                ((int8_t *)output)[r * p->depth + i] = (int8_t)q;
            } else {
                ((int16_t *)output)[r * p->depth + i] = (int16_t)q;
            }
        }
    }
}

#endif
