"""16x8 against TFLM itself: one-operator 16x8 .tflite models (tests/tflite16.py) run by tflite-micro's
interpreter; our NumPy twin and C kernel, given the same int8 weights, int64 bias and scales, must give TFLM's
output bit for bit; and the same .tflite imported by mcu-codegen (Converter.from_tflite), generated, compiled
and run, too."""

import numpy as np
import pytest
import tflite
from helpers import rand_int16, stensor, typed
from tflite16 import activation_t, bias_t, one_op_model, run_imported, run_tflm, weights_t

import mcu_codegen
from mcu_codegen.ops import add, avg_pool, conv2d, depthwise_conv2d, fully_connected, max_pool, softmax
from mcu_codegen.ops._common import same_pads

B, O = tflite.BuiltinOperator, tflite.BuiltinOptions
ACT = {None: tflite.ActivationFunctionType.NONE, (0.0, np.inf): tflite.ActivationFunctionType.RELU}
N = 40  # random inputs per case; the first two are all -32768 and all 32767


def tflm(model, inputs):
    """Runs the model on each of N samples; inputs: list of (N, *shape) int16 arrays."""
    return run_tflm(model, inputs)


def samples(rng, shape):
    x = rand_int16(rng, (N,) + tuple(shape))
    x[0], x[1] = -32768, 32767
    return x


def check(run_kernel, mod, params, inputs, out, want, model=None):
    twin = typed(mod.int_ref(params, *inputs), out)
    np.testing.assert_array_equal(twin, want)
    got = np.stack([run_kernel(mod, params, [x[i] for x in inputs], out.shape, np.int16) for i in range(N)])
    np.testing.assert_array_equal(got, want)
    if model is not None:
        np.testing.assert_array_equal(imported(model, inputs), want)


def imported(model, inputs):
    """The .tflite through the whole tool: import, plan, generate, compile with gcc, run."""
    return run_imported(model, inputs, "int16")


def _conv_options(b, padding, strides, act, depth_multiplier=None):
    if depth_multiplier is None:
        tflite.Conv2DOptionsStart(b)
        tflite.Conv2DOptionsAddPadding(b, padding)
        tflite.Conv2DOptionsAddStrideH(b, strides[0])
        tflite.Conv2DOptionsAddStrideW(b, strides[1])
        tflite.Conv2DOptionsAddDilationHFactor(b, 1)
        tflite.Conv2DOptionsAddDilationWFactor(b, 1)
        tflite.Conv2DOptionsAddFusedActivationFunction(b, ACT[act])
        return tflite.Conv2DOptionsEnd(b)
    tflite.DepthwiseConv2DOptionsStart(b)
    tflite.DepthwiseConv2DOptionsAddPadding(b, padding)
    tflite.DepthwiseConv2DOptionsAddStrideH(b, strides[0])
    tflite.DepthwiseConv2DOptionsAddStrideW(b, strides[1])
    tflite.DepthwiseConv2DOptionsAddDepthMultiplier(b, depth_multiplier)
    tflite.DepthwiseConv2DOptionsAddDilationHFactor(b, 1)
    tflite.DepthwiseConv2DOptionsAddDilationWFactor(b, 1)
    tflite.DepthwiseConv2DOptionsAddFusedActivationFunction(b, ACT[act])
    return tflite.DepthwiseConv2DOptionsEnd(b)


CONV_CASES = [((9, 8), 3, 4, (3, 3), (1, 1), "SAME", None), ((10, 7), 2, 5, (3, 2), (2, 2), "VALID", (0.0, np.inf)),
              ((12, 6), 1, 8, (10, 4), (2, 2), "SAME", (0.0, np.inf))]


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_and_depthwise_16x8_equal_tflm(run_kernel, case, depthwise):
    rng = np.random.default_rng(0)
    in_hw, in_c, out_c, kernel, strides, padding, act = case
    mult = 2 if depthwise else None
    out_c = in_c * mult if depthwise else out_c
    in_shape = (1,) + in_hw + (in_c,)
    w = rng.integers(-127, 128, (1,) + kernel + (out_c,) if depthwise else (out_c,) + kernel + (in_c,))
    scales = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
    bias = rng.integers(-200000, 200000, out_c)
    pads = same_pads(in_hw, kernel, strides, (1, 1)) if padding == "SAME" else (0, 0, 0, 0)
    attrs = dict(weight=w[0] if depthwise else w, weight_scales=scales, bias=bias, kernel=kernel, strides=strides,
                 dilations=(1, 1), pads=pads, act=act, depth_multiplier=mult)
    mod = depthwise_conv2d if depthwise else conv2d
    x = stensor(in_shape, 1e-3)
    out = stensor(mod.output_shape(attrs, [in_shape]), 4e-3)
    pad = tflite.Padding.SAME if padding == "SAME" else tflite.Padding.VALID
    model = one_op_model(B.DEPTHWISE_CONV_2D if depthwise else B.CONV_2D,
                         O.DepthwiseConv2DOptions if depthwise else O.Conv2DOptions,
                         lambda b: _conv_options(b, pad, strides, act, mult),
                         [activation_t(in_shape, 1e-3), weights_t(w, scales, 3 if depthwise else 0),
                          bias_t(bias, 1e-3, scales), activation_t(out.shape, 4e-3)], 1)
    data = samples(rng, in_shape)
    want = tflm(model, [data])
    check(run_kernel, mod, mod.prepare(attrs, [x], out), [data], out, want, model)


def test_fully_connected_16x8_equals_tflm(run_kernel):
    rng = np.random.default_rng(1)
    w = rng.integers(-127, 128, (5, 16))
    scale = np.float32(0.01)  # TFLM's 16x8 fully connected is per tensor
    bias = rng.integers(-10 ** 6, 10 ** 6, 5)

    def options(b):
        tflite.FullyConnectedOptionsStart(b)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(b, ACT[None])
        return tflite.FullyConnectedOptionsEnd(b)
    model = one_op_model(B.FULLY_CONNECTED, O.FullyConnectedOptions, options,
                         [activation_t((1, 16), 2e-3), weights_t(w, [scale], 0), bias_t(bias, 2e-3, [scale]),
                          activation_t((1, 5), 0.05)], 1)
    x, out = stensor((1, 16), 2e-3), stensor((1, 5), 0.05)
    attrs = dict(weight=w, weight_scales=np.full(5, scale, np.float32), bias=bias, act=None)
    data = samples(rng, (1, 16))
    check(run_kernel, fully_connected, fully_connected.prepare(attrs, [x], out), [data], out, tflm(model, [data]),
          model)


@pytest.mark.parametrize("scales,act", [((1e-3, 1e-3, 2e-3), None), ((3e-4, 2e-3, 1e-3), (0.0, np.inf))])
def test_add_16x8_equals_tflm(run_kernel, scales, act):
    rng = np.random.default_rng(2)
    shape = (1, 4, 5, 3)

    def options(b):
        tflite.AddOptionsStart(b)
        tflite.AddOptionsAddFusedActivationFunction(b, ACT[act])
        tflite.AddOptionsAddPotScaleInt16(b, False)  # the general int16 arithmetic, not the power-of-two one
        return tflite.AddOptionsEnd(b)
    model = one_op_model(B.ADD, O.AddOptions, options, [activation_t(shape, s) for s in scales], 2)
    a, c = samples(rng, shape), samples(rng, shape)
    x1, x2, out = (stensor(shape, s) for s in scales)
    check(run_kernel, add, add.prepare({"act": act}, [x1, x2], out), [a, c], out, tflm(model, [a, c]), model)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pools_16x8_equal_tflm(run_kernel, kind):
    rng = np.random.default_rng(3)
    in_shape = (1, 9, 7, 3)
    kernel, strides = (3, 3), (2, 2)
    pads = same_pads((9, 7), kernel, strides, (1, 1))

    def options(b):
        tflite.Pool2DOptionsStart(b)
        tflite.Pool2DOptionsAddPadding(b, tflite.Padding.SAME)
        tflite.Pool2DOptionsAddStrideH(b, 2)
        tflite.Pool2DOptionsAddStrideW(b, 2)
        tflite.Pool2DOptionsAddFilterHeight(b, 3)
        tflite.Pool2DOptionsAddFilterWidth(b, 3)
        return tflite.Pool2DOptionsEnd(b)
    mod = max_pool if kind == "max" else avg_pool
    attrs = dict(kernel=kernel, strides=strides, pads=pads, act=None)
    x = stensor(in_shape, 1e-3)
    out = stensor(mod.output_shape(attrs, [in_shape]), 1e-3)
    model = one_op_model(B.MAX_POOL_2D if kind == "max" else B.AVERAGE_POOL_2D, O.Pool2DOptions, options,
                         [activation_t(in_shape, 1e-3), activation_t(out.shape, 1e-3)], 1)
    data = samples(rng, in_shape)
    check(run_kernel, mod, mod.prepare(attrs, [x], out), [data], out, tflm(model, [data]), model)


def _softmax_rows(scale, data):
    """One TFLM softmax over every row of data (rows, depth) at once, and our twin and C kernel on the same rows."""
    def options(b):
        tflite.SoftmaxOptionsStart(b)
        tflite.SoftmaxOptionsAddBeta(b, 1.0)
        return tflite.SoftmaxOptionsEnd(b)
    out = stensor(data.shape, *softmax.OUTPUT_QUANT["int16"])
    model = one_op_model(B.SOFTMAX, O.SoftmaxOptions, options, [activation_t(data.shape, scale),
                                                                activation_t(data.shape, float(out.scale))], 1)
    return tflm(model, [data[None]])[0], softmax.prepare({}, [stensor(data.shape, scale)], out), out


@pytest.mark.parametrize("scale", [1e-4, 3e-4, 1e-3])
def test_softmax_16x8_equals_tflm(run_kernel, scale):
    """Every difference a row of two can have (0 .. -32767), then 20,000 random rows of ten: TFLM builds its
    exp and reciprocal tables in float32, and a table built in double differs in two entries."""
    rng = np.random.default_rng(4)
    pairs = np.stack([np.zeros(32768), -np.arange(32768)], axis=1).astype(np.int16)
    for data in (pairs, rand_int16(rng, (20000, 10))):
        want, p, out = _softmax_rows(scale, data)
        np.testing.assert_array_equal(typed(softmax.int_ref(p, data[None])[0], out), want)
        np.testing.assert_array_equal(run_kernel(softmax, p, [data], data.shape, np.int16), want)


@pytest.mark.parametrize("broken,message", [
    ("output_shape", "output shape \\[1, 5, 5, 2\\], but conv2d"),
    ("output_rank", "do not fit conv2d"),
    ("nan_scale", "the weights have a scale that is not a positive number"),
    ("int16_zero_point", "is int16 with a zero point"),
])
def test_broken_16x8_files_are_one_clean_error(tmp_path, broken, message):
    """What the fuzzer found in mutated files, written on purpose: each is a ConversionError naming the problem."""
    rng = np.random.default_rng(5)
    w = rng.integers(-127, 128, (4, 3, 3, 2))
    scales = np.full(4, np.nan if broken == "nan_scale" else 0.01, np.float32)
    out_shape = {"output_shape": (1, 5, 5, 2), "output_rank": (1, 100)}.get(broken, (1, 5, 5, 4))
    x = activation_t((1, 5, 5, 2), 1e-3)
    tensors = [x, weights_t(w, scales, 0), bias_t(rng.integers(-9, 9, 4), 1e-3, scales), activation_t(out_shape, 4e-3)]
    model = one_op_model(B.CONV_2D, O.Conv2DOptions, lambda b: _conv_options(b, tflite.Padding.SAME, (1, 1), None),
                         tensors, 1)
    if broken == "int16_zero_point":  # patch the first int16 zero point (0 as int64) of the input tensor to 3
        model = _with_zero_point(model)
    (tmp_path / "broken.tflite").write_bytes(model)
    with pytest.raises(mcu_codegen.ConversionError, match=message):
        mcu_codegen.Converter.from_tflite(tmp_path / "broken.tflite").convert()


def _with_zero_point(model):
    """The model with its input tensor's zero point (the int64 in QuantizationParameters.zero_point, the table's
    fourth field: vtable slot 10) set to 3 in place."""
    q = tflite.Model.GetRootAs(model, 0).Subgraphs(0).Tensors(0).Quantization()
    offset = q._tab.Vector(q._tab.Offset(10))
    data = bytearray(model)
    data[offset:offset + 8] = (3).to_bytes(8, "little", signed=True)
    return bytes(data)
