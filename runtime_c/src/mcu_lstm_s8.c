/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

/* One gate row's matrix product requantized to int16 and saturated (TFLM's FullyConnected to int16). */
static int32_t mcu_lstm_row_s8(const int8_t *v, const int8_t *w, int32_t n, int32_t bias, int32_t mult,
                               int32_t shift)
{
    int32_t acc = bias;
    for (int32_t i = 0; i < n; ++i) {
        acc += v[i] * w[i];
    }
    return mcu_clamp(mcu_multiply_by_quantized_multiplier(acc, mult, shift), INT16_MIN, INT16_MAX);
}

MCU_KERNEL void mcu_lstm_s8(const mcu_lstm_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t batch = p->batch, steps = p->steps, input_size = p->input_size, units = p->units;
    int16_t *cell = (int16_t *)scratch;         /* [batch][units] */
    int16_t *gates = cell + batch * units;      /* [4][units]: one step of one batch row */
    int8_t *hidden = (int8_t *)(gates + 4 * units);   /* [batch][units] */
    for (int32_t i = 0; i < batch * units; ++i) {   /* the zero state */
        cell[i] = 0;
        hidden[i] = (int8_t)p->hidden_zp;
    }
    for (int32_t b = 0; b < batch; ++b) {
        int16_t *c = cell + b * units;
        int8_t *h = hidden + b * units;
        for (int32_t t = 0; t < steps; ++t) {
            const int32_t row = p->time_major ? t * batch + b : b * steps + t;
            const int8_t *x = input + row * input_size;
            for (int32_t r = 0; r < 4 * units; ++r) {
                const int32_t g = r / units;
                gates[r] = (int16_t)mcu_lstm_gate_s16(
                    g, mcu_lstm_row_s8(x, p->input_weights + r * input_size, input_size, p->bias[r],
                                       p->input_mult[g], p->input_shift[g]),
                    mcu_lstm_row_s8(h, p->recurrent_weights + r * units, units, p->recurrent_bias[r],
                                    p->recurrent_mult[g], p->recurrent_shift[g]), p->table);
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
