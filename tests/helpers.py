"""Builders shared by the tests: single-node ONNX models run by onnxruntime, quantized tensors, random data."""
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from mcu_codegen.ir import Tensor
from mcu_codegen.reference import NP_TYPES

NCHW_TO_NHWC, NHWC_TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)


def onnx_model(nodes, inputs, outputs, initializers=(), opset=15):
    """inputs/outputs: [(name, shape)] float32; initializers: {name: array}."""
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in dict(initializers).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def run_onnxruntime(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_single_node(op_type, x_list, attrs=None, initializers=None, out_shape=None, opset=15):
    """One ONNX node on float inputs (and constant initializers); returns its output from onnxruntime."""
    initializers = dict(initializers or {})
    names = [f"x{i}" for i in range(len(x_list))]
    node = helper.make_node(op_type, names + list(initializers), ["y"], **(attrs or {}))
    model = onnx_model([node], [(n, x.shape) for n, x in zip(names, x_list)], [("y", out_shape)],
                       initializers, opset)
    return run_onnxruntime(model, dict(zip(names, x_list)))[0]


def qtensor(shape, scale, zero_point, name="t", dtype="int8"):
    return Tensor(name, tuple(shape), dtype, np.float32(scale), int(zero_point))


def typed(values, t):
    """An integer twin's int64 result (clamped to the type's range) as the tensor's own element type."""
    return np.asarray(values).astype(NP_TYPES[t.dtype])


def rand_int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def dequantize(q, t):
    return (q.astype(np.float32) - t.zero_point) * np.float32(t.scale)


def quantize_like(x, t):
    return np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)


def c_equals_int_ref(run_kernel, mod, params, inputs, out, function=None):
    """The C kernel (or another form of it: function) and its NumPy twin on the same inputs (batch of one):
    equal bit for bit."""
    want = typed(mod.int_ref(params, *[x[None] for x in inputs])[0].reshape(out.shape), out)
    got = run_kernel(mod, params, inputs, out.shape, want.dtype, function)
    np.testing.assert_array_equal(got, want)
    return got


def portable_forms(mod, params, dtype="int8"):
    """The forms of an op's kernel the host runs for these params: the plain kernel, and the portable variant
    where there is one (the DSP and Helium forms run on the emulated cores: tests/test_variants.py)."""
    forms = mod.variants(params, dtype) if hasattr(mod, "variants") else None
    return [None] + ([forms[-1][1]] if forms else [])


def unfolded(params, weights, zero_point):
    """Params with the input zero point back out of the bias (bias + zp * sum w): what the generic kernel
    computes with x - zp; equal results, so its zero-point path stays tested although prepare folds."""
    sums = weights.reshape(len(weights), -1).astype(np.int64).sum(axis=1)
    return dict(params, bias=(params["bias"] + zero_point * sums).astype(np.int32), input_zp=zero_point)


# -- 16x8 and float32 kernels ---------------------------------------------------------------------------------
U = 2.0 ** -24  # float32 unit roundoff


def stensor(shape, scale, name="t"):
    """An int16 (16x8) activation: symmetric, zero point 0."""
    return qtensor(shape, scale, 0, name, dtype="int16")


def ftensor(shape, name="t"):
    return Tensor(name, tuple(shape), "float32", np.float32(1.0), 0)


def rand_int16(rng, shape):
    return rng.integers(-32768, 32768, shape).astype(np.int16)


def c_float_within_rounding(run_kernel, mod, attrs, inputs, terms):
    """The float32 C kernel against the float reference on the same inputs. Both evaluate the same sums of at
    most `terms` float32 products (and a bias) in different orders; each is within gamma_n * sum|x w| of the
    exact sum (Higham, Accuracy and Stability of Numerical Algorithms, eq. 3.5: gamma_n = n u / (1 - n u)),
    so they differ by at most 2 gamma_n sum|x w|, where sum|x w| is the float reference run on |x|, |w|, |b|.
    terms=0 (max pool, transpose): no arithmetic, so equal bit for bit."""
    ins = [ftensor(x.shape) for x in inputs]
    out = ftensor(mod.output_shape(attrs, [x.shape for x in inputs]))
    p = mod.prepare(attrs, ins, out)
    want = mod.float_ref(attrs, *[x[None] for x in inputs])[0].reshape(out.shape)
    got = run_kernel(mod, p, inputs, out.shape, np.float32)
    if terms == 0:
        np.testing.assert_array_equal(got, want)
        return got
    magnitude_attrs = {k: np.abs(v) if k in ("weight", "bias") else v for k, v in attrs.items()}
    magnitude_attrs["act"] = None
    magnitude = np.abs(mod.float_ref(magnitude_attrs, *[np.abs(x)[None] for x in inputs])[0]).reshape(out.shape)
    n = terms + 1
    bound = 2 * n * U / (1 - n * U) * magnitude.astype(np.float64)
    assert np.all(np.abs(got.astype(np.float64) - want) <= bound), np.abs(got - want).max()
    return got


def s16_close_to_float(mod, attrs, p, xq, x, out, axis=0, lsb=2.0):
    """The 16x8 twin against the float reference run with the same int8 weights (dequantized), so that only
    the int16 activation grid and TFLite's 16-bit output multiplier remain: within `lsb` output steps."""
    from mcu_codegen.ops._common import quantize_weights_and_bias
    w_q, bias, scales = quantize_weights_and_bias(attrs, axis, x.scale, True)
    shape = [1] * w_q.ndim
    shape[axis] = -1
    w = w_q.astype(np.float64) * scales.astype(np.float64).reshape(shape)
    b = bias.astype(np.float64) * float(x.scale) * scales.astype(np.float64)
    want = mod.float_ref(dict(attrs, weight=w.astype(np.float32), bias=b.astype(np.float32)),
                         (xq.astype(np.float32) * np.float32(x.scale))[None])[0]
    want = np.clip(want, -32768 * out.scale, 32767 * out.scale)
    got = mod.int_ref(p, xq[None])[0].astype(np.float64) * float(out.scale)
    err = np.abs(got.reshape(want.shape) - want) / float(out.scale)
    assert err.max() <= lsb, err.max()


def through_the_tool(model, x, tmp_path, modes=("int8",), planner=None, want=None):
    """An ONNX model (one float input 'x') converted in each mode, compiled and run: the float graph equals
    onnxruntime (within float rounding), the C equals the integer reference bit for bit on int8 / int16 inputs
    (random and both extremes). Returns the canonical graph's ops. planner: one planner strategy (no search:
    faster on graphs of hundreds of nodes); want: the float output for x[0] where onnxruntime cannot run the
    model itself."""
    import mcu_codegen
    from mcu_codegen.reference import execute
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.planner_strategy = planner
    want = run_onnxruntime(model, {"x": x[0]})[0] if want is None else want
    got = execute(conv.graph, {conv.graph.inputs[0]: x[:1]}, integer=False)[conv.graph.outputs[0]][0]
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-5)
    rng = np.random.default_rng(0)
    for mode in modes:
        conv.mode = mode
        conv.representative_dataset = [{"x": x}]
        converted = conv.convert()
        meta = converted.report["inputs"][0]
        if mode == "float32":
            q = x.reshape((-1,) + tuple(meta["shape"]))
        else:
            lo, hi = (-128, 127) if meta["dtype"] == "int8" else (-32768, 32767)
            q = rng.integers(lo, hi + 1, (8,) + tuple(meta["shape"]))
            q[0], q[1] = lo, hi
            q = q.astype(NP_TYPES[meta["dtype"]])
        out = converted.report["outputs"][0]["name"]
        c = converted.build().run({meta["name"]: q})[out]
        ref = converted.reference({meta["name"]: q})[out]
        if mode == "float32":
            np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(c, ref)
    return [n.op for n in conv.graph.nodes]


def float_graph_equals_onnxruntime(model, x, tmp_path, rtol=0, atol=0):
    """An ONNX model (one float input 'x', without a sample axis) imported and canonicalized: the float graph's
    outputs equal onnxruntime's, bit for bit by default (copies: no arithmetic to round). Returns the
    Converter."""
    import mcu_codegen
    from mcu_codegen.reference import execute
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    conv = mcu_codegen.Converter.from_onnx(path)
    got = execute(conv.graph, {conv.graph.inputs[0]: x[None]}, integer=False)
    want = run_onnxruntime(model, {"x": x})
    assert len(want) == len(conv.graph.outputs)
    for name, w in zip(conv.graph.outputs, want):
        np.testing.assert_allclose(got[name][0].reshape(w.shape), w, rtol=rtol, atol=atol)
    return conv


def copy_kernel_checks(run_kernel, mod, attrs, shape, out_shape, expected, zero_point=0, seed=0):
    """A copy op (ops/_index_copy.py) on int8 (with zero_point), int16 and float32 tensors: its float
    reference, its twin and its C kernel all equal expected(data), NumPy's own indexing, bit for bit."""
    rng = np.random.default_rng(seed)
    for make, data in ((lambda s: qtensor(s, 0.05, zero_point), rand_int8(rng, shape)),
                       (lambda s: stensor(s, 1e-3), rand_int16(rng, shape)),
                       (ftensor, rng.normal(0, 1, shape).astype(np.float32))):
        p = mod.prepare(attrs, [make(shape)], make(out_shape))
        want = expected(data)
        np.testing.assert_array_equal(mod.float_ref(attrs, data[None])[0].reshape(out_shape), want)
        np.testing.assert_array_equal(mod.int_ref(p, data[None])[0].reshape(out_shape), want)
        np.testing.assert_array_equal(run_kernel(mod, p, [data], out_shape, data.dtype), want)


def check_mode_refused(path, x, mode, match):
    """Converting the ONNX file at path in `mode` (calibrated on x) fails with one clear error matching `match`."""
    import pytest

    import mcu_codegen
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.mode, conv.representative_dataset = mode, [{"x": x}]
    with pytest.raises(mcu_codegen.ConversionError, match=match):
        conv.convert()
