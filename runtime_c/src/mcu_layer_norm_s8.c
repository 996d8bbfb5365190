/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_layer_norm.h"

MCU_KERNEL void mcu_layer_norm_s8(const mcu_layer_norm_params_t *p, const int8_t *input, int8_t *output)
{
    mcu_layer_norm_rows(p, input, output, 1);
}
