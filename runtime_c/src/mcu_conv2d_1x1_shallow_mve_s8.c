/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_s8.h"

#if MCU_HAS_MVE
/* mcu_conv2d_1x1_mve_s8 for at most 16 input channels: a whole input row in one vector */
MCU_KERNEL void mcu_conv2d_1x1_shallow_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                              void *scratch)
{
    mcu_conv1x1_mve(p, input, output, scratch, 1);
}
#else
typedef int mcu_conv2d_1x1_shallow_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
