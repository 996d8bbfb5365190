/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_mean_f32(const mcu_mean_params_t *p, const float *input, float *output)
{
    mcu_strided_walk_t kept = {{0}, 0};
    for (int32_t o = 0; o < p->out_size; ++o) {
        const float *base = input + kept.offset;
        mcu_strided_walk_t tap = {{0}, 0};
        float sum = 0.0f;
        for (int32_t r = 0; r < p->count; ++r) {
            sum += base[tap.offset];
            mcu_strided_step(&tap, p->reduced_rank, p->reduced_dims, p->reduced_strides);
        }
        output[o] = sum / (float)p->count;
        mcu_strided_step(&kept, p->kept_rank, p->kept_dims, p->kept_strides);
    }
}
