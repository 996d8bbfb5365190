/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_hard_swish_s8(const mcu_hard_swish_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t hires = (input[i] - p->input_zp) * 128;   /* |.| <= 255 * 128: an int16 value */
        const int32_t preshift_out = mcu_sat_rounding_doubling_high_mul_s16(hires, p->output_mult);
        int32_t reluish = hires;   /* x on the scale where 3 is 2^15, saturated to int16 */
        if (p->reluish_shift > 0) {
            reluish = mcu_saturating_left_shift_s16(reluish, p->reluish_shift - 1);
        }
        reluish = mcu_sat_rounding_doubling_high_mul_s16(reluish, p->reluish_mult);
        if (p->reluish_shift > 0) {
            reluish = mcu_saturating_left_shift_s16(reluish, 1);
        } else if (p->reluish_shift < 0) {
            reluish = mcu_rounding_divide_by_pot(reluish, -p->reluish_shift);
        }
        reluish = (reluish + (1 << 15)) >> 1;   /* [-1, 1] -> [0, 1] */
        const int32_t y = mcu_rounding_divide_by_pot(mcu_saturating_doubling_high_mul_s16(reluish, preshift_out),
                                                     -p->output_shift);
        output[i] = (int8_t)mcu_clamp(y + p->output_zp, INT8_MIN, INT8_MAX);
    }
}
