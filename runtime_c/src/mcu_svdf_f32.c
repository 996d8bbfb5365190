/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_svdf_f32(const mcu_svdf_f32_params_t *p, const float *input, float *state, float *output,
                             void *scratch)
{
    const int32_t batch = p->batch, input_size = p->input_size, filters = p->filters, memory = p->memory;
    const int32_t units = filters / p->rank, size = batch * filters * memory;
    if (!p->keep_state) {                       /* [batch][filters][memory]: the zero state, in the scratch */
        state = (float *)scratch;
        for (int32_t i = 0; i < size; ++i) {
            state[i] = 0.0f;
        }
    }
    for (int32_t i = 0; i + 1 < size; ++i) {    /* every memory one step older (TFLM shifts the whole buffer) */
        state[i] = state[i + 1];
    }
    for (int32_t b = 0; b < batch; ++b) {       /* the newest slot of each filter: the feature projection */
        for (int32_t f = 0; f < filters; ++f) {
            float acc = 0.0f;
            for (int32_t i = 0; i < input_size; ++i) {
                acc += input[b * input_size + i] * p->weights_feature[f * input_size + i];
            }
            state[(b * filters + f) * memory + memory - 1] = acc;
        }
    }
    for (int32_t b = 0; b < batch; ++b) {       /* per filter its time product, then each unit's rank of them */
        for (int32_t u = 0; u < units; ++u) {
            float sum = p->bias[u];
            for (int32_t f = u * p->rank; f < (u + 1) * p->rank; ++f) {
                float acc = 0.0f;
                for (int32_t m = 0; m < memory; ++m) {
                    acc += p->weights_time[f * memory + m] * state[(b * filters + f) * memory + m];
                }
                sum += acc;
            }
            output[b * units + u] = sum < p->act_min ? p->act_min : (sum > p->act_max ? p->act_max : sum);
        }
    }
}
