/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_lstm.h"

MCU_KERNEL void mcu_lstm_s8(const mcu_lstm_params_t *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                            int8_t *output, void *scratch)
{
    mcu_lstm_run_s8(p, input, hidden, cell, output, scratch, mcu_lstm_dot_s8);
}
