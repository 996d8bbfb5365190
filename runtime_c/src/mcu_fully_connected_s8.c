#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_fully_connected_s8(const mcu_fully_connected_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t r = 0; r < p->rows; ++r) {
        const int8_t *in = input + r * p->in_features;
        for (int32_t o = 0; o < p->out_features; ++o) {
            const int8_t *w = p->weights + o * p->in_features;
            int32_t acc = p->bias[o];
            for (int32_t i = 0; i < p->in_features; ++i) {
                acc += (in[i] - p->input_zp) * w[i];
            }
            acc = mcu_multiply_by_quantized_multiplier(acc, p->out_mult[o], p->out_shift[o]) + p->output_zp;
            output[r * p->out_features + o] = (int8_t)mcu_clamp(acc, p->act_min, p->act_max);
        }
    }
}
