"""Shared by the tests of the int8 activation functions with a fixed output quantization (logistic, tanh):
every int8 input value, against the twin, the float reference and TFLM on one-operator int8 files."""
import numpy as np
from helpers import qtensor, run_single_node, typed
from tflite16 import int8_t, one_op_model, run_imported, run_tflm

SCALES = [1 / 256, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 3e-4]  # covering the saturation radius from both sides
ZPS = [-128, 0, 127, 7]
ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 4, 64)


def check_float_ref_matches_onnxruntime(mod, onnx_op):
    x = np.random.default_rng(0).normal(0, 4, (1, 3, 5, 7)).astype(np.float32)
    np.testing.assert_allclose(mod.float_ref({}, x[None])[0], run_single_node(onnx_op, [x]), rtol=1e-6, atol=1e-7)


def tensors(mod, scale, zp):
    return qtensor(ALL_INT8.shape, scale, zp), qtensor(ALL_INT8.shape, *mod.OUTPUT_QUANT["int8"])


def check_c_equals_int_ref(run_kernel, mod, scale, zp):
    from helpers import c_equals_int_ref
    x, out = tensors(mod, scale, zp)
    c_equals_int_ref(run_kernel, mod, mod.prepare({}, [x], out), [ALL_INT8], out)


def check_int_ref_close_to_float(mod, scale, zp, lsb=1.0):
    x, out = tensors(mod, scale, zp)
    want = mod.float_ref({}, ((ALL_INT8.astype(np.float64) - zp) * np.float32(scale))[None])[0]
    got = (mod.int_ref(mod.prepare({}, [x], out), ALL_INT8[None])[0] - out.zero_point) * float(out.scale)
    assert np.abs(got - want).max() / float(out.scale) <= lsb


def check_c_float32(run_kernel, mod):
    from helpers import ftensor
    x = np.random.default_rng(1).normal(0, 4, (1, 9, 31)).astype(np.float32)
    p = mod.prepare({}, [ftensor(x.shape)], ftensor(x.shape))
    got = run_kernel(mod, p, [x], x.shape, np.float32)
    np.testing.assert_allclose(got, mod.float_ref({}, x[None])[0], rtol=1e-6, atol=1e-7)


def one_op_file(mod, code, scale, zp):
    x, out = tensors(mod, scale, zp)
    return one_op_model(code, 0, lambda b: None,
                        [int8_t(x.shape, scale, zp), int8_t(out.shape, *mod.OUTPUT_QUANT["int8"])], 1)


def check_int8_equals_tflm(run_kernel, mod, code, scale, zp, through_tool=False):
    """All 256 input values through TFLM, our twin and our C kernel: equal bit for bit."""
    x, out = tensors(mod, scale, zp)
    model = one_op_file(mod, code, scale, zp)
    want = run_tflm(model, [ALL_INT8[None]])[0]
    p = mod.prepare({}, [x], out)
    np.testing.assert_array_equal(typed(mod.int_ref(p, ALL_INT8[None])[0], out), want)
    np.testing.assert_array_equal(run_kernel(mod, p, [ALL_INT8], out.shape, np.int8), want)
    if through_tool:
        np.testing.assert_array_equal(run_imported(model, [ALL_INT8[None]], "int8")[0], want)
    return len(np.unique(want))


# 16x8: TFLM's power-of-two scales (2^-12 for both, 2^-11 for tanh), others through its multiplier loop
SCALES_16 = [2.0 ** -12, 2.0 ** -11, 2.0 ** -10, 1e-4, 3e-4, 1e-3, 1 / 6144]
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(1, 256, 256)


def check_int16_equals_tflm(run_kernel, mod, code, scale):
    """All 65536 int16 inputs through TFLM, our twin and our C kernel (output 2^-15, zero point 0)."""
    from helpers import stensor
    from tflite16 import activation_t
    x, out = stensor(ALL_INT16.shape, scale), stensor(ALL_INT16.shape, 2.0 ** -15)
    model = one_op_model(code, 0, lambda b: None, [activation_t(x.shape, scale), activation_t(out.shape, 2.0 ** -15)], 1)
    want = run_tflm(model, [ALL_INT16[None]])[0]
    p = mod.prepare({}, [x], out)
    np.testing.assert_array_equal(typed(mod.int_ref(p, ALL_INT16[None])[0], out), want)
    np.testing.assert_array_equal(run_kernel(mod, p, [ALL_INT16], out.shape, np.int16), want)
    return len(np.unique(want))


def conv_then(onnx_op):
    """x (1, 3, 8, 6) -> Conv 3x3 (4 channels) -> onnx_op."""
    from helpers import onnx_model
    from onnx import helper
    rng = np.random.default_rng(2)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node(onnx_op, ["c"], ["y"])]
    inits = {"w": rng.normal(0, 0.8, (4, 3, 3, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 4).astype(np.float32)}
    return onnx_model(nodes, [("x", [1, 3, 8, 6])], [("y", [1, 4, 8, 6])], inits, 13)


def op_tests(mod, onnx_op, code):
    """The test functions of one such op (a test module takes them into its globals): float reference vs
    onnxruntime, C vs twin and twin vs float on every input, float32 C, TFLM bit for bit, ONNX through the
    tool, and the 16x8 mode's clear error."""
    import pytest

    def test_float_ref_matches_onnxruntime():
        check_float_ref_matches_onnxruntime(mod, onnx_op)

    @pytest.mark.parametrize("zp", ZPS)
    @pytest.mark.parametrize("scale", SCALES)
    def test_c_equals_int_ref_and_int_ref_within_one_step(run_kernel, scale, zp):
        check_c_equals_int_ref(run_kernel, mod, scale, zp)
        check_int_ref_close_to_float(mod, scale, zp)

    def test_c_float32(run_kernel):
        check_c_float32(run_kernel, mod)

    @pytest.mark.parametrize("zp", ZPS)
    @pytest.mark.parametrize("scale", SCALES)
    def test_int8_equals_tflm(run_kernel, scale, zp):
        levels = check_int8_equals_tflm(run_kernel, mod, code, scale, zp, through_tool=(scale, zp) == (0.05, 7))
        print(f"{mod.__name__.split('.')[-1].upper()} scale {scale} zp {zp}: all 256 inputs equal to TFLM "
              f"({levels} output levels)")

    @pytest.mark.parametrize("scale", SCALES_16)
    def test_16x8_c_and_twin_equal_tflm_on_every_input(run_kernel, scale):
        levels = check_int16_equals_tflm(run_kernel, mod, code, scale)
        print(f"{mod.__name__.split('.')[-1].upper()} 16x8 scale {scale}: all 65536 inputs equal to TFLM "
              f"({levels} output levels)")

    def test_onnx_through_the_tool(tmp_path):
        from helpers import through_the_tool
        x = np.random.default_rng(3).normal(0, 1, (16, 1, 3, 8, 6)).astype(np.float32)
        ops = through_the_tool(conv_then(onnx_op), x, tmp_path, ("int8", "int16x8", "float32"))
        assert mod.__name__.split(".")[-1] in ops

    return {k: v for k, v in locals().items() if k.startswith("test_")}


# -- activations with their own output quantization (leaky relu, hard swish, prelu, QUANTIZE int8 -> int8) ----
def all_values(dtype):
    return ALL_INT8 if dtype == "int8" else ALL_INT16


def check_own_quant_equals_tflm(run_kernel, mod, attrs, code, quants, dtype="int8", options_type=0, options=None,
                                extra=(), through_tool=False):
    """Every input value of the type through TFLM's one-operator file (input, the `extra` constant tensors,
    output), our twin and our C kernel: equal bit for bit. quants: ((scale, zp) in, (scale, zp) out)."""
    from tflite16 import activation_t
    x_all = all_values(dtype)
    make = int8_t if dtype == "int8" else (lambda shape, s, z: activation_t(shape, s))
    model = one_op_model(code, options_type, options or (lambda b: None),
                         [make(x_all.shape, *quants[0])] + list(extra) + [make(x_all.shape, *quants[1])], 1)
    want = run_tflm(model, [x_all[None]])[0]
    x, out = (qtensor(x_all.shape, s, z if dtype == "int8" else 0, dtype=dtype) for s, z in quants)
    p = mod.prepare(attrs, [x], out)
    np.testing.assert_array_equal(typed(mod.int_ref(p, x_all[None])[0], out).reshape(want.shape), want)
    np.testing.assert_array_equal(run_kernel(mod, p, [x_all], out.shape, want.dtype), want)
    if through_tool:
        np.testing.assert_array_equal(run_imported(model, [x_all[None]], dtype)[0], want)
    return len(np.unique(want))


def random_quants(n=24, seed=11):
    """(input, output) quantizations: input scales log-uniform over [2e-4, 1], output scales 1/4 to 8 times those,
    any zero points."""
    rng = np.random.default_rng(seed)
    s_in = np.exp(rng.uniform(np.log(2e-4), 0.0, n))
    s_out = s_in * np.exp(rng.uniform(np.log(0.25), np.log(8.0), n))
    zps = rng.integers(-128, 128, (n, 2))
    return [((float(a), int(z[0])), (float(b), int(z[1]))) for a, b, z in zip(s_in, s_out, zps)]
