/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_transpose(const mcu_transpose_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t element_size = (size_t)p->element_size;
    int32_t in_stride[4];
    int32_t stride = 1;
    for (int32_t d = 3; d >= 0; --d) {
        in_stride[d] = stride;
        stride *= p->in_shape[d];
    }
    const int32_t *s = p->in_shape;
    const int32_t *q = p->perm;
    for (int32_t i0 = 0; i0 < s[q[0]]; ++i0) {
        for (int32_t i1 = 0; i1 < s[q[1]]; ++i1) {
            for (int32_t i2 = 0; i2 < s[q[2]]; ++i2) {
                for (int32_t i3 = 0; i3 < s[q[3]]; ++i3) {
                    const int32_t i = i0 * in_stride[q[0]] + i1 * in_stride[q[1]] + i2 * in_stride[q[2]]
                                      + i3 * in_stride[q[3]];
                    memcpy(out, in + (size_t)i * element_size, element_size);
                    out += element_size;
                }
            }
        }
    }
}
