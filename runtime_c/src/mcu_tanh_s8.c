/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_tanh_s8(const mcu_logistic_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = input[i] - p->input_zp;
        if (x <= -p->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= p->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t q4 = mcu_multiply_by_quantized_multiplier(x, p->input_mult, p->input_left_shift);
            const int32_t y = mcu_rounding_divide_by_pot(mcu_tanh_q4(q4), 24);
            output[i] = (int8_t)mcu_clamp(y, INT8_MIN, INT8_MAX);
        }
    }
}
