/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"
#include "mcu_fixedpoint.h"

MCU_KERNEL void mcu_pad(const mcu_pad_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t element_size = (size_t)p->element_size;
    int32_t origin = 0;   /* the input offset of output index 0 (negative: it lies in the padding) */
    for (int32_t d = 0; d < p->rank; ++d) {
        origin -= p->before[d] * p->in_strides[d];
    }
    mcu_strided_walk_t w = {{0}, 0};   /* over the output, with the input's strides */
    for (int32_t o = 0; o < p->out_size; ++o) {
        int32_t inside = 1;
        for (int32_t d = 0; d < p->rank; ++d) {
            const int32_t at = w.index[d] - p->before[d];
            inside = inside && at >= 0 && at < p->in_dims[d];
        }
        const uint8_t *src = inside ? in + (size_t)(origin + w.offset) * element_size : p->fill;
        memcpy(out + (size_t)o * element_size, src, element_size);
        mcu_strided_step(&w, p->rank, p->out_dims, p->in_strides);
    }
}
