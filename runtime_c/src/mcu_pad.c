#include <string.h>

#include "mcu_nn.h"

MCU_KERNEL void mcu_pad(const mcu_pad_params_t *p, const void *input, void *output)
{
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t element_size = (size_t)p->element_size;
    for (int32_t o = 0; o < p->out_size; ++o) {
        int32_t rest = o;
        int32_t offset = 0;
        int32_t inside = 1;
        for (int32_t d = p->rank - 1; d >= 0; --d) {
            const int32_t at = rest % p->out_dims[d] - p->before[d];
            rest /= p->out_dims[d];
            inside = inside && at >= 0 && at < p->in_dims[d];
            offset += at * p->in_strides[d];
        }
        memcpy(out + (size_t)o * element_size, inside ? in + (size_t)offset * element_size : p->fill, element_size);
    }
}
