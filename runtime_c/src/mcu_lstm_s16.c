/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

/* bias + sum v[i] w[i] in int64, requantized by TFLite's 64-bit path to int16 (TFLM's FullyConnected of int16). */
static int32_t mcu_lstm_row_s16(const int16_t *v, const int8_t *w, int32_t n, int64_t bias, int32_t mult,
                                int32_t shift)
{
    int64_t acc = bias;
    for (const int16_t *end = v + n; v < end; ++v, ++w) {
        acc += (int32_t)*v * *w;
    }
    return mcu_clamp_s64(mcu_multiply_by_quantized_multiplier_s64(acc, mult, shift), INT16_MIN, INT16_MAX);
}

MCU_KERNEL void mcu_lstm_s16(const mcu_lstm_s16_params_t *p, const int16_t *input, int16_t *hidden, int16_t *cell,
                             int16_t *output, void *scratch)
{
    const int32_t batch = p->batch, steps = p->steps, input_size = p->input_size, units = p->units;
    int16_t *gates = (int16_t *)scratch;        /* [4][units] */
    if (!p->keep_state) {                       /* the zero state, in the scratch: c [batch][units], the gates, h */
        cell = gates;
        gates = cell + batch * units;
        hidden = gates + 4 * units;
        for (int32_t i = 0; i < batch * units; ++i) {
            cell[i] = 0;
            hidden[i] = 0;
        }
    }
    for (int32_t b = 0; b < batch; ++b) {
        int16_t *c = cell + b * units, *h = hidden + b * units;
        for (int32_t t = 0; t < steps; ++t) {
            const int32_t row = p->time_major ? t * batch + b : b * steps + t;
            for (int32_t r = 0; r < 4 * units; ++r) {
                const int32_t g = r / units;
                gates[r] = (int16_t)mcu_lstm_gate_s16(
                    g, mcu_lstm_row_s16(input + row * input_size, p->input_weights + r * input_size, input_size,
                                        p->bias[r], p->input_mult[g], p->input_shift[g]),
                    mcu_lstm_row_s16(h, p->recurrent_weights + r * units, units, p->recurrent_bias[r],
                                     p->recurrent_mult[g], p->recurrent_shift[g]), p->table);
            }
            for (int32_t u = 0; u < units; ++u) {   /* the input gate of unit u, read last here, then holds h */
                c[u] = (int16_t)mcu_lstm_cell_s16(gates[units + u], gates[u], gates[2 * units + u], c[u],
                                                  p->forget_mult, p->forget_shift, p->update_mult, p->update_shift,
                                                  p->cell_clip);
                gates[u] = (int16_t)mcu_lstm_hidden_s16(c[u], gates[3 * units + u], p->tanh_mult, p->tanh_shift,
                                                        p->hidden_mult, p->hidden_shift, p->hidden_zp,
                                                        p->hidden_min, p->hidden_max, p->table);
            }
            for (int32_t u = 0; u < units; ++u) {
                h[u] = output[row * units + u] = gates[u];
            }
        }
    }
}
