/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_index_copy(const mcu_index_copy_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input + p->base;
    uint8_t *out = (uint8_t *)output;
    const size_t run = (size_t)p->run;
    const int32_t *table[6];
    int32_t index[6];
    int32_t offset = 0;   /* sum over the axes of table[d][index[d]] */
    const int32_t *t = p->offsets;
    for (int32_t d = 0; d < p->rank; ++d) {
        table[d] = t;
        t += p->dims[d];
        index[d] = 0;
        offset += table[d][0];
    }
    for (int32_t n = 0; n < p->count; ++n) {
        memmove(out, in + offset, run);   /* in place (planner.py), a run may overlap its own source */
        out += run;
        for (int32_t d = p->rank - 1; d >= 0; --d) {   /* the next output position, last axis fastest */
            offset -= table[d][index[d]];
            if (++index[d] < p->dims[d]) {
                offset += table[d][index[d]];
                break;
            }
            index[d] = 0;
            offset += table[d][0];
        }
    }
}
