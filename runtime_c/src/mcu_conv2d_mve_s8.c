/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_gemm_s8.h"
#include "mcu_nn.h"
#include "mcu_simd.h"
#include "mcu_window.h"

#if MCU_HAS_MVE
/* mcu_conv2d_s8 on Helium (dilation_w 1): the windows of MCU_GEMM_MVE_BLOCK positions at a time are gathered into
 * the scratch buffer (MCU_GEMM_MVE_BLOCK * kernel_h * kernel_w * in_c bytes of the arena), a tap outside the input
 * filled with the zero point, so that the block is a matrix product of its windows by the OHWI filters
 * (mcu_gemm_mve_groups: each group of four filters over the block's windows, sixteen raw int8 products per
 * VMLADAVA). The bias has the zero point folded in (p->interior_bias; p->bias itself without padding): a filled
 * tap adds zp * w, which the fold takes back, as TFLM skips the tap. Outputs are written after their windows
 * are gathered, and before the next block's: an in-place output is as safe as for the portable form. */
MCU_KERNEL void mcu_conv2d_mve_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    const int32_t out_w = p->out_w, positions = p->out_h * out_w, size = p->kernel_h * p->kernel_w * p->in_c;
    const mcu_gemm_s8_t g = {.rows = MCU_GEMM_MVE_BLOCK, .depth = size, .outputs = p->out_c,
                             .output_zp = p->output_zp, .act_min = p->act_min, .act_max = p->act_max,
                             .weights = p->filter, .bias = p->interior_bias ? p->interior_bias : p->bias,
                             .out_mult = p->out_mult, .out_shift = p->out_shift, .row_step = size};
    int8_t *windows = scratch;
    for (int32_t first = 0; first < positions; first += MCU_GEMM_MVE_BLOCK) {
        const int32_t count = positions - first < MCU_GEMM_MVE_BLOCK ? positions - first : MCU_GEMM_MVE_BLOCK;
        for (int32_t k = 0; k < count; ++k) {
            mcu_conv_gather_window(p, input, (first + k) / out_w, (first + k) % out_w, windows + k * size);
        }
        mcu_gemm_mve_groups(&g, windows, count, output + first * p->out_c);
    }
}
#else
typedef int mcu_conv2d_mve_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
