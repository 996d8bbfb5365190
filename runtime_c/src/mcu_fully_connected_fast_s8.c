/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_s8.h"

MCU_KERNEL void mcu_fully_connected_fast_s8(const mcu_fully_connected_params_t *p, const int8_t *input, int8_t *output)
{
    const mcu_gemm_s8_t g = {.rows = p->rows, .depth = p->in_features, .outputs = p->out_features,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->weights, .bias = p->bias, .out_mult = p->out_mult, .out_shift = p->out_shift};
    mcu_gemm_s8(&g, input, output);
}

