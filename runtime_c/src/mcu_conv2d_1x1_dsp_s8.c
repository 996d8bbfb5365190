/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_s8.h"

#if MCU_HAS_DSP
MCU_KERNEL void mcu_conv2d_1x1_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const mcu_gemm_s8_t g = {.rows = p->out_h * p->out_w, .depth = p->in_c, .outputs = p->out_c,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->filter, .bias = p->bias, .out_mult = p->out_mult, .out_shift = p->out_shift};
    mcu_gemm_dsp_s8(&g, input, output);
}
#else
typedef int mcu_conv2d_1x1_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
