/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_depthwise_mve.h"

#if MCU_HAS_MVE
/* mcu_depthwise_conv2d_mve_s8 for 3x3 kernels of dilation_w 1 at stride_w 2: constant steps. */
MCU_KERNEL void mcu_depthwise_conv2d_3x3s2_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                                 void *scratch)
{
    mcu_dw_run_mve(p, input, output, scratch, mcu_dw_row_3x3s2_mve);
}
#else
typedef int mcu_depthwise_conv2d_3x3s2_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
