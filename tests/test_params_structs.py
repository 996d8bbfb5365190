"""STYLE's promise that a field the Python side forgot cannot go unnoticed: designated initializers leave a
forgotten field zero without a warning, so each op's prepare() must fill exactly its C struct's fields."""
import numpy as np
import pytest
from helpers import qtensor

from mcu_codegen import ops


def _prepared(op):
    x = qtensor((1, 6, 6, 4), 0.05, 3)
    conv = dict(kernel=(3, 3), strides=(1, 1), dilations=(1, 1), pads=(1, 1, 1, 1), bias=np.zeros(4, np.float32))
    cases = {
        "conv2d": (dict(conv, weight=np.ones((4, 3, 3, 4), np.float32)), [x], x),
        "depthwise_conv2d": (dict(conv, weight=np.ones((3, 3, 4), np.float32), depth_multiplier=1), [x], x),
        "fully_connected": (dict(weight=np.ones((3, 4), np.float32), bias=np.zeros(3, np.float32)),
                            [qtensor((1, 4), 0.1, 0)], qtensor((1, 3), 0.1, 0)),
        "add": ({}, [x, x], x),
        "max_pool": (dict(kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)), [x], qtensor((1, 3, 3, 4), 0.05, 3)),
        "avg_pool": (dict(kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)), [x], qtensor((1, 3, 3, 4), 0.05, 3)),
        "softmax": ({}, [qtensor((1, 10), 0.1, 0)], qtensor((1, 10), 1 / 256, -128)),
        "transpose": (dict(perm=(0, 3, 1, 2)), [x], qtensor((1, 4, 6, 6), 0.05, 3)),
        "quantize": ({}, [x], x),
        "dequantize": ({}, [x], x),
        "convert_u8": ({}, [x], x),
    }
    attrs, ins, out = cases[op]
    return ops.get(op).prepare(attrs, ins, out)


@pytest.mark.parametrize("op", [op for op, mod in ops.REGISTRY.items() if hasattr(mod, "C_PARAMS_TYPE")])
def test_prepare_fills_exactly_the_struct_fields(runtime, op):
    ffi, _ = runtime
    fields = {name for name, _ in ffi.typeof(ops.get(op).C_PARAMS_TYPE).fields}
    assert set(_prepared(op)) == fields
