"""Pyramid level 3: no two tensors alive at the same time overlap, ever, beyond what the op writing one over
the other allows; the checker itself can fail; and every overlap limit holds in the C kernel at its edge."""
import json

import numpy as np
import pytest
from conftest import C_TYPES, c_kernel, params_struct
from helpers import ftensor, qtensor, rand_int8, rand_int16, stensor, typed
from mlperf import CASES, SHARED, dataset, onnx_path

import mcu_codegen
from mcu_codegen import planner
from mcu_codegen.ops import (add, avg_pool, conv2d, depthwise_conv2d, dequantize, gather, max_pool, quantize,
                              requantize, softmax)
from mcu_codegen.ops import slice as slice_op
from mcu_codegen.reference import NP_TYPES

TFLM_ARENA = {k: v["tflm_min_arena_bytes"]
              for k, v in json.loads((SHARED / "ref" / "tflm_summary.json").read_text())["cases"].items()}
_graphs = {}


def quantized_graph(case):
    if case not in _graphs:
        conv = mcu_codegen.Converter.from_onnx(onnx_path(case))
        conv.representative_dataset = [{"input_1": dataset(case, "calibration", 8)}]
        _graphs[case] = conv.convert().graph
    return _graphs[case]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("strategy", [None, *planner.STRATEGIES])
def test_every_strategy_passes_the_checker(case, strategy):
    graph = planner.schedule(quantized_graph(case), strategy)
    plan = planner.plan(graph, strategy)
    planner.check(graph, plan)
    for node in graph.nodes:  # aliases share bytes: a reshape's output sits exactly on its input
        if node.op == "reshape":
            assert plan.offsets[node.outputs[0]] == plan.offsets[node.inputs[0]]


@pytest.mark.parametrize("case", CASES)
def test_arena_goal(case):
    """Issue 3's goal: at most the live-set lower bound of the model order, and at most 0.7 x TFLM's arena."""
    graph = quantized_graph(case)
    bound = planner.plan(graph, "greedy_by_size", search_iterations=0).lower_bound
    ours = mcu_codegen.Model(graph).arena_size
    assert ours <= bound and ours <= 0.7 * TFLM_ARENA[case], (ours, bound, TFLM_ARENA[case])


def test_checker_rejects_an_overlap():
    graph = quantized_graph("ad")
    plan = planner.plan(graph)
    a, b = graph.nodes[0].inputs[0], graph.nodes[0].outputs[0]  # alive together at node 0, FC: no overlap
    plan.offsets[b] = plan.offsets[a]
    with pytest.raises(AssertionError, match="overlap"):
        planner.check(graph, plan)


def test_checker_rejects_an_overlap_past_the_op_limit():
    graph = quantized_graph("kws")
    plan = planner.plan(graph)
    (y, x), d = next(((y, x), d) for (y, x), d in plan.overlaps.items()
                     if plan.offsets[x] + d >= 0 and d + planner.ALIGN < graph.tensors[x].nbytes)
    plan.offsets[y] = plan.offsets[x] + d + planner.ALIGN  # one step further up than the op allows
    plan.arena_size += 1 << 16
    with pytest.raises(AssertionError, match="overlap"):
        planner.check(graph, plan)


def test_scratch_buffers_are_planned_and_checked():
    """A matrix product's scratch is a buffer of the arena alive while its node runs: placed apart from the
    node's input and output, and the checker refuses it over either."""
    graph = quantized_graph("kws")
    plan = planner.plan(graph)
    planner.check(graph, plan)
    node = next(n for n in graph.nodes if n.scratch and n.params["kernel_h"] == n.params["kernel_w"] == 1)
    in_c = node.params["in_c"]  # the most of a 1x1's forms: DSP's pair of widened rows, Helium's copied rows
    assert node.scratch == max(4 * (in_c & ~3), conv2d.MVE_BLOCK * in_c)
    plan.offsets[planner.scratch_name(node)] = plan.offsets[node.inputs[0]]
    with pytest.raises(AssertionError, match="overlap"):
        planner.check(graph, plan)


def test_checker_rejects_out_of_arena():
    graph = quantized_graph("ad")
    plan = planner.plan(graph)
    plan.offsets[graph.outputs[0]] = plan.arena_size - 4
    with pytest.raises(AssertionError, match="outside the arena"):
        planner.check(graph, plan)


def test_lifetimes_cover_inputs_and_outputs():
    graph = quantized_graph("kws")
    span = planner.lifetimes(graph)
    assert span[graph.inputs[0]][0] == -1 and span[graph.outputs[0]][1] == len(graph.nodes)


def _conv_case(op, hw, c, oc, kernel, stride, pads):
    attrs = dict(kernel=kernel, strides=(stride, stride), dilations=(1, 1), pads=pads, act=None,
                 bias=np.zeros(oc, np.float32))
    rng = np.random.default_rng(0)
    if op is conv2d:
        attrs["weight"] = rng.normal(0, 0.3, (oc,) + kernel + (c,)).astype(np.float32)
    else:
        attrs.update(weight=rng.normal(0, 0.3, kernel + (oc,)).astype(np.float32), depth_multiplier=oc // c)
    return attrs, (1,) + hw + (c,)


OVERLAP_CASES = [
    (conv2d, *_conv_case(conv2d, (9, 7), 3, 8, (3, 3), 1, (1, 1, 1, 1))),
    (conv2d, *_conv_case(conv2d, (9, 7), 8, 4, (1, 1), 1, (0, 0, 0, 0))),
    (conv2d, *_conv_case(conv2d, (9, 7), 4, 12, (1, 1), 1, (0, 0, 0, 0))),  # more outputs than inputs per position
    (conv2d, *_conv_case(conv2d, (9, 7), 4, 12, (1, 1), 2, (0, 0, 0, 0))),  # strided: a product per image row
    (conv2d, *_conv_case(conv2d, (10, 6), 4, 8, (3, 3), 2, (0, 0, 1, 1))),
    (depthwise_conv2d, *_conv_case(depthwise_conv2d, (8, 5), 6, 6, (3, 3), 1, (1, 1, 1, 1))),
    (depthwise_conv2d, *_conv_case(depthwise_conv2d, (8, 6), 3, 6, (3, 3), 2, (1, 1, 1, 1))),
    (max_pool, dict(kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)), (1, 8, 8, 5)),
    (avg_pool, dict(kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1)), (1, 6, 7, 4)),
]


@pytest.mark.parametrize("mod,attrs,in_shape", OVERLAP_CASES)
def test_windowed_kernels_are_exact_at_their_overlap_limit(runtime, mod, attrs, in_shape):
    x = qtensor(in_shape, 0.05, -3)
    out = qtensor(mod.output_shape(attrs, [in_shape]), 0.05 if mod in (max_pool, avg_pool) else 0.02, -3)
    p = mod.prepare(attrs, [x], out)
    data = rand_int8(np.random.default_rng(1), in_shape)
    want = typed(mod.int_ref(p, data[None])[0], out)
    _run_overlapped(runtime, mod, p, [data], want, mod.overlap_limit(p, 0, x, out))
    # the portable faster forms the host compiles (the DSP and Helium ones: tests/test_variants.py on QEMU)
    for macro, function in (getattr(mod, "variants", lambda *a: None)(p, "int8") or []):
        if macro is None:
            _run_overlapped(runtime, mod, p, [data], want, mod.overlap_limit(p, 0, x, out), function)


@pytest.mark.parametrize("mod", [add, softmax, quantize, dequantize])
def test_elementwise_kernels_are_exact_at_their_overlap_limit(runtime, mod):
    rng = np.random.default_rng(2)
    shape = (3, 16)
    x, out = qtensor(shape, 0.05, 4), qtensor(shape, 0.05, -2)
    if mod is add:
        p, data = add.prepare({}, [x, x], out), [rand_int8(rng, shape), rand_int8(rng, shape)]
    elif mod is softmax:
        p, data = softmax.prepare({}, [x], qtensor(shape, *softmax.OUTPUT_QUANT["int8"])), [rand_int8(rng, shape)]
    elif mod is quantize:
        p, data = quantize.prepare({}, [x], out), [rng.normal(0, 2, shape).astype(np.float32)]
    else:
        out = qtensor(shape, 1, 0, dtype="float32")
        p, data = dequantize.prepare({}, [x], out), [rand_int8(rng, shape)]
    want = typed(mod.int_ref(p, *[d[None] for d in data])[0], out)
    _run_overlapped(runtime, mod, p, data, want, mod.overlap_limit(p, 0, x, out))


def _run_overlapped(runtime, mod, params, inputs, want, limit, function=None):
    """The first input and the output in one buffer, the output exactly `limit` bytes above the input; `function`:
    a faster form of the op's kernel instead of the kernel."""
    ffi, lib = runtime
    size = inputs[0].nbytes + want.nbytes + abs(limit) + 64
    arena = ffi.new("uint8_t[]", size)
    in_off = max(0, -limit) + 16
    out_off = in_off + limit
    ffi.memmove(arena + in_off, inputs[0].tobytes(), inputs[0].nbytes)
    kernel, params_type = c_kernel(mod, inputs[0].dtype, want.dtype)
    function = function or kernel
    struct, keep = params_struct(ffi, params_type, params)
    others = [ffi.new(f"{C_TYPES[extra.dtype]}[]", extra.ravel().tolist()) for extra in inputs[1:]]
    getattr(lib, function)(struct, ffi.cast("void *", arena + in_off),
                                 *others, ffi.cast("void *", arena + out_off))
    got = np.frombuffer(ffi.buffer(arena + out_off, want.nbytes), dtype=want.dtype).reshape(want.shape)
    np.testing.assert_array_equal(got, want)


def _tensor_of(dtype, shape, scale=0.05):
    return ftensor(shape) if dtype == "float32" else stensor(shape, scale * 1e-2)


def _data(rng, dtype, shape):
    return rng.normal(0, 1, shape).astype(np.float32) if dtype == "float32" else rand_int16(rng, shape)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
@pytest.mark.parametrize("mod,attrs,in_shape", OVERLAP_CASES)
def test_windowed_16x8_and_float32_kernels_are_exact_at_their_overlap_limit(run_kernel, runtime, dtype, mod, attrs,
                                                                            in_shape):
    """The overlap limits are in bytes: the same derivation holds for 2- and 4-byte elements. The kernel at
    its limit must give what it gives with separate buffers."""
    x = _tensor_of(dtype, in_shape)
    out = _tensor_of(dtype, mod.output_shape(attrs, [in_shape]), 0.05 if mod in (max_pool, avg_pool) else 0.02)
    p = mod.prepare(attrs, [x], out)
    data = _data(np.random.default_rng(1), dtype, in_shape)
    want = run_kernel(mod, p, [data], out.shape, data.dtype)
    _run_overlapped(runtime, mod, p, [data], want, mod.overlap_limit(p, 0, x, out))


@pytest.mark.parametrize("case", ["add16", "addf", "softmax16", "softmaxf", "up", "down", "quantize16",
                                  "dequantize16"])
def test_elementwise_16x8_and_float32_kernels_are_exact_at_their_overlap_limit(run_kernel, runtime, case):
    rng = np.random.default_rng(2)
    shape = (3, 16)
    s16, s8, f = stensor(shape, 1e-3), qtensor(shape, 0.05, 4), ftensor(shape)
    cases = {
        "add16": (add, {}, [s16, s16], s16), "addf": (add, {}, [f, f], f),
        "softmax16": (softmax, {}, [s16], stensor(shape, *softmax.OUTPUT_QUANT["int16"])),
        "softmaxf": (softmax, {}, [f], f), "up": (requantize, {}, [s8], s16), "down": (requantize, {}, [s16], s8),
        "quantize16": (quantize, {}, [f], s16), "dequantize16": (dequantize, {}, [s16], f)}
    mod, attrs, ins, out = cases[case]
    p = mod.prepare(attrs, ins, out)
    data = [rng.normal(0, 2, shape).astype(np.float32) if t.dtype == "float32" else
            rand_int16(rng, shape) if t.dtype == "int16" else rand_int8(rng, shape) for t in ins]
    want = run_kernel(mod, p, data, out.shape, NP_TYPES[out.dtype])
    _run_overlapped(runtime, mod, p, data, want, mod.overlap_limit(p, 0, ins[0], out))


COPY_CASES = [  # (op, attrs, input shape): the last slice of a split, a slice of rows, a reversed and an ordered gather
    (slice_op, dict(begin=(0, 0, 0, 4), size=(1, 5, 6, 4), step=(1, 1, 1, 1)), (1, 5, 6, 8)),
    (slice_op, dict(begin=(0, 2, 1, 0), size=(1, 3, 4, 3), step=(1, 1, 1, 1)), (1, 5, 6, 3)),
    (slice_op, dict(begin=(0, 4, 0, 0), size=(1, 3, 6, 3), step=(1, -2, 1, 1)), (1, 5, 6, 3)),
    (gather, dict(axis=3, indices=(0, 2, 3), shape=(1, 4, 5, 3)), (1, 4, 5, 6)),
]


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
@pytest.mark.parametrize("mod,attrs,in_shape", COPY_CASES)
def test_copy_kernels_are_exact_at_their_overlap_limit(run_kernel, runtime, dtype, mod, attrs, in_shape):
    """Copies that read their input in increasing order may write over it (a split's last part in place);
    the others (here a reversed slice) must not overlap it at all."""
    make = {"int8": lambda s: qtensor(s, 0.05, 3), "int16": lambda s: stensor(s, 1e-3), "float32": ftensor}[dtype]
    x, out = make(in_shape), make(mod.output_shape(attrs, [in_shape]))
    p = mod.prepare(attrs, [x], out)
    limit = mod.overlap_limit(p, 0, x, out)
    if min(attrs.get("step", (1,))) < 0:
        assert limit is None
        return
    assert limit >= 0
    rng = np.random.default_rng(3)
    data = _data(rng, dtype, in_shape) if dtype != "int8" else rand_int8(rng, in_shape)
    want = run_kernel(mod, p, [data], out.shape, data.dtype)
    _run_overlapped(runtime, mod, p, [data], want, limit)
