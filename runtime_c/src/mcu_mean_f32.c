#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_mean_f32(const mcu_mean_params_t *p, const float *input, float *output)
{
    for (int32_t o = 0; o < p->out_size; ++o) {
        const float *base = input + mcu_strided_offset(o, p->kept_rank, p->kept_dims, p->kept_strides);
        float sum = 0.0f;
        for (int32_t r = 0; r < p->count; ++r) {
            sum += base[mcu_strided_offset(r, p->reduced_rank, p->reduced_dims, p->reduced_strides)];
        }
        output[o] = sum / (float)p->count;
    }
}
