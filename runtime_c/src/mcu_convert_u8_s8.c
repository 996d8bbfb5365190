/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"

MCU_KERNEL void mcu_convert_u8_s8(const mcu_convert_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = (uint8_t)(in[i] ^ 0x80u);
    }
}
