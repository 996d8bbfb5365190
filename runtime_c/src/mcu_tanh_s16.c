/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_tanh_s16(const mcu_logistic_s16_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = mcu_table_grid_s16(input[i], p->input_mult, p->input_left_shift);
        output[i] = (int16_t)mcu_tanh_s16_value(x, p->table);
    }
}
