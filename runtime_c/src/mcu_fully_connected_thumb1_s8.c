/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_thumb1.h"

#if MCU_HAS_THUMB1
MCU_KERNEL void mcu_fully_connected_thumb1_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                              int8_t *output)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_fc(p);
    mcu_gemm_thumb1_s8(&g, input, output);
}
#else
typedef int mcu_fully_connected_thumb1_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
