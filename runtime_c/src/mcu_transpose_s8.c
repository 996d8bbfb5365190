#include "mcu_nn.h"

MCU_KERNEL void mcu_transpose_s8(const mcu_transpose_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t in_stride[4];
    int32_t stride = 1;
    for (int32_t d = 3; d >= 0; --d) {
        in_stride[d] = stride;
        stride *= p->in_shape[d];
    }
    const int32_t *s = p->in_shape;
    const int32_t *q = p->perm;
    int32_t o = 0;
    for (int32_t i0 = 0; i0 < s[q[0]]; ++i0) {
        for (int32_t i1 = 0; i1 < s[q[1]]; ++i1) {
            for (int32_t i2 = 0; i2 < s[q[2]]; ++i2) {
                for (int32_t i3 = 0; i3 < s[q[3]]; ++i3) {
                    output[o++] = input[i0 * in_stride[q[0]] + i1 * in_stride[q[1]] + i2 * in_stride[q[2]]
                                        + i3 * in_stride[q[3]]];
                }
            }
        }
    }
}
