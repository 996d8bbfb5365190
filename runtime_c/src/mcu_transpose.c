/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_fixedpoint.h"
#include "mcu_nn.h"

MCU_KERNEL void mcu_transpose(const mcu_transpose_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t element_size = (size_t)p->element_size;
    /* the innermost axis is a loop; the walk steps the outer ones (rank 0: one element) */
    const int32_t outer = p->rank > 0 ? p->rank - 1 : 0;
    const int32_t inner_n = p->rank > 0 ? p->dims[outer] : 1;
    const size_t inner_step = p->rank > 0 ? (size_t)p->strides[outer] * element_size : 0;
    int32_t rows = 1;
    for (int32_t d = 0; d < outer; ++d) {
        rows *= p->dims[d];
    }
    mcu_strided_walk_t w;
    memset(&w, 0, sizeof w);
    for (int32_t r = 0; r < rows; ++r) {
        const uint8_t *src = in + (size_t)w.offset * element_size;
        for (int32_t k = 0; k < inner_n; ++k) {
            memcpy(out, src, element_size);
            out += element_size;
            src += inner_step;
        }
        mcu_strided_step(&w, outer, p->dims, p->strides);
    }
}
