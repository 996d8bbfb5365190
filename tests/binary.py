"""Shared by the tests of the binary element-wise ops (add, sub, mul, maximum, minimum): broadcast cases, and one-operator int8
.tflite files of ADD / SUB / MUL for TFLM."""
import numpy as np
import tflite
from helpers import qtensor, rand_int8, typed
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

# (shape 1, shape 2): same shapes, per-channel [1,H,W,C] x [1,1,1,C], both ways, lower ranks, scalars, 6-D
BROADCASTS = [((1, 5, 7, 6), (1, 5, 7, 6)), ((1, 5, 7, 6), (1, 1, 1, 6)), ((1, 1, 1, 6), (1, 5, 7, 6)),
              ((1, 5, 7, 6), (6,)), ((1, 5, 1, 6), (1, 1, 7, 1)), ((2, 3, 4), (3, 1)), ((1, 4, 4, 3), (1,)),
              ((7,), (1,)), ((2, 1, 3, 1, 2, 2), (1, 2, 1, 4, 1, 2)), ((1, 8, 1, 3), (1, 8, 5, 3))]
ZPS = [(-128, 127, 0), (0, 0, -128), (127, -128, 127), (3, -9, 20)]
OPTIONS = {"add": ("AddOptions", "ADD"), "sub": ("SubOptions", "SUB"), "mul": ("MulOptions", "MUL"),
           "maximum": ("MaximumMinimumOptions", "MAXIMUM"), "minimum": ("MaximumMinimumOptions", "MINIMUM")}
ACT = {None: tflite.ActivationFunctionType.NONE, (0.0, np.inf): tflite.ActivationFunctionType.RELU,
       (0.0, 6.0): tflite.ActivationFunctionType.RELU6}


def binary_model(kind, shapes, quants, act=None, tensor=int8_t):
    """A one-operator file: kind of inputs 0 and 1 -> output; quants: ((scale, zp) x 3); tensor: int8_t, or
    a 16x8 one (zero points 0)."""
    name, code = OPTIONS[kind]

    def options(b):
        getattr(tflite, f"{name}Start")(b)
        if kind in ("maximum", "minimum"):  # no fused activation
            return getattr(tflite, f"{name}End")(b)
        getattr(tflite, f"{name}AddFusedActivationFunction")(b, ACT[act])
        if kind in ("add", "sub"):  # the general int16 arithmetic, not the power-of-two one
            getattr(tflite, f"{name}AddPotScaleInt16")(b, False)
        return getattr(tflite, f"{name}End")(b)
    out_shape = tuple(int(d) for d in np.broadcast_shapes(*shapes))
    return one_op_model(getattr(tflite.BuiltinOperator, code), getattr(tflite.BuiltinOptions, name), options,
                        [tensor(shapes[0], *quants[0]), tensor(shapes[1], *quants[1]),
                         tensor(out_shape, *quants[2])], 2), out_shape


def check_int8_equals_tflm(run_kernel, mod, kind, shapes, quants, act=None, through_tool=False, n=12):
    """TFLM on the one-operator file; our twin and C kernel (and the whole tool) on the same integers."""
    rng = np.random.default_rng(0)
    model, out_shape = binary_model(kind, shapes, quants, act)
    a, b = rand_int8(rng, (n,) + tuple(shapes[0])), rand_int8(rng, (n,) + tuple(shapes[1]))
    a[0], b[0], a[1], b[1] = -128, -128, 127, 127
    want = run_tflm(model, [a, b]).reshape((n,) + out_shape)
    x1, x2, out = qtensor(shapes[0], *quants[0]), qtensor(shapes[1], *quants[1]), qtensor(out_shape, *quants[2])
    p = mod.prepare({"act": act}, [x1, x2], out)
    np.testing.assert_array_equal(typed(mod.int_ref(p, a, b), out).reshape(want.shape), want)
    got = np.stack([run_kernel(mod, p, [a[i], b[i]], out_shape, np.int8) for i in range(n)])
    np.testing.assert_array_equal(got, want)
    if through_tool:
        np.testing.assert_array_equal(run_imported(model, [a, b], "int8").reshape(want.shape), want)
    return want.size


def check_float_ref_matches_onnxruntime(mod, onnx_op, shapes):
    from helpers import run_single_node
    rng = np.random.default_rng(6)
    a, b = (rng.normal(0, 1, s).astype(np.float32) for s in shapes)
    want = run_single_node(onnx_op, [a, b])
    np.testing.assert_allclose(mod.float_ref({}, a[None], b[None])[0].reshape(want.shape), want, rtol=1e-6)


def check_c_equals_int_ref(run_kernel, mod, shapes, zps, act):
    """int8 with the given zero points and fused activation, then 16x8, on the broadcast shapes."""
    from helpers import c_equals_int_ref, portable_forms, rand_int16, stensor
    rng = np.random.default_rng(7)
    out_shape = mod.output_shape({}, shapes)
    x1, x2, out = qtensor(shapes[0], 0.02, zps[0]), qtensor(shapes[1], 0.3, zps[1]), qtensor(out_shape, 0.25, zps[2])
    p = mod.prepare({"act": act}, [x1, x2], out)
    data = [rand_int8(rng, shapes[0]), rand_int8(rng, shapes[1])]
    for function in portable_forms(mod, p):  # same shapes: also the faster form
        c_equals_int_ref(run_kernel, mod, p, data, out, function)
    x1, x2, out = stensor(shapes[0], 1e-4), stensor(shapes[1], 3e-4), stensor(out_shape, 4e-4)
    c_equals_int_ref(run_kernel, mod, mod.prepare({}, [x1, x2], out),
                     [rand_int16(rng, shapes[0]), rand_int16(rng, shapes[1])], out)


def check_c_float32_within_rounding(run_kernel, mod, shapes):
    from helpers import c_float_within_rounding
    rng = np.random.default_rng(8)
    c_float_within_rounding(run_kernel, mod, {"act": None}, [rng.normal(0, 1, s).astype(np.float32) for s in shapes], 1)


TFLM_QUANTS = [((0.05, -128), (0.05, 127), (0.1, 0)), ((0.02, 5), (0.3, -7), (0.25, -128))]


def check_int16_equals_tflm(run_kernel, mod, kind, shapes, scales):
    """16x8 (int16, zero points 0) TFLM on the one-operator file; our twin and C kernel on the same integers."""
    from helpers import rand_int16, stensor
    from tflite16 import activation_t
    rng = np.random.default_rng(1)
    model, out_shape = binary_model(kind, shapes, [(s, 0) for s in scales], None, lambda shape, s, z: activation_t(shape, s))
    a, b = rand_int16(rng, (8,) + tuple(shapes[0])), rand_int16(rng, (8,) + tuple(shapes[1]))
    a[0], b[0], a[1], b[1] = -32768, -32768, 32767, 32767
    want = run_tflm(model, [a, b]).reshape((8,) + out_shape)
    x1, x2, out = stensor(shapes[0], scales[0]), stensor(shapes[1], scales[1]), stensor(out_shape, scales[2])
    p = mod.prepare({"act": None}, [x1, x2], out)
    np.testing.assert_array_equal(typed(mod.int_ref(p, a, b), out).reshape(want.shape), want)
    got = np.stack([run_kernel(mod, p, [a[i], b[i]], out_shape, np.int16) for i in range(8)])
    np.testing.assert_array_equal(got, want)
    if shapes == BROADCASTS[1]:
        np.testing.assert_array_equal(run_imported(model, [a, b], "int16").reshape(want.shape), want)
    return want.size
