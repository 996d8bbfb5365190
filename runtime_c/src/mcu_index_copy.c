/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "mcu_nn.h"

/* One run. In place (planner.py) a run may overlap its own source: memmove. Runs of one element (a gather of
 * channels, a tile of them) are moved with a size the compiler knows, inline instead of a library call. */
static inline void mcu_index_copy_run(uint8_t *out, const uint8_t *src, size_t run)
{
    if (run == 1) {
        *out = *src;
    } else if (run == 2) {
        memmove(out, src, 2);
    } else if (run == 4) {
        memmove(out, src, 4);
    } else {
        memmove(out, src, run);
    }
}

MCU_KERNEL void mcu_index_copy(const mcu_index_copy_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input + p->base;
    uint8_t *out = (uint8_t *)output;
    const size_t run = (size_t)p->run;
    if (p->rank == 0) {
        mcu_index_copy_run(out, in, run);
        return;
    }
    const int32_t outer = p->rank - 1;   /* the axes walked by counters; the last one is the inner loop */
    const int32_t *table[6];
    int32_t index[6];
    int32_t offset = 0;   /* sum over the outer axes of table[d][index[d]] */
    const int32_t *t = p->offsets;
    for (int32_t d = 0; d < p->rank; ++d) {
        table[d] = t;
        t += p->dims[d];
        index[d] = 0;
    }
    for (int32_t d = 0; d < outer; ++d) {
        offset += table[d][0];
    }
    const int32_t *inner = table[outer];
    const int32_t inner_n = p->dims[outer];
    for (int32_t n = 0; n < p->count; n += inner_n) {
        const uint8_t *row = in + offset;
        for (int32_t k = 0; k < inner_n; ++k) {
            mcu_index_copy_run(out, row + inner[k], run);
            out += run;
        }
        for (int32_t d = outer - 1; d >= 0; --d) {   /* the next position of the outer axes, last fastest */
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
