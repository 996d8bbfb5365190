/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_lut_s8(const mcu_lut_params_t *p, const int8_t *input, int8_t *output)
{
    const int8_t *table = (const int8_t *)p->table;
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
