"""The op registry: one module per op, named like its C file (mcu_<op>_s8.c) and its test (tests/ops/test_<op>.py).

Each module defines, top to bottom: output_shape, macs, float_ref, prepare (every integer the C kernel needs),
int_ref (the NumPy twin of the C kernel), and C_FUNCTION / C_PARAMS_TYPE. Copy _template.py to add one.
"""
from . import (add, avg_pool, conv2d, convert_u8, depthwise_conv2d, dequantize, fully_connected, max_pool,
               quantize, reshape, softmax, transpose)

REGISTRY = {
    "conv2d": conv2d,
    "depthwise_conv2d": depthwise_conv2d,
    "fully_connected": fully_connected,
    "add": add,
    "max_pool": max_pool,
    "avg_pool": avg_pool,
    "softmax": softmax,
    "transpose": transpose,
    "reshape": reshape,
    "quantize": quantize,
    "dequantize": dequantize,
    "convert_u8": convert_u8,
}


def get(op):
    return REGISTRY[op]
