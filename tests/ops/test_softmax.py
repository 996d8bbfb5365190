import numpy as np
import pytest
from helpers import U, c_equals_int_ref, dequantize, ftensor, qtensor, rand_int8, rand_int16, run_single_node, stensor

from mcu_codegen.ops import softmax


def test_float_ref_matches_onnxruntime():
    x = np.random.default_rng(0).normal(0, 3, (2, 10)).astype(np.float32)
    np.testing.assert_allclose(softmax.float_ref({}, x[None])[0], run_single_node("Softmax", [x]), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("scale", [1.0, 0.5847, 0.1, 0.0234, 1 / 256, 3e-4])
@pytest.mark.parametrize("shape", [(1, 12), (3, 10), (1, 2), (1, 1)])
def test_c_equals_int_ref(run_kernel, scale, shape):
    rng = np.random.default_rng(1)
    x = qtensor(shape, scale, 0)
    out = qtensor(shape, *softmax.OUTPUT_QUANT["int8"])
    data = rand_int8(rng, shape)
    data[0, :2] = [127, -128][: shape[1]]  # extremes in every case
    c_equals_int_ref(run_kernel, softmax, softmax.prepare({}, [x], out), [data], out)


@pytest.mark.parametrize("scale", [0.5847, 0.1, 0.02])
def test_int_ref_close_to_float_ref(scale):
    rng = np.random.default_rng(2)
    x = qtensor((8, 12), scale, -10)
    data = rand_int8(rng, x.shape)
    out = qtensor(x.shape, *softmax.OUTPUT_QUANT["int8"])
    got = dequantize(softmax.int_ref(softmax.prepare({}, [x], out), data[None])[0], out)
    want = softmax.float_ref({}, dequantize(data, x)[None])[0]
    assert np.abs(got - want).max() <= 1.5 / 256


@pytest.mark.parametrize("shape,scale,message", [((1, 512), 0.1, "at most 511"), ((1, 10), 1e-9, "too small")])
def test_limits_of_the_int8_arithmetic_are_refused(shape, scale, message):
    """Beyond 511 values the reciprocal's shift passes 31 bits; a tiny scale needs a negative shift."""
    from mcu_codegen import ConversionError
    with pytest.raises(ConversionError, match=message):
        softmax.prepare({}, [qtensor(shape, scale, 0)], qtensor(shape, *softmax.OUTPUT_QUANT["int8"]))


def test_largest_depth_is_exact(run_kernel):
    x = qtensor((1, 511), 1e-3, 0)
    out = qtensor(x.shape, *softmax.OUTPUT_QUANT["int8"])
    c_equals_int_ref(run_kernel, softmax, softmax.prepare({}, [x], out), [np.zeros(x.shape, np.int8)], out)


@pytest.mark.parametrize("scale", [1e-2, 1e-3, 3e-4, 1e-5])
@pytest.mark.parametrize("shape", [(1, 12), (3, 10), (1, 2), (1, 1), (1, 1000)])
def test_c_equals_int_ref_16x8(run_kernel, scale, shape):
    rng = np.random.default_rng(3)
    x = stensor(shape, scale)
    out = stensor(shape, *softmax.OUTPUT_QUANT["int16"])
    data = rand_int16(rng, shape)
    data[0, :2] = [32767, -32768][: shape[1]]
    c_equals_int_ref(run_kernel, softmax, softmax.prepare({}, [x], out), [data], out)


@pytest.mark.parametrize("scale", [1e-3, 3e-4])
def test_int_ref_16x8_close_to_float_ref(scale):
    """TFLite's int16 softmax: tables of 513 entries, exp cut below -10: within 2^-9 of the float softmax."""
    rng = np.random.default_rng(4)
    x = stensor((8, 12), scale)
    data = (rng.normal(0, 2, x.shape) / scale).clip(-32768, 32767).astype(np.int16)
    out = stensor(x.shape, *softmax.OUTPUT_QUANT["int16"])
    got = softmax.int_ref(softmax.prepare({}, [x], out), data[None])[0] / 32768.0
    want = softmax.float_ref({}, (data * np.float32(scale))[None])[0]
    assert np.abs(got - want).max() <= 2.0 ** -9


def test_c_float32_within_rounding(run_kernel):
    """expf and the float sum against NumPy's float64 exp: each output within (depth + 8) u of it, relative."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, (4, 10)).astype(np.float32)
    t = ftensor(x.shape)
    got = run_kernel(softmax, softmax.prepare({"beta": 1.5}, [t], t), [x], x.shape, np.float32)
    want = softmax.float_ref({"beta": 1.5}, x[None])[0]
    assert np.all(np.abs(got - want) <= (10 + 8) * U * want)
