/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_mean_s16(const mcu_mean_params_t *p, const int16_t *input, int16_t *output)
{
    mcu_strided_walk_t kept = {{0}, 0};
    for (int32_t o = 0; o < p->out_size; ++o) {
        const int16_t *base = input + kept.offset;
        mcu_strided_walk_t tap = {{0}, 0};
        int32_t sum = 0;
        for (int32_t r = 0; r < p->count; ++r) {
            sum += base[tap.offset] - p->input_zp;
            mcu_strided_step(&tap, p->reduced_rank, p->reduced_dims, p->reduced_strides);
        }
        const int32_t out = mcu_multiply_by_quantized_multiplier(sum, p->mult, p->shift) + p->output_zp;
        output[o] = (int16_t)mcu_clamp(out, p->q_min, p->q_max);
        mcu_strided_step(&kept, p->kept_rank, p->kept_dims, p->kept_strides);
    }
}
