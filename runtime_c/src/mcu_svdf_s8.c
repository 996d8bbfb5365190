/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_svdf_s8(const mcu_svdf_params_t *p, const int8_t *input, int16_t *state, int8_t *output,
                            void *scratch)
{
    const int32_t batch = p->batch, input_size = p->input_size, filters = p->filters, memory = p->memory;
    const int32_t units = filters / p->rank, size = batch * filters * memory;
    if (!p->keep_state) {                       /* [batch][filters][memory]: the zero state, in the scratch */
        state = (int16_t *)scratch;
        for (int32_t i = 0; i < size; ++i) {
            state[i] = (int16_t)p->state_zp;
        }
    }
    for (int32_t i = 0; i + 1 < size; ++i) {    /* every memory one step older (TFLM shifts the whole buffer) */
        state[i] = state[i + 1];
    }
    for (int32_t b = 0; b < batch; ++b) {       /* the newest slot of each filter: the feature projection */
        const int8_t *x = input + b * input_size;
        for (int32_t f = 0; f < filters; ++f) {
            const int8_t *w = p->weights_feature + f * input_size;
            int32_t acc = 0;
            for (int32_t i = 0; i < input_size; ++i) {
                acc += (x[i] - p->input_zp) * w[i];
            }
            acc = mcu_clamp(mcu_requantize(acc, p->feature_mult, p->feature_shift),
                            p->state_min, p->state_max) + p->state_zp;   /* then narrowed: wraps, as TFLM */
            acc = ((acc - p->state_min) & (p->state_max - p->state_min)) + p->state_min;
            state[(b * filters + f) * memory + memory - 1] = (int16_t)acc;
        }
    }
    for (int32_t b = 0; b < batch; ++b) {       /* the time filters, summed over each unit's rank filters */
        for (int32_t u = 0; u < units; ++u) {
            int32_t acc = p->bias[u];
            for (int32_t f = u * p->rank; f < (u + 1) * p->rank; ++f) {
                const int16_t *s = state + (b * filters + f) * memory, *w = p->weights_time + f * memory;
                for (int32_t m = 0; m < memory; ++m) {
                    acc += w[m] * (s[m] - p->state_zp);
                }
            }
            acc = mcu_requantize(acc, p->output_mult, p->output_shift) + p->output_zp;
            output[b * units + u] = (int8_t)mcu_clamp(acc, -128, 127);
        }
    }
}
