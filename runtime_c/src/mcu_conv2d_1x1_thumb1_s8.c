/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_thumb1.h"

#if MCU_HAS_THUMB1
MCU_KERNEL void mcu_conv2d_1x1_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_conv1x1(p);
    const mcu_gemm_lines_t lines = mcu_gemm_lines_of_conv1x1(p);
    for (int32_t y = 0; y < lines.count; ++y) {
        mcu_gemm_thumb1_s8(&g, input + y * lines.in_step, output + y * lines.out_step);
    }
}
#else
typedef int mcu_conv2d_1x1_thumb1_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
