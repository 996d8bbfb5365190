#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_add_f32(const mcu_add_f32_params_t *p, const float *input1, const float *input2, float *output)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t i1 = p->rank ? mcu_strided_offset(i, p->rank, p->dims, p->input1_strides) : i;
        const int32_t i2 = p->rank ? mcu_strided_offset(i, p->rank, p->dims, p->input2_strides) : i;
        const float y = p->subtract ? input1[i1] - input2[i2] : input1[i1] + input2[i2];
        output[i] = y < p->act_min ? p->act_min : (y > p->act_max ? p->act_max : y);
    }
}
