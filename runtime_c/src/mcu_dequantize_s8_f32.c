/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_dequantize_s8_f32(const mcu_quantize_params_t *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        output[i] = (float)(input[i] - p->zero_point) * p->scale;
    }
}
