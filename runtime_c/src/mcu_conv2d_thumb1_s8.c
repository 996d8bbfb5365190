/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_gemm_thumb1.h"
#include "mcu_window.h"

#if MCU_HAS_THUMB1
/* mcu_conv2d_s8 as the Thumb-1 matrix product (mcu_gemm_thumb1.h) over gathered windows (mcu_gemm_of_conv_windows):
 * two positions' windows at a time into the scratch buffer, then every pair of filters against both. Scratch: two
 * windows of int8 (conv2d.SCRATCH). */
MCU_KERNEL void mcu_conv2d_thumb1_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                     void *scratch)
{
    const mcu_gemm_s8_t g = mcu_gemm_of_conv_windows(p);
    const int32_t size = g.depth, out_c = p->out_c, positions = p->out_h * p->out_w;
    const mcu_requant_s8_t q = mcu_gemm_out(&g);
    int8_t *window0 = scratch, *window1 = window0 + size;
    int32_t oy = 0, ox = 0;
    for (int32_t r = 0; r < positions; r += 2) {
        if (mcu_conv_gather_windows2(p, input, r, positions, &oy, &ox, window0, window1) == 1) {
            mcu_gemv_thumb1_s8(&g, q, window0, output + r * out_c); /* an odd last position alone */
            break;
        }
        mcu_gemm_thumb1_rows2(&g, q, window0, window1, output + r * out_c);
    }
}
#else
typedef int mcu_conv2d_thumb1_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
