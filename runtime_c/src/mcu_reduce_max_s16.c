/* SPDX-License-Identifier: Apache-2.0 */
#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_reduce_max_s16(const mcu_reduce_max_params_t *p, const int16_t *input, int16_t *output)
{
    mcu_strided_walk_t kept = {{0}, 0};
    for (int32_t o = 0; o < p->out_size; ++o) {
        const int16_t *base = input + kept.offset;
        mcu_strided_walk_t tap = {{0}, 0};
        int16_t best = base[0];
        for (int32_t r = 1; r < p->count; ++r) {
            mcu_strided_step(&tap, p->reduced_rank, p->reduced_dims, p->reduced_strides);
            best = base[tap.offset] > best ? base[tap.offset] : best;
        }
        output[o] = best;
        mcu_strided_step(&kept, p->kept_rank, p->kept_dims, p->kept_strides);
    }
}
