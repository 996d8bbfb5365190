/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_lut_s16(const mcu_lut_params_t *p, const int16_t *input, int16_t *output)
{
    const int16_t *table = (const int16_t *)p->table;
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (int16_t)mcu_lut_lookup_s16(input[i], table);
    }
}
