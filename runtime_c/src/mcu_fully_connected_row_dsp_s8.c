/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_s8.h"

#if MCU_HAS_DSP
MCU_KERNEL void mcu_fully_connected_row_dsp_s8(const mcu_fully_connected_params_t *p, const int8_t *input,
                                               int8_t *output, void *scratch)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_fc(p);
    mcu_gemv_dsp_widened_s8(&g, input, scratch, output);
}
#else
typedef int mcu_fully_connected_row_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
