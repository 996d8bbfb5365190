/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_float.h" /* the loops, shared by the _f32 and _f16 forms */

MCU_KERNEL void mcu_fully_connected_f16(const mcu_fully_connected_f32_params_t *p, const float *input,
                                        float *output)
{
    mcu_fully_connected_float(p, p->weights_f16, mcu_weight_f16, input, output);
}
