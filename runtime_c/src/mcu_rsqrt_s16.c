/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_rsqrt_s16(const mcu_rsqrt_params_t *p, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t v = input[i] - p->input_zp;
        if (v <= 0) {
            output[i] = (int16_t)p->q_max;
            continue;
        }
        int32_t mult = INT32_MAX, shift = 0;     /* GetInvSqrtQuantizedMultiplierExp(v), v < 2^17 */
        if (v > 1) {
            const int32_t pairs = (mcu_count_leading_zeros((uint32_t)v) - 1) / 2 - 1;
            shift = 11 - pairs;
            mult = mcu_inv_sqrt_newton(v << (2 * pairs));
            if (shift < 0) {
                mult <<= -shift;
                shift = 0;
            }
            shift = -shift;
        }
        const int32_t data = mcu_multiply_by_quantized_multiplier(1, mult, shift + 20);
        const int32_t out = mcu_multiply_by_quantized_multiplier(data, p->mult, p->shift - 20) + p->output_zp;
        output[i] = (int16_t)mcu_clamp(out, p->q_min, p->q_max);
    }
}
