/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_layer_norm.h"

MCU_KERNEL void mcu_layer_norm_s16(const mcu_layer_norm_params_t *p, const int16_t *input, int16_t *output)
{
    mcu_layer_norm_rows(p, input, output, 2);
}
