/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_depthwise_planar_dsp.h"

#if MCU_HAS_DSP
/* mcu_depthwise_conv2d_dsp_s8 for 3x3 kernels of dilation 1 at stride_w 2: a ring of input rows widened channel
 * by channel, two taps per SMLAD, two positions per pass (mcu_depthwise_planar_dsp.h). */
MCU_KERNEL void mcu_depthwise_conv2d_3x3s2_dsp_s8(const mcu_conv2d_params_t *p, const int8_t *input, int8_t *output,
                                                 void *scratch)
{
    mcu_dw3p_run(p, input, output, scratch, mcu_dw3p_row_s2);
}
#else
typedef int mcu_depthwise_conv2d_3x3s2_dsp_s8_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
