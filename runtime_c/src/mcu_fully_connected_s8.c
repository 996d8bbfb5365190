/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_fully_connected_s8(const mcu_fully_connected_params_t *p, const int8_t *input, int8_t *output)
{
    /* parameters in locals: int8 stores to `output` may alias *p, which would force reloads in the loops */
    const int32_t rows = p->rows, in_features = p->in_features, out_features = p->out_features;
    const int32_t input_zp = p->input_zp, output_zp = p->output_zp;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *in = input + r * in_features;
        for (int32_t o = 0; o < out_features; ++o) {
            const int8_t *w = p->weights + o * in_features;
            int32_t acc = p->bias[o];
            for (int32_t i = 0; i < in_features; ++i) {
                acc += (in[i] - input_zp) * w[i];
            }
            acc = mcu_multiply_by_quantized_multiplier(acc, p->out_mult[o], p->out_shift[o]) + output_zp;
            output[r * out_features + o] = (int8_t)mcu_clamp(acc, act_min, act_max);
        }
    }
}
