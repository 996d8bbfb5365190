"""Issue 6: random small graphs of the supported ops (hypothesis), converted, compiled and run: the C equals the
NumPy reference bit for bit, the planner's overlap checker passes, and the reference tracks onnxruntime."""
import numpy as np
import onnx
import pytest
from helpers import onnx_model, run_onnxruntime
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import helper

import mcu_codegen
from mcu_codegen import planner


@st.composite
def graphs(draw):
    """A random NCHW network: a few conv / depthwise / pool / residual / batchnorm layers and data movements
    (a strided or reversed slice, a channel shuffle by Split and Concat, a nearest upsampling), then a head."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    opset = draw(st.sampled_from([11, 13, 17, 21]))
    c, h, w = draw(st.integers(1, 5)), draw(st.integers(4, 10)), draw(st.integers(4, 10))
    nodes, inits, x = [], {}, "x"
    shape = input_shape = [1, c, h, w]

    def name(prefix):
        return f"{prefix}{len(nodes)}"

    def act(y):
        kind = draw(st.sampled_from(["none", "relu", "relu6"]))
        if kind == "none":
            return y
        out = name("a")
        if kind == "relu":
            nodes.append(helper.make_node("Relu", [y], [out], name=out))
        else:
            inits[out + "_lo"], inits[out + "_hi"] = np.float32(0), np.float32(6)
            nodes.append(helper.make_node("Clip", [y, out + "_lo", out + "_hi"], [out], name=out))
        return out

    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "depthwise", "maxpool", "avgpool", "residual", "batchnorm", "slice",
                                     "shuffle", "upsample"]))
        _, c, h, w = shape
        y = name("n")
        if kind in ("conv", "depthwise"):
            k = draw(st.integers(1, min(3, h, w)))
            s = draw(st.integers(1, 2))
            pads = [draw(st.integers(0, k - 1)) for _ in range(4)]
            oc = draw(st.integers(1, 6)) if kind == "conv" else c * draw(st.integers(1, 2))
            group = 1 if kind == "conv" else c
            inits[y + "_w"] = rng.normal(0, 0.5, (oc, c // group, k, k)).astype(np.float32)
            inits[y + "_b"] = rng.normal(0, 0.2, oc).astype(np.float32)
            nodes.append(helper.make_node("Conv", [x, y + "_w", y + "_b"], [y], name=y, kernel_shape=[k, k],
                                          strides=[s, s], pads=pads, group=group))
            shape = [1, oc, (h + pads[0] + pads[2] - k) // s + 1, (w + pads[1] + pads[3] - k) // s + 1]
            x = act(y)
        elif kind in ("maxpool", "avgpool"):
            k, s = draw(st.integers(1, min(3, h, w))), draw(st.integers(1, 2))
            op = "MaxPool" if kind == "maxpool" else "AveragePool"
            nodes.append(helper.make_node(op, [x], [y], name=y, kernel_shape=[k, k], strides=[s, s]))
            shape = [1, c, (h - k) // s + 1, (w - k) // s + 1]
            x = y
        elif kind == "residual":
            inits[y + "_w"] = rng.normal(0, 0.5, (c, c, 1, 1)).astype(np.float32)
            inits[y + "_b"] = rng.normal(0, 0.2, c).astype(np.float32)
            nodes.append(helper.make_node("Conv", [x, y + "_w", y + "_b"], [y + "_c"], name=y + "_c",
                                          kernel_shape=[1, 1]))
            nodes.append(helper.make_node("Add", [y + "_c", x], [y], name=y))
            x = act(y)
        elif kind == "slice":  # one axis: from a random start with step 1 or 2, or reversed whole
            axis = draw(st.integers(1, 3))
            n, step = shape[axis], draw(st.sampled_from([1, 2, -1]))
            start = draw(st.integers(0, n - 1)) if step > 0 else n - 1
            for part, v in (("_s", start), ("_e", n if step > 0 else -n - 1), ("_a", axis), ("_t", step)):
                inits[y + part] = np.array([v], np.int64)
            nodes.append(helper.make_node("Slice", [x] + [y + p for p in ("_s", "_e", "_a", "_t")], [y], name=y))
            shape = list(shape)
            shape[axis] = -(-(n - start) // step) if step > 0 else n
            x = y
        elif kind == "shuffle" and c > 1:  # channels split in two and concatenated the other way round
            k = draw(st.integers(1, c - 1))
            parts = [y + "_p", y + "_q"]
            if opset < 13:
                nodes.append(helper.make_node("Split", [x], parts, name=y + "_split", axis=1, split=[k, c - k]))
            else:
                inits[y + "_k"] = np.array([k, c - k], np.int64)
                nodes.append(helper.make_node("Split", [x, y + "_k"], parts, name=y + "_split", axis=1))
            nodes.append(helper.make_node("Concat", parts[::-1], [y], name=y, axis=1))
            x = y
        elif kind == "upsample" and h * w <= 36:
            inits[y + "_roi"], inits[y + "_sc"] = np.zeros(0, np.float32), np.array([1, 1, 2, 2], np.float32)
            nodes.append(helper.make_node("Resize", [x, y + "_roi", y + "_sc"], [y], name=y, mode="nearest",
                                          coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
            shape = [1, c, 2 * h, 2 * w]
            x = y
        elif kind == "batchnorm":
            for p, v in (("_g", rng.uniform(0.5, 1.5, c)), ("_be", rng.normal(0, 0.2, c)),
                         ("_m", rng.normal(0, 0.2, c)), ("_v", rng.uniform(0.5, 2, c))):
                inits[y + p] = v.astype(np.float32)
            nodes.append(helper.make_node("BatchNormalization", [x, y + "_g", y + "_be", y + "_m", y + "_v"], [y],
                                          name=y))
            x = act(y)
    _, c, h, w = shape
    if draw(st.booleans()):
        nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
        x, features = "gap", c
    else:
        features = c * h * w
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flat"))
    classes = draw(st.integers(2, 6))
    inits["fc_w"] = rng.normal(0, 0.3, (classes, features)).astype(np.float32)
    inits["fc_b"] = rng.normal(0, 0.1, classes).astype(np.float32)
    nodes.append(helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1))
    out = "logits"
    if draw(st.booleans()):
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1))
        out = "probs"
    return onnx_model(nodes, [("x", ["N", *input_shape[1:]])], [(out, None)], inits, opset), input_shape, out


@pytest.mark.slow
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=graphs())
def test_random_graphs_c_equals_reference(case, tmp_path_factory):
    model, input_shape, out = case
    work = tmp_path_factory.mktemp("graph")
    onnx.save(model, work / "m.onnx")
    rng = np.random.default_rng(0)
    conv = mcu_codegen.Converter.from_onnx(work / "m.onnx")
    calibration = rng.normal(0, 1, (32, *input_shape)).astype(np.float32)
    conv.representative_dataset = [{"x": calibration}]
    converted = conv.convert()
    planner.check(converted.graph, converted.plan)
    meta = converted.report["inputs"][0]
    x = rng.integers(-128, 128, (8, *meta["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    np.testing.assert_array_equal(converted.build().run({"x": x})[out], converted.reference({"x": x})[out])
    # and the integer reference follows the float model on inputs inside the calibrated ranges (outside them
    # post-training quantization clips, by design)
    conv.inference_input_type = conv.inference_output_type = "float32"
    floats = conv.convert()
    xf = calibration[:8]
    want = np.concatenate([run_onnxruntime(model, {"x": s})[0] for s in xf])
    got = floats.reference({"x": xf})[out].reshape(want.shape)
    scale = floats.report["outputs"][0]["quantized_as"]["scale"]
    assert np.abs(got - want).max() <= max(0.1 * np.abs(want).max(), 8 * scale)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=graphs(), mixed=st.booleans())
def test_random_graphs_in_16x8_and_float32(case, mixed, tmp_path_factory):
    """16x8 (the whole graph, or every other weighted layer inside int8): C equals the reference bit for bit
    with int16/int8 input extremes; float32: C within 1e-4 of onnxruntime's output range."""
    model, input_shape, out = case
    work = tmp_path_factory.mktemp("graph16")
    onnx.save(model, work / "m.onnx")
    rng = np.random.default_rng(1)
    conv = mcu_codegen.Converter.from_onnx(work / "m.onnx")
    conv.representative_dataset = [{"x": rng.normal(0, 1, (32, *input_shape)).astype(np.float32)}]
    if mixed:
        weighted = [n.name for n in conv.graph.nodes if n.op in ("conv2d", "depthwise_conv2d", "fully_connected")]
        conv.int16_layers = weighted[::2]
    else:
        conv.mode = "int16x8"
    converted = conv.convert()
    planner.check(converted.graph, converted.plan)
    meta = converted.report["inputs"][0]
    lo, hi = (-128, 127) if meta["dtype"] == "int8" else (-32768, 32767)
    x = rng.integers(lo, hi + 1, (8, *meta["shape"])).astype(np.int8 if meta["dtype"] == "int8" else np.int16)
    x[0], x[1] = lo, hi
    np.testing.assert_array_equal(converted.build().run({"x": x})[out], converted.reference({"x": x})[out])
    conv.mode, conv.int16_layers = "float32", []
    floats = conv.convert()
    xf = rng.normal(0, 1, (4, *input_shape)).astype(np.float32)
    want = np.concatenate([run_onnxruntime(model, {"x": s})[0] for s in xf])
    got = floats.build().run({"x": xf})[out].reshape(want.shape)
    assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1e-3)
