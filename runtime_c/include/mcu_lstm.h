/* SPDX-License-Identifier: Apache-2.0 */
/* The int8 LSTM (ops/lstm.py has the formulas), written once for its portable and DSP forms: each kernel passes
 * its dot product, a constant, to the always-inlined body, so each form's loops are its own. */
#ifndef MCU_LSTM_H
#define MCU_LSTM_H

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"
#include "mcu_simd.h"

typedef int32_t (*mcu_lstm_dot_t)(const int8_t *v, const int8_t *w, int32_t n, int32_t acc);

/* acc + sum v[i] w[i] */
static inline int32_t mcu_lstm_dot_s8(const int8_t *v, const int8_t *w, int32_t n, int32_t acc)
{
    for (int32_t i = 0; i < n; ++i) {
        acc += v[i] * w[i];
    }
    return acc;
}

#if MCU_HAS_DSP
/* the same sum, four steps per pass: one word of each, two SMLADs (exact: int16 products in int32) */
static inline int32_t mcu_lstm_dot_dsp_s8(const int8_t *v, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t x = mcu_load_s8x4(v + i), y = mcu_load_s8x4(w + i);
        acc = __smlad(__sxtb16(x), __sxtb16(y), __smlad(mcu_sxtb16_ror8(x), mcu_sxtb16_ror8(y), acc));
    }
    return mcu_lstm_dot_s8(v + i, w + i, n - i, acc);
}
#endif

/* One gate row's matrix product requantized to int16 and saturated (TFLM's FullyConnected to int16). */
static MCU_ALWAYS_INLINE int32_t mcu_lstm_row_s8(mcu_lstm_dot_t dot, const int8_t *v, const int8_t *w, int32_t n,
                                                 int32_t bias, int32_t mult, int32_t shift)
{
    return mcu_clamp(mcu_requantize(dot(v, w, n, bias), mult, shift), INT16_MIN, INT16_MAX);
}

static MCU_ALWAYS_INLINE void mcu_lstm_run_s8(const mcu_lstm_params_t *p, const int8_t *input, int8_t *hidden,
                                              int16_t *cell, int8_t *output, void *scratch, mcu_lstm_dot_t dot)
{
    const int32_t batch = p->batch, steps = p->steps, input_size = p->input_size, units = p->units;
    int16_t *gates = (int16_t *)scratch;        /* [4][units]: one step of one batch row */
    if (!p->keep_state) {                       /* the zero state, in the scratch: c [batch][units], the gates, h */
        cell = gates;
        gates = cell + batch * units;
        hidden = (int8_t *)(gates + 4 * units);
        for (int32_t i = 0; i < batch * units; ++i) {
            cell[i] = 0;
            hidden[i] = (int8_t)p->hidden_zp;
        }
    }
    for (int32_t b = 0; b < batch; ++b) {
        int16_t *c = cell + b * units;
        int8_t *h = hidden + b * units;
        for (int32_t t = 0; t < steps; ++t) {
            const int32_t row = p->time_major ? t * batch + b : b * steps + t;
            const int8_t *x = input + row * input_size;
            for (int32_t g = 0, r = 0; g < 4; ++g) {
                const int32_t in_mult = p->input_mult[g], in_shift = p->input_shift[g];
                const int32_t rec_mult = p->recurrent_mult[g], rec_shift = p->recurrent_shift[g];
                for (int32_t u = 0; u < units; ++u, ++r) {
                    gates[r] = (int16_t)mcu_lstm_gate_s16(
                        g, mcu_lstm_row_s8(dot, x, p->input_weights + r * input_size, input_size, p->bias[r],
                                           in_mult, in_shift),
                        mcu_lstm_row_s8(dot, h, p->recurrent_weights + r * units, units, p->recurrent_bias[r],
                                        rec_mult, rec_shift), p->table);
                }
            }
            int8_t *y = output + row * units;
            for (int32_t u = 0; u < units; ++u) {
                c[u] = (int16_t)mcu_lstm_cell_s16(gates[units + u], gates[u], gates[2 * units + u], c[u],
                                                  p->forget_mult, p->forget_shift, p->update_mult, p->update_shift,
                                                  p->cell_clip);
                y[u] = (int8_t)mcu_lstm_hidden_s16(c[u], gates[3 * units + u], p->tanh_mult, p->tanh_shift,
                                                   p->hidden_mult, p->hidden_shift, p->hidden_zp, p->hidden_min,
                                                   p->hidden_max, p->table);
            }
            for (int32_t u = 0; u < units; ++u) {   /* h of this step, read by the next */
                h[u] = y[u];
            }
        }
    }
}

#endif /* MCU_LSTM_H */
