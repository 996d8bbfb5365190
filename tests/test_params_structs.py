"""STYLE's promise that a field the Python side forgot cannot go unnoticed: designated initializers leave a
forgotten field zero without a warning, so each op's prepare() must fill exactly its C struct's fields, for every kernel (int8, int16, float32)."""
import numpy as np
import pytest
from helpers import qtensor as _qtensor

from mcu_codegen import ops


def _prepared(op, kind):
    """prepare() of op for its kernel `kind`: on tensors of that activation type (int8, int16 with zero point 0,
    or float32), or for "hybrid" (dynamic range) and "float16" on float32 tensors with attrs["compute"] = kind."""
    dtype = "float32" if kind in ("hybrid", "float16") else kind
    zp = 3 if dtype == "int8" else 0

    def qtensor(shape, scale, zero_point):  # noqa: F811 (this kernel's activation type)
        return _qtensor(shape, scale, zero_point if dtype == "int8" else 0, dtype=dtype)
    x = qtensor((1, 6, 6, 4), 0.05, zp)
    conv = dict(kernel=(3, 3), strides=(1, 1), dilations=(1, 1), pads=(1, 1, 1, 1), bias=np.zeros(4, np.float32))
    cases = {
        "conv2d": (dict(conv, weight=np.ones((4, 3, 3, 4), np.float32)), [x], x),
        "depthwise_conv2d": (dict(conv, weight=np.ones((3, 3, 4), np.float32), depth_multiplier=1), [x], x),
        "fully_connected": (dict(weight=np.ones((3, 4), np.float32), bias=np.zeros(3, np.float32)),
                            [qtensor((1, 4), 0.1, 0)], qtensor((1, 3), 0.1, 0)),
        "add": ({}, [x, x], x),
        "sub": ({}, [x, qtensor((1, 1, 1, 4), 0.05, zp)], x),
        "mul": ({}, [x, qtensor((4,), 0.05, zp)], x),
        "mean": (dict(axes=(1, 2), keep_dims=True), [x], qtensor((1, 1, 1, 4), 0.05, zp)),
        "logistic": ({}, [x], qtensor(x.shape, 1 / 256, -128)),
        "tanh": ({}, [x], qtensor(x.shape, 1 / 128, 0)),
        "exp": ({}, [x], x),
        "relu": ({"act": (0.0, 6.0)}, [x], qtensor(x.shape, 0.03, zp)),
        "constant": ({"value": np.linspace(-1, 1, 4)}, [], qtensor((4,), 0.01, zp)),
        "concat": ({"axis": 3}, [x, qtensor(x.shape, 0.1, zp)], qtensor((1, 6, 6, 8), 0.05, zp)),
        "pad": (dict(pads=((0, 0), (1, 1), (2, 0), (0, 0)), value=0.0), [x], qtensor((1, 8, 8, 4), 0.05, zp)),
        "slice": (dict(begin=(0, 1, 0, 1), size=(1, 4, 6, 2), step=(1, 1, 1, 2)), [x], qtensor((1, 4, 6, 2), 0.05, zp)),
        "gather": (dict(axis=3, indices=(3, 0), shape=(1, 6, 6, 2)), [x], qtensor((1, 6, 6, 2), 0.05, zp)),
        "tile": (dict(multiples=(1, 1, 2, 1)), [x], qtensor((1, 6, 12, 4), 0.05, zp)),
        "resize_nearest": (dict(rows=tuple(range(6)) * 2, cols=tuple(range(6))), [x], qtensor((1, 12, 6, 4), 0.05, zp)),
        "resize_bilinear": (dict(out_hw=(12, 9), align_corners=False, half_pixel=True), [x],
                            qtensor((1, 12, 9, 4), 0.05, zp)),
        "max_pool": (dict(kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)), [x], qtensor((1, 3, 3, 4), 0.05, zp)),
        "avg_pool": (dict(kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)), [x], qtensor((1, 3, 3, 4), 0.05, zp)),
        "softmax": ({}, [qtensor((1, 10), 0.1, 0)], qtensor((1, 10), 1 / 256, -128)),
        "transpose": (dict(perm=(0, 3, 1, 2)), [x], qtensor((1, 4, 6, 6), 0.05, zp)),
        "quantize": ({}, [x], x),
        "dequantize": ({}, [x], x),
        "requantize": ({}, [x], _qtensor(x.shape, 0.01, 0, dtype="int16" if dtype == "int8" else "int8")),
        "convert_u8": ({}, [x], x),
        # issue #12 part B
        "leaky_relu": ({"alpha": 0.1}, [x], qtensor(x.shape, 0.03, zp)),
        "hard_swish": ({}, [x], qtensor(x.shape, 0.03, zp)),
        "prelu": ({"alpha": np.linspace(-0.5, 0.5, 4).astype(np.float32)}, [x], qtensor(x.shape, 0.03, zp)),
        "maximum": ({}, [x, qtensor((1, 1, 1, 4), 0.05, zp)], x),
        "minimum": ({}, [x, qtensor((4,), 0.02, zp)], x),
        "reduce_max": (dict(axes=(1, 2), keep_dims=True), [x], qtensor((1, 1, 1, 4), 0.05, zp)),
        "elu": ({"alpha": 1.0}, [x], qtensor(x.shape, 0.03, zp)),
        "transpose_conv": (dict(weight=np.ones((4, 3, 3, 4), np.float32), bias=np.zeros(4, np.float32), strides=(2, 2),
                                pads=(1, 1, 0, 0), out_hw=(11, 11)), [x], qtensor((1, 11, 11, 4), 0.05, zp)),
        "lstm": (dict(input_weights=np.ones((4, 3, 4), np.int8), recurrent_weights=np.ones((4, 3, 3), np.int8),
                      bias=np.zeros((4, 3), np.int32), time_major=False, cell_clip=0.0,
                      input_scales=np.full(4, 0.01, np.float32), recurrent_scales=np.full(4, 0.01, np.float32),
                      hidden_scale=np.float32(1 / 128), hidden_zp=zp, cell_scale=np.float32(2.0 ** -11)),
                 [qtensor((1, 5, 4), 0.05, zp)], qtensor((1, 5, 3), 1 / 128, zp)),
        "svdf": (dict(weights_feature=np.ones((4, 3), np.int8), weights_time=np.ones((4, 2), np.int16),
                      bias=np.zeros(2, np.int32), rank=2, feature_scale=np.float32(0.01),
                      time_scale=np.float32(0.001), state_scale=np.float32(0.02), state_zp=0),
                 [qtensor((1, 3), 0.05, zp)], qtensor((1, 2), 0.1, zp)),
        # issue #16: attention
        "batch_matmul": (dict(adj_y=True), [qtensor((1, 2, 6, 4), 0.1, zp), qtensor((1, 2, 5, 4), 0.1, zp)],
                         qtensor((1, 2, 6, 5), 0.2, zp)),
        "gelu": ({"approximate": False}, [x], qtensor(x.shape, 0.03, zp)),
        "rsqrt": ({}, [x], qtensor(x.shape, 0.03, zp)),
        "neg": ({}, [x], qtensor(x.shape, 0.03, zp)),
        "squared_difference": ({}, [x, qtensor((1, 6, 6, 1), 0.05, zp)], qtensor(x.shape, 0.03, zp)),
        "layer_norm": (dict(epsilon=1e-5, gamma=np.ones(4, np.float32), beta=np.zeros(4, np.float32)), [x],
                       qtensor(x.shape, 0.03, zp)),
    }
    attrs, ins, out = cases[op]
    return ops.get(op).prepare(dict(attrs, compute=kind) if kind in ("hybrid", "float16") else attrs, ins, out)


@pytest.mark.parametrize("op,dtype", [(op, dtype) for op, mod in ops.REGISTRY.items()
                                      for dtype in sorted(getattr(mod, "KERNELS", {})) if dtype != "uint8"])
def test_prepare_fills_exactly_the_struct_fields(runtime, op, dtype):
    """Every field, but those the faster forms of another op sharing the struct read (conv2d's interior_bias in
    mcu_conv2d_params_t, which transpose_conv leaves NULL): designated initializers make them NULL."""
    ffi, _ = runtime
    fields = {name for name, _ in ffi.typeof(ops.get(op).KERNELS[dtype][1]).fields}
    prepared = set(_prepared(op, dtype))
    optional = {f for mod in ops.REGISTRY.values() for f in getattr(mod, "SPEED_PARAMS", ())}
    assert prepared <= fields and fields - prepared <= optional - set(getattr(ops.get(op), "SPEED_PARAMS", ()))
