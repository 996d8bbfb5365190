/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_float.h" /* the loops, and the VCVTB accessor (the call site includes this form only where it exists) */

#if MCU_HAS_FP16_CVT
MCU_KERNEL void mcu_conv2d_f16_vcvt(const mcu_conv2d_f32_params_t *p, const float *input, float *output)
{
    mcu_conv2d_float(p, p->filter_f16, mcu_weight_f16_vcvt, input, output);
}
#else
typedef int mcu_conv2d_f16_vcvt_unused_t; /* ISO C wants a declaration in every translation unit */
#endif
