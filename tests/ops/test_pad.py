"""PAD / PADV2 / ONNX Pad (constant) of any rank: float reference vs onnxruntime, C vs twin bit for bit for
every element size, TFLM on one-operator int8 files, and a zero Pad folded into the convolution after it."""
import numpy as np
import pytest
import tflite
from helpers import ftensor, onnx_model, qtensor, rand_int8, rand_int16, run_single_node, stensor, typed
from tflite16 import const_t, int8_t, one_op_model, run_imported, run_tflm

from mcu_codegen.ops import pad

CASES = [((1, 5, 4, 3), ((0, 0), (1, 2), (2, 1), (0, 0))), ((1, 5, 4, 3), ((0, 0), (0, 0), (0, 0), (1, 3))),
         ((2, 3), ((1, 0), (0, 2))), ((7,), ((3, 4),)), ((1, 2, 2, 2, 2), ((0, 1), (1, 0), (0, 0), (2, 2), (1, 1))),
         ((1, 1, 1, 4), ((0, 0), (0, 0), (0, 0), (0, 0)))]


@pytest.mark.parametrize("shape,pads", CASES)
def test_float_ref_matches_onnxruntime(shape, pads):
    x = np.random.default_rng(0).normal(0, 1, shape).astype(np.float32)
    flat = np.array([b for b, _ in pads] + [e for _, e in pads], np.int64)
    want = run_single_node("Pad", [x], initializers={"pads": flat, "value": np.array(1.5, np.float32)})
    np.testing.assert_array_equal(pad.float_ref(dict(pads=pads, value=1.5), x[None])[0], want)


@pytest.mark.parametrize("zp", [-128, 0, 127])
@pytest.mark.parametrize("shape,pads", CASES)
def test_c_equals_int_ref_every_element_size(run_kernel, shape, pads, zp):
    rng = np.random.default_rng(1)
    attrs = dict(pads=pads, value=0.25)
    out_shape = pad.output_shape(attrs, [shape])
    for x, out, data in ((qtensor(shape, 0.05, zp), qtensor(out_shape, 0.05, zp), rand_int8(rng, shape)),
                         (stensor(shape, 1e-3), stensor(out_shape, 1e-3), rand_int16(rng, shape)),
                         (ftensor(shape), ftensor(out_shape), rng.normal(0, 1, shape).astype(np.float32))):
        p = pad.prepare(attrs, [x], out)
        want = typed(pad.int_ref(p, data[None])[0], out) if x.dtype != "float32" else pad.float_ref(attrs, data[None])[0]
        np.testing.assert_array_equal(run_kernel(pad, p, [data], out_shape, want.dtype), want)
    assert pad.fill_value(attrs, qtensor(shape, 0.05, zp)) == min(127, zp + 5)


def _pad_model(shape, pads, quant, out_shape, value=None):
    tensors = [int8_t(shape, *quant), const_t(np.array(pads, np.int32))]
    if value is not None:
        tensors.append(dict(int8_t((1,), *quant), data=np.array([value], np.int8)))
    code, opts = (tflite.BuiltinOperator.PADV2, tflite.BuiltinOptions.PadV2Options) if value is not None else \
        (tflite.BuiltinOperator.PAD, tflite.BuiltinOptions.PadOptions)
    return one_op_model(code, opts, lambda b: None, tensors + [int8_t(out_shape, *quant)], 1)


@pytest.mark.parametrize("value", [None, -100])
@pytest.mark.parametrize("zp", [-128, 0, 127])
@pytest.mark.parametrize("shape,pads", CASES[:4])
def test_int8_equals_tflm(run_kernel, shape, pads, zp, value):
    rng = np.random.default_rng(2)
    attrs = dict(pads=pads, value=0.0, fill=zp if value is None else value)
    out_shape = pad.output_shape(attrs, [shape])
    model = _pad_model(shape, pads, (0.05, zp), out_shape, value)
    data = rand_int8(rng, (5,) + shape)
    want = run_tflm(model, [data]).reshape((5,) + out_shape)
    x, out = qtensor(shape, 0.05, zp), qtensor(out_shape, 0.05, zp)
    p = pad.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(pad.int_ref(p, data), out), want)
    np.testing.assert_array_equal(np.stack([run_kernel(pad, p, [d], out_shape, np.int8) for d in data]), want)
    if (shape, zp) == (CASES[0][0], 0):
        np.testing.assert_array_equal(run_imported(model, [data], "int8").reshape(want.shape), want)
    print(f"{'PAD' if value is None else 'PADV2'} {shape} {pads} zp {zp}: {want.size} outputs equal to TFLM")


def _convs_with_pad(value, first_pad):
    """x -> [Pad] -> Conv -> Relu -> Pad -> Conv: zero pads (NCHW pads on H and W) fold into the convs."""
    from onnx import helper
    rng = np.random.default_rng(3)
    pads = np.array([0, 0, 1, 2, 0, 0, 1, 0], np.int64)
    inits = {"w1": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w2": rng.normal(0, 0.5, (5, 4, 3, 3)).astype(np.float32),
             "pads": pads, "v": np.array(value, np.float32)}
    nodes = ([helper.make_node("Pad", ["x", "pads", "v"], ["xp"])] if first_pad else
             [helper.make_node("Identity", ["x"], ["xp"])])
    nodes += [helper.make_node("Conv", ["xp", "w1"], ["c"], kernel_shape=[3, 3]), helper.make_node("Relu", ["c"], ["r"]),
              helper.make_node("Pad", ["r", "pads", "v"], ["rp"]),
              helper.make_node("Conv", ["rp", "w2"], ["y"], kernel_shape=[3, 3], strides=[2, 2])]
    h1, w1 = (9 if first_pad else 8) - 2, (8 if first_pad else 6) - 2
    out = [1, 5, (h1 + 2 - 3) // 2 + 1, (w1 + 2 - 3) // 2 + 1]
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", out)], inits, 13)


@pytest.mark.parametrize("first_pad", [False, True])
def test_zero_pad_folds_into_the_next_conv(tmp_path, first_pad):
    from helpers import through_the_tool
    x = np.random.default_rng(4).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_convs_with_pad(0.0, first_pad), x, tmp_path, modes=("int8", "int16x8", "float32"))
    assert "pad" not in ops and ops.count("conv2d") == 2, ops


def test_nonzero_pad_stays_a_pad(tmp_path):
    from helpers import through_the_tool
    x = np.random.default_rng(5).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
    ops = through_the_tool(_convs_with_pad(0.5, True), x, tmp_path, modes=("int8", "float32"))
    assert ops.count("pad") == 2 and "transpose" not in ops[ops.index("conv2d"):-1], ops


@pytest.mark.parametrize("relu", [True, False])
def test_zero_pad_before_max_pool_folds_only_over_non_negative_values(tmp_path, relu):
    """Conv (+ Relu) -> Pad 0 -> MaxPool: after a Relu a zero pad never wins, so it becomes the pool's padding;
    without it the pad stays (a zero may be the window's max)."""
    from helpers import through_the_tool
    from onnx import helper
    rng = np.random.default_rng(6)
    inits = {"w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3])]
    nodes += [helper.make_node("Relu", ["c"], ["r"])] if relu else [helper.make_node("Identity", ["c"], ["r"])]
    nodes += [helper.make_node("Pad", ["r", "pads"], ["p"]),
              helper.make_node("MaxPool", ["p"], ["y"], kernel_shape=[3, 3], strides=[2, 2])]
    model = onnx_model(nodes, [("x", [1, 3, 9, 7])], [("y", [1, 4, 4, 3])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 9, 7)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "float32"))
    assert ("pad" in ops) != relu and "max_pool" in ops, ops


@pytest.mark.parametrize("shape,pads", CASES[:4])
def test_16x8_equals_tflm(run_kernel, shape, pads):
    from tflite16 import activation_t
    attrs = dict(pads=pads, value=0.0, fill=0)
    out_shape = pad.output_shape(attrs, [shape])
    model = one_op_model(tflite.BuiltinOperator.PAD, tflite.BuiltinOptions.PadOptions, lambda b: None,
                         [activation_t(shape, 1e-3), const_t(np.array(pads, np.int32)), activation_t(out_shape, 1e-3)], 1)
    data = rand_int16(np.random.default_rng(7), (4,) + shape)
    want = run_tflm(model, [data]).reshape((4,) + out_shape)
    x, out = stensor(shape, 1e-3), stensor(out_shape, 1e-3)
    p = pad.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(pad.int_ref(p, data), out), want)
    np.testing.assert_array_equal(np.stack([run_kernel(pad, p, [d], out_shape, np.int16) for d in data]), want)
