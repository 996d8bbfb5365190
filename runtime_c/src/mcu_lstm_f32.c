/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "mcu_nn.h"

static float mcu_lstm_dot_f32(const float *v, const float *w, int32_t n)
{
    float acc = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        acc += v[i] * w[i];
    }
    return acc;
}

MCU_KERNEL void mcu_lstm_f32(const mcu_lstm_f32_params_t *p, const float *input, float *hidden, float *cell,
                             float *output, void *scratch)
{
    const int32_t batch = p->batch, steps = p->steps, input_size = p->input_size, units = p->units;
    float *gates = (float *)scratch;            /* [4][units] */
    if (!p->keep_state) {                       /* the zero state, in the scratch: c, h [batch][units], the gates */
        cell = gates;
        hidden = cell + batch * units;
        gates = hidden + batch * units;
        for (int32_t i = 0; i < batch * units; ++i) {
            cell[i] = 0.0f;
            hidden[i] = 0.0f;
        }
    }
    for (int32_t b = 0; b < batch; ++b) {
        float *c = cell + b * units, *h = hidden + b * units;
        for (int32_t t = 0; t < steps; ++t) {
            const int32_t row = p->time_major ? t * batch + b : b * steps + t;
            const float *x = input + row * input_size;
            for (int32_t r = 0; r < 4 * units; ++r) {
                const float z = mcu_lstm_dot_f32(x, p->input_weights + r * input_size, input_size) + p->bias[r]
                              + mcu_lstm_dot_f32(h, p->recurrent_weights + r * units, units);
                gates[r] = r / units == 2 ? tanhf(z) : 1.0f / (1.0f + expf(-z));
            }
            float *y = output + row * units;
            for (int32_t u = 0; u < units; ++u) {
                float next = gates[units + u] * c[u] + gates[u] * gates[2 * units + u];
                if (p->cell_clip > 0.0f) {
                    next = next > p->cell_clip ? p->cell_clip : (next < -p->cell_clip ? -p->cell_clip : next);
                }
                c[u] = next;
                y[u] = gates[3 * units + u] * tanhf(next);
            }
            for (int32_t u = 0; u < units; ++u) {
                h[u] = y[u];
            }
        }
    }
}
