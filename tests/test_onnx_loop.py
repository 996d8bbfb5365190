"""ONNX Loop unrolled at import (mcu_codegen/onnx_loop.py), on small hand-built loops and on tf2onnx's Keras
recurrent layers with unroll=False (tests/models/keras_*_loop.onnx; their int8 SQNR: test_exporter_models.py).

The hand-built loop is a tiny RNN, h_t = tanh(x_t W + h_{t-1} R): x_t = Gather(X, iteration number) reads the
outer input X, W is carried through the body unchanged (a weight, as tf2onnx carries them), R read from the
enclosing graph, h carried, each step's h a scan output. Its float graph must equal onnxruntime's, its int8 C the
NumPy twin bit for bit; loops the generator cannot write as straight-line code are refused in one line naming
the Loop node, exit status 2."""
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import mcu_codegen
from exporter_models import MODELS, data, float_reference, halves, sqnr_db
from helpers import run_onnxruntime
from mcu_codegen import reference
from mcu_codegen.ir import ConversionError
from mcu_codegen.onnx_loop import MAX_ITERATIONS

FEATURES, HIDDEN = 4, 3
rng = np.random.default_rng(13)
W = rng.normal(0, 0.6, (FEATURES, HIDDEN)).astype(np.float32)
R = rng.normal(0, 0.6, (HIDDEN, HIDDEN)).astype(np.float32)


def value_info(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def rnn_loop(steps=5, trip=None, stop_after=None, trip_from_data=False, cond_from_data=False, nested=None,
             branch=None, opset=13):
    """The tiny RNN as a Loop over `steps` rows of X (1 x FEATURES each). trip: M (default steps);
    stop_after: the body's condition turns false at iteration stop_after - 1 (a constant, so the loop stops after
    stop_after iterations); trip_from_data / cond_from_data: M or the condition computed from the data;
    nested: an inner Loop in the body, "variant" of as many iterations as the iteration number, "invariant" of
    three on R; branch: an If in the body, on a "constant" condition at each iteration or on the "data"."""
    runs = stop_after or steps
    body_nodes = [helper.make_node("Gather", ["x", "i"], ["x_t"], axis=0, name="read_x"),
                  helper.make_node("MatMul", ["x_t", "w"], ["a"], name="xw"),
                  helper.make_node("MatMul", ["h_in", "r"], ["b"], name="hr"),
                  helper.make_node("Add", ["a", "b"], ["s"], name="sum"),
                  helper.make_node("Tanh", ["s"], ["h_out"], name="tanh"),
                  helper.make_node("Identity", ["h_out"], ["y_t"], name="scan")]
    body_inits = []
    if stop_after:
        body_nodes.append(helper.make_node("Less", ["i", "last"], ["c_out"], name="more"))
        body_inits.append(onnx.numpy_helper.from_array(np.array(stop_after - 1, np.int64), "last"))
    elif cond_from_data:
        body_nodes += [helper.make_node("ReduceSum", ["h_out"], ["total"], keepdims=0, name="total"),
                       helper.make_node("Less", ["total", "zero"], ["c_out"], name="data_cond")]
        body_inits.append(onnx.numpy_helper.from_array(np.array(0, np.float32), "zero"))
    else:
        body_nodes.append(helper.make_node("Identity", ["c_in"], ["c_out"], name="cond"))
    if nested:  # the inner loop negates its carried value at each of its iterations
        shape = [1, HIDDEN] if nested == "variant" else [HIDDEN, HIDDEN]
        inner = helper.make_graph(
            [helper.make_node("Identity", ["ic"], ["ic_out"]), helper.make_node("Neg", ["iv"], ["iv_out"])],
            "inner", [value_info("j", TensorProto.INT64, []), value_info("ic", TensorProto.BOOL, []),
                      value_info("iv", TensorProto.FLOAT, shape)],
            [value_info("ic_out", TensorProto.BOOL, []), value_info("iv_out", TensorProto.FLOAT, shape)])
        if nested == "variant":  # as many iterations as the outer loop's iteration number: refused
            body_nodes[2] = helper.make_node("MatMul", ["h_inner", "r"], ["b"], name="hr")
            body_nodes.insert(2, helper.make_node("Loop", ["i", "", "h_in"], ["h_inner"], body=inner, name="inner"))
        else:  # three iterations on R, the same at every outer iteration: hoisted, then unrolled in its turn
            body_nodes[2] = helper.make_node("MatMul", ["h_in", "r_inner"], ["b"], name="hr")
            body_nodes.insert(2, helper.make_node("Loop", ["three", "", "r"], ["r_inner"], body=inner, name="inner"))
            body_inits.append(onnx.numpy_helper.from_array(np.array(3, np.int64), "three"))
    if branch:  # h_in halved at the first iteration (an If on i == 0) or where its sum is positive (on the data)
        then = helper.make_graph([helper.make_node("Mul", ["h_in", "half"], ["h_half"])], "then", [],
                                 [value_info("h_half", TensorProto.FLOAT, [1, HIDDEN])],
                                 [onnx.numpy_helper.from_array(np.array(0.5, np.float32), "half")])
        other = helper.make_graph([helper.make_node("Identity", ["h_in"], ["h_same"])], "else", [],
                                  [value_info("h_same", TensorProto.FLOAT, [1, HIDDEN])])
        test = (helper.make_node("Equal", ["i", "first"], ["pick"], name="first") if branch == "constant" else
                helper.make_node("ReduceSum", ["h_in"], ["pick_sum"], keepdims=0, name="sum_h"))
        body_nodes[2] = helper.make_node("MatMul", ["h_pick", "r"], ["b"], name="hr")
        body_nodes[2:2] = [test] + ([] if branch == "constant" else [
            helper.make_node("Greater", ["pick_sum", "zero_f"], ["pick"], name="positive")]) + [
            helper.make_node("If", ["pick"], ["h_pick"], then_branch=then, else_branch=other, name="branch")]
        body_inits += [onnx.numpy_helper.from_array(np.array(0, np.int64), "first"),
                       onnx.numpy_helper.from_array(np.array(0, np.float32), "zero_f")]
    body = helper.make_graph(
        body_nodes, "body",
        [value_info("i", TensorProto.INT64, []), value_info("c_in", TensorProto.BOOL, []),
         value_info("h_in", TensorProto.FLOAT, [1, HIDDEN]), value_info("w", TensorProto.FLOAT, [FEATURES, HIDDEN])],
        [value_info("c_out", TensorProto.BOOL, []), value_info("h_out", TensorProto.FLOAT, [1, HIDDEN]),
         value_info("w", TensorProto.FLOAT, [FEATURES, HIDDEN]), value_info("y_t", TensorProto.FLOAT, [1, HIDDEN])],
        body_inits)
    inits = {"W": W, "r": R, "h0": np.zeros((1, HIDDEN), np.float32), "cond": np.array(True),
             "M": np.array(steps if trip is None else trip, np.int64)}
    nodes = [helper.make_node("Reshape", ["X", "shape"], ["x"], name="rows")]
    inits["shape"] = np.array([steps, 1, FEATURES], np.int64)
    m = "M"
    if trip_from_data:
        nodes += [helper.make_node("ReduceMax", ["X"], ["top"], keepdims=0, name="top"),
                  helper.make_node("Cast", ["top"], ["M_data"], to=TensorProto.INT64, name="trip")]
        m = "M_data"
    nodes.append(helper.make_node("Loop", [m, "cond", "h0", "W"], ["h_final", "w_final", "Y"], body=body,
                                  name="loop"))
    graph = helper.make_graph(
        nodes, "rnn", [value_info("X", TensorProto.FLOAT, [1, steps, FEATURES])],
        [value_info("h_final", TensorProto.FLOAT, [1, HIDDEN]), value_info("Y", TensorProto.FLOAT, [runs, 1, HIDDEN])],
        [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save(model, tmp_path, name="loop.onnx"):
    path = tmp_path / name
    onnx.save(model, path)
    return path


def samples(steps, n=32):
    """n inputs, the same whichever tests ran before (the SQNR bounds below are measured on them)."""
    return np.random.default_rng(steps).normal(0, 1, (n, 1, steps, FEATURES)).astype(np.float32)


def onnxruntime_outputs(model, x):
    runs = [run_onnxruntime(model, {"X": x[k]}) for k in range(len(x))]
    return [np.stack([r[j] for r in runs]) for j in range(len(runs[0]))]


@pytest.mark.parametrize("opset, stop_after, nested, branch", [
    (11, None, None, None), (13, None, None, None), (11, 2, None, None), (13, 2, None, None),
    (13, None, "invariant", None), (13, None, None, "constant")])
def test_float_graph_equals_onnxruntime(tmp_path, opset, stop_after, nested, branch):
    """Carried state, the iteration number read by Gather, a weight passed through, the scan output stacked on
    axis 0 (Unsqueeze as an attribute at opset 11, an input at 13); a constant false condition after 2 of 5
    iterations stops the loop there, as onnxruntime does (Y then has 2 steps); a Loop inside the body that does
    not depend on the iteration runs once, before the first; an If on i == 0 is its then branch at the first
    iteration, its else branch after."""
    model = rnn_loop(stop_after=stop_after, opset=opset, nested=nested, branch=branch)
    g = mcu_codegen.Converter.from_onnx(save(model, tmp_path)).graph
    assert sum(n.op == "tanh" for n in g.nodes) == (stop_after or 5)  # one cell per iteration run
    assert [g.tensors[o].shape for o in g.outputs] == [(1, HIDDEN), (stop_after or 5, 1, HIDDEN)]
    x = samples(5, 8)
    got = reference.execute(g, {g.inputs[0]: x}, integer=False)
    for want, name in zip(onnxruntime_outputs(model, x), g.outputs):
        np.testing.assert_allclose(got[name].reshape(want.shape), want, rtol=1e-5, atol=1e-6)


def int8_model(model, tmp_path, x):
    conv = mcu_codegen.Converter.from_onnx(save(model, tmp_path, f"loop{x.shape[2]}.onnx"))
    conv.representative_dataset = [{"X": x}]
    conv.inference_input_type = conv.inference_output_type = "float32"
    return conv.convert()


def test_int8_c_equals_twin_and_steps_share_their_integers(tmp_path):
    """int8: the C equals the NumPy twin bit for bit and follows onnxruntime; every step's copy of a body tensor
    is one tie group, so all steps' tanh share one scale, the steps after the first two (the first reads the
    zero state) have the same integers and add no weight bytes: they do not grow with the length (but for Y's
    concat, a graph output here, whose tables hold 16 bytes a step; tf2onnx's models slice the last step, which
    then reads that step's h, and the concat goes)."""
    for steps in (5, 12):
        model = rnn_loop(steps)
        x = samples(steps, 64)
        m = int8_model(model, tmp_path, x[:32])
        feeds = {"X": x[32:]}
        got, twin = m.build().run(feeds), m.reference(feeds)
        for k in got:
            np.testing.assert_array_equal(got[k], twin[k])
        for g, w in zip(got.values(), onnxruntime_outputs(model, x[32:])):
            assert sqnr_db(w, g.reshape(w.shape)) > 28  # measured 31.9 (5 steps) and 34.0 (12): less 3 dB
        tanh = [n.outputs[0] for n in m.graph.nodes if n.op == "tanh"]
        assert len(tanh) == steps and len({(m.graph.tensors[t].scale, m.graph.tensors[t].zero_point)
                                           for t in tanh}) == 1
        later = [n for n in m.report["nodes"] if n["name"].split("/")[1:2] not in (["0"], ["1"], ["Y"])]
        assert len(later) > 4 * (steps - 2) and all(n["weight_bytes"] == 0 for n in later)


def refusal(model, tmp_path):
    """The CLI's answer to a model: (exit status, stderr)."""
    path = save(model, tmp_path)
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(path), "--mode", "float32", "-o",
                        str(tmp_path / "out")], capture_output=True, text=True)
    return r.returncode, r.stderr


@pytest.mark.parametrize("kind, words", [
    ("trip_from_data", "the trip count M is not a constant"),
    ("cond_from_data", "its condition output is not a constant at iteration 0"),
    ("nested", "body node 'inner' (Loop): a Loop, If or Scan that depends on the iteration"),
    ("branch", "body node 'branch' (If): a Loop, If or Scan that depends on the iteration"),
])
def test_loop_that_is_not_straight_line_is_refused_in_one_line(tmp_path, kind, words):
    code, err = refusal(rnn_loop(**{kind: {"nested": "variant", "branch": "data"}.get(kind, True)}), tmp_path)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "node 'loop' (Loop)" in err and words in err
    assert not (tmp_path / "out").exists()


def test_iteration_limit(tmp_path):
    model = rnn_loop(trip=MAX_ITERATIONS + 1)
    with pytest.raises(ConversionError, match=f"node 'loop' \\(Loop\\): runs more than {MAX_ITERATIONS} iterations"):
        mcu_codegen.Converter.from_onnx(save(model, tmp_path))


def test_no_iteration_leaves_the_carried_values(tmp_path):
    """M = 0: the final state is the initial one; a scan output that would be empty is refused, naming it."""
    model = rnn_loop(trip=0)
    with pytest.raises(ConversionError, match="node 'loop' \\(Loop\\): runs no iteration: its scan output 'Y'"):
        mcu_codegen.Converter.from_onnx(save(model, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["keras_gru_kws", "keras_crnn_kws"])
def test_keras_loop_float32_equals_its_unrolled_twin(stem):
    """tf2onnx's Keras GRU with unroll=False (a Loop) and with unroll=True (the steps written out), the same
    weights: in float32 the two generated C programs give the same bits, and follow onnxruntime."""
    outputs = []
    for name in (stem, stem + "_loop"):
        conv = mcu_codegen.Converter.from_onnx(MODELS / f"{name}.onnx")
        conv.mode = "float32"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = conv.convert()
        evaluation = halves(data(MODELS / f"{name}.onnx"))[1]
        got = m.build().run(dict(zip([i["name"] for i in m.report["inputs"]], evaluation.values())))
        for g, w in zip(got.values(), float_reference(MODELS / f"{name}.onnx", evaluation)):
            np.testing.assert_allclose(g.reshape(w.shape), w, rtol=1e-5, atol=1e-6)
        outputs.append(list(got.values()))
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode, floor", [("int16x8", 42), ("float16", 69), ("dynamic", 41)])
def test_other_modes(tmp_path, mode, floor):
    """The unrolled loop is ordinary nodes: the 16x8 C equals its twin bit for bit, and every mode follows
    onnxruntime (SQNR floors: measured, 45.1, 72.1 and 44.4 dB, less 3)."""
    model = rnn_loop()
    x = samples(5, 64)
    conv = mcu_codegen.Converter.from_onnx(save(model, tmp_path))
    conv.mode = mode
    if mode == "int16x8":
        conv.representative_dataset = [{"X": x[:32]}]
        conv.inference_input_type = conv.inference_output_type = "float32"
    m = conv.convert()
    feeds = {"X": x[32:]}
    got = m.build().run(feeds)
    if mode == "int16x8":
        twin = m.reference(feeds)
        for k in got:
            np.testing.assert_array_equal(got[k], twin[k])
    for g, w in zip(got.values(), onnxruntime_outputs(model, x[32:])):
        assert sqnr_db(w, g.reshape(w.shape)) > floor
