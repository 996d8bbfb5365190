/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_constant(const mcu_constant_params_t *p, void *output)
{
    memcpy(output, p->data, (size_t)p->size);
}
