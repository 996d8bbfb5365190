"""Slices of every form (TFLite SLICE, STRIDED_SLICE with its masks, SPLIT, SPLIT_V, UNPACK; ONNX Slice and
Split): the imported float graph vs onnxruntime, the C copy vs its twin bit for bit for every element size over
every axis and negative steps, TFLM on one-operator int8 and int16 files (several outputs included), and ONNX
Split/Slice of an NCHW map through the tool with the layout transposes cancelled."""
import numpy as np
import pytest
import tflite
from helpers import (copy_kernel_checks, float_graph_equals_onnxruntime, onnx_model, qtensor, rand_int8, rand_int16,
                     stensor)
from onnx import helper
from tflite16 import activation_t, const_t, converted, copy_op_equals_tflm, int8_t, one_op_model

import mcu_codegen
from mcu_codegen.ops import slice as slice_op

# (input shape, begin, size, step): each axis of an NHWC map, whole rows, single positions, negative steps,
# ranks 1 to 5
CASES = [((1, 6, 5, 3), (0, 1, 0, 0), (1, 4, 5, 3), (1, 1, 1, 1)),
         ((1, 6, 5, 3), (0, 0, 1, 0), (1, 6, 3, 3), (1, 1, 1, 1)),
         ((1, 6, 5, 3), (0, 0, 0, 1), (1, 6, 5, 2), (1, 1, 1, 1)),
         ((1, 6, 5, 3), (0, 5, 4, 2), (1, 3, 2, 3), (1, -2, -3, -1)),
         ((2, 3, 4), (1, 0, 3), (1, 3, 1), (1, 1, 1)), ((9,), (8,), (5,), (-2,)), ((7, 5), (1, 0), (3, 5), (2, 1)),
         ((1, 2, 3, 4, 5), (0, 1, 0, 1, 4), (1, 1, 2, 3, 3), (1, 1, 2, 1, -2))]


@pytest.mark.parametrize("shape,begin,size,step", CASES)
def test_c_equals_int_ref_every_element_size(run_kernel, shape, begin, size, step):
    def expected(x):  # the positions listed one by one
        return x[np.ix_(*[b + s * np.arange(n) for b, n, s in zip(begin, size, step)])]
    copy_kernel_checks(run_kernel, slice_op, dict(begin=begin, size=size, step=step), shape, size, expected, -3)


def test_contiguous_parts_are_one_run():
    """A slice of rows of an NHWC map is one run of bytes, a slice of channels one run per pixel, a single row
    one run from a base offset: no per-element walk."""
    def params(begin, size, make):
        shape = (1, 6, 5, 4)
        return slice_op.prepare(dict(begin=begin, size=size, step=(1, 1, 1, 1)), [make(shape)], make(size))
    p = params((0, 2, 0, 0), (1, 3, 5, 4), lambda s: qtensor(s, 1, 0))
    assert (p["rank"], p["base"], p["run"], p["count"]) == (0, 40, 60, 1)
    p = params((0, 0, 0, 1), (1, 6, 5, 2), lambda s: stensor(s, 1))
    assert (p["rank"], p["dims"][:2], p["base"], p["run"], p["count"]) == (2, [6, 5], 2, 4, 30)
    p = params((0, 0, 0, 0), (1, 6, 5, 4), lambda s: qtensor(s, 1, 0))
    assert (p["rank"], p["base"], p["run"], p["count"]) == (0, 0, 120, 1)


# -- ONNX ------------------------------------------------------------------------------------------------------
# (starts, ends, axes, steps) of Slice on a (1, 5, 6, 4) tensor: negative axes and indices, ends past the end,
# INT64 extremes, negative steps, an axis given twice is not allowed so each appears once
BIG = np.iinfo(np.int64).max
ONNX_SLICES = [([1, 0], [4, 9], [1, 3], None), ([-3], [BIG], [-2], None), ([5, -1], [-BIG, 0], [2, 1], [-2, -1]),
               ([0, 1, 1, 0], [1, 5, 6, 4], None, [1, 2, 3, 1]), ([-1], [-BIG], [0], [-1]),
               ([4, 0], [0, 4], [-3, 3], [-1, 3])]


def _onnx_slice(starts, ends, axes, steps, opset=13):
    inits = {"starts": np.array(starts, np.int64), "ends": np.array(ends, np.int64)}
    names = ["x", "starts", "ends"]
    if axes is not None or steps is not None:
        inits["axes"] = np.array(axes if axes is not None else range(len(starts)), np.int64)
        names.append("axes")
    if steps is not None:
        inits["steps"] = np.array(steps, np.int64)
        names.append("steps")
    return onnx_model([helper.make_node("Slice", names, ["y"])], [("x", [1, 5, 6, 4])], [("y", None)], inits, opset)


@pytest.mark.parametrize("starts,ends,axes,steps", ONNX_SLICES)
def test_onnx_slice_float_graph_equals_onnxruntime(tmp_path, starts, ends, axes, steps):
    x = np.random.default_rng(1).normal(0, 1, (1, 5, 6, 4)).astype(np.float32)
    conv = float_graph_equals_onnxruntime(_onnx_slice(starts, ends, axes, steps), x, tmp_path)
    assert [n.op for n in conv.graph.nodes] == ["slice"]


@pytest.mark.parametrize("form", ["attribute", "input", "equal", "num_outputs"])
def test_onnx_split_every_opset_form(tmp_path, form):
    """opset 11's split attribute, 13's split input, equal parts without either, 18's num_outputs (uneven)."""
    inits, attrs, opset, n, shape = {}, dict(axis=-1), 13, 3, (2, 3, 6)
    names = ["x"]
    if form == "attribute":
        attrs["split"], opset = [1, 3, 2], 11
    elif form == "input":
        inits["split"] = np.array([2, 1, 3], np.int64)
        names.append("split")
    elif form == "num_outputs":
        attrs["num_outputs"], opset, n, shape = 4, 18, 4, (2, 3, 7)
    node = helper.make_node("Split", names, [f"y{j}" for j in range(n)], **attrs)
    model = onnx_model([node], [("x", shape)], [(f"y{j}", None) for j in range(n)], inits, opset)
    x = np.random.default_rng(2).normal(0, 1, shape).astype(np.float32)
    conv = float_graph_equals_onnxruntime(model, x, tmp_path)
    assert len(conv.graph.outputs) == n and [n.op for n in conv.graph.nodes] == ["slice"] * n


def test_onnx_split_of_nchw_map_through_the_tool(tmp_path):
    """Conv -> Split on channels (NCHW axis 1) -> two Convs -> Concat: the slices run on the NHWC map (no
    transpose left between the convs), int8 / 16x8 C == reference bit for bit, float graph == onnxruntime (the
    float32 C differs from it by the convolutions' summation order, beyond the helper's tolerance here)."""
    from helpers import through_the_tool
    rng = np.random.default_rng(3)
    inits = {"w0": rng.normal(0, 0.5, (6, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 2, 1, 1)).astype(np.float32),
             "w2": rng.normal(0, 0.5, (3, 4, 3, 3)).astype(np.float32), "split": np.array([2, 4], np.int64),
             "starts": np.array([1], np.int64), "ends": np.array([-1], np.int64), "axes": np.array([3], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Split", ["c", "split"], ["a", "b"], axis=1),
             helper.make_node("Conv", ["a", "w1"], ["a1"], kernel_shape=[1, 1]),
             helper.make_node("Conv", ["b", "w2"], ["b1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Concat", ["a1", "b1"], ["cat"], axis=1),
             helper.make_node("Slice", ["cat", "starts", "ends", "axes"], ["y"])]
    model = onnx_model(nodes, [("x", [1, 3, 6, 7])], [("y", [1, 5, 6, 5])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 6, 7)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8"))
    assert ops.count("slice") == 3 and "transpose" not in ops[1:-1], ops


# -- TFLite: TFLM's arithmetic (a copy) on one-operator files ----------------------------------------------------
def _act(dtype, shape):
    return int8_t(shape, 0.05, -7) if dtype == np.int8 else activation_t(shape, 1e-3)


def _data(dtype, shape, seed=4):
    rng = np.random.default_rng(seed)
    return rand_int8(rng, (3,) + shape) if dtype == np.int8 else rand_int16(rng, (3,) + shape)


def _no_options(b):
    return None


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("shape,begin,size", [((1, 6, 5, 3), (0, 1, 2, 0), (1, 4, -1, 3)), ((4, 7), (1, 2), (2, 5)),
                                              ((2, 3, 4, 5, 2), (1, 0, 1, 2, 0), (1, 3, 2, 3, 1))])
def test_slice_equals_tflm(run_kernel, tmp_path, dtype, shape, begin, size):
    out_shape = tuple(n - b if s == -1 else s for b, s, n in zip(begin, size, shape))
    model = one_op_model(tflite.BuiltinOperator.SLICE, tflite.BuiltinOptions.SliceOptions, _no_options,
                         [_act(dtype, shape), const_t(begin), const_t(size), _act(dtype, out_shape)], 1)
    copy_op_equals_tflm(run_kernel, tmp_path, model, _data(dtype, shape), slice_op, compile_it=shape == (4, 7))


def _strided_options(begin_mask, end_mask, shrink, offset=False):
    def options(b):
        tflite.StridedSliceOptionsStart(b)
        tflite.StridedSliceOptionsAddBeginMask(b, begin_mask)
        tflite.StridedSliceOptionsAddEndMask(b, end_mask)
        tflite.StridedSliceOptionsAddShrinkAxisMask(b, shrink)
        tflite.StridedSliceOptionsAddOffset(b, offset)
        return tflite.StridedSliceOptionsEnd(b)
    return options


# (input shape, begin, end, strides, begin_mask, end_mask, shrink_axis_mask, offset); TFLM ignores offset (its
# Prepare computes the shape without it), so offset=True is refused (test_bad_slices_are_one_line_errors)
STRIDED = [((1, 6, 5, 3), (0, 1, 0, 0), (1, 5, 5, 3), (1, 2, 1, 1), 0, 0, 0, False),
           ((1, 6, 5, 3), (0, -1, -2, 2), (1, -7, 0, -9), (1, -1, -2, -1), 0, 0, 0, False),
           ((1, 6, 5, 3), (0, 3, 9, 1), (0, 6, -9, 0), (1, 1, -1, 1), 0b1101, 0b1001, 0, False),
           ((1, 6, 5, 3), (0, 2, -1, 0), (1, 3, 0, 3), (1, 1, 1, 1), 0, 0b1000, 0b0110, False),
           ((2, 5, 4), (1, 1, 0), (1, 3, 4), (1, 1, 2), 0, 0, 0b001, False),
           ((2, 5, 4), (0, 1, 3), (2, 2, -2), (1, 2, -1), 0, 0, 0, False),
           ((8,), (-2,), (-100,), (-3,), 0, 0, 0, False), ((3, 4), (1, 2), (2, 3), (1, 1), 0, 0, 0b11, False),
           ((3, 4), (-1, 1), (0, 3), (1, 1), 0b01, 0, 0b01, False)]


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("shape,begin,end,strides,begin_mask,end_mask,shrink,offset", STRIDED)
def test_strided_slice_equals_tflm(run_kernel, tmp_path, dtype, shape, begin, end, strides, begin_mask, end_mask,
                                   shrink, offset):
    data = _data(dtype, shape)
    want_shape = _strided_shape(shape, begin, end, strides, begin_mask, end_mask, shrink, offset)
    model = one_op_model(tflite.BuiltinOperator.STRIDED_SLICE, tflite.BuiltinOptions.StridedSliceOptions,
                         _strided_options(begin_mask, end_mask, shrink, offset),
                         [_act(dtype, shape), const_t(begin), const_t(end), const_t(strides),
                          _act(dtype, want_shape)], 1)
    want = copy_op_equals_tflm(run_kernel, tmp_path, model, data, slice_op,
                               compile_it=(dtype, shape) == (np.int8, (8,)))
    assert want[0].shape[1:] == want_shape
    print(f"STRIDED_SLICE {shape} {begin}:{end}:{strides} masks {begin_mask},{end_mask},{shrink}: "
          f"{want[0].size} outputs equal to TFLM")


def _strided_shape(shape, begin, end, strides, begin_mask, end_mask, shrink, offset):
    """The output shape by Python's own slicing (an independent statement of the masks' meaning)."""
    index = []
    for ax, (b, e, s) in enumerate(zip(begin, end, strides)):
        if shrink & (1 << ax):  # TFLM: begin_mask applies to a shrunk axis too (its first position)
            index.append(0 if begin_mask & (1 << ax) else b)
            continue
        e = b + e if offset else e
        index.append(slice(None if begin_mask & (1 << ax) else b, None if end_mask & (1 << ax) else e, s))
    return np.empty(shape)[tuple(index)].shape


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("shape,axis,parts", [((1, 4, 6, 6), 3, 3), ((1, 4, 6, 6), -3, 2), ((6, 2), 0, 6)])
def test_split_equals_tflm(run_kernel, tmp_path, dtype, shape, axis, parts):
    """SPLIT's input 0 is the axis, input 1 the tensor: the graph input comes second."""
    def options(b):
        tflite.SplitOptionsStart(b)
        tflite.SplitOptionsAddNumSplits(b, parts)
        return tflite.SplitOptionsEnd(b)
    out = list(shape)
    out[axis] //= parts
    tensors = [_act(dtype, shape), dict(const_t([axis]), shape=())] + [_act(dtype, tuple(out)) for _ in range(parts)]
    model = one_op_model(tflite.BuiltinOperator.SPLIT, tflite.BuiltinOptions.SplitOptions, options, tensors, 1, parts,
                         op_inputs=[1, 0])
    copy_op_equals_tflm(run_kernel, tmp_path, model, _data(dtype, shape), slice_op, parts, compile_it=shape == (6, 2))


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("shape,axis,sizes", [((1, 5, 4, 7), 3, (2, -1, 4)), ((1, 5, 4, 7), 1, (1, 3, 1)),
                                              ((3, 8), -1, (5, 3))])
def test_split_v_equals_tflm(run_kernel, tmp_path, dtype, shape, axis, sizes):
    def options(b):
        tflite.SplitVOptionsStart(b)
        tflite.SplitVOptionsAddNumSplits(b, len(sizes))
        return tflite.SplitVOptionsEnd(b)
    n = shape[axis]
    real = [n - (sum(sizes) + 1) if s == -1 else s for s in sizes]
    outs = [tuple(s if d == axis % len(shape) else e for d, e in enumerate(shape)) for s in real]
    tensors = [_act(dtype, shape), const_t(sizes), dict(const_t([axis]), shape=())] + [_act(dtype, o) for o in outs]
    model = one_op_model(tflite.BuiltinOperator.SPLIT_V, tflite.BuiltinOptions.SplitVOptions, options, tensors, 1,
                         len(outs))
    copy_op_equals_tflm(run_kernel, tmp_path, model, _data(dtype, shape), slice_op, len(outs))


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("shape,axis", [((1, 3, 4, 2), 1), ((1, 3, 4, 2), -1), ((4, 3), 0)])
def test_unpack_equals_tflm(run_kernel, tmp_path, dtype, shape, axis):
    n = shape[axis]

    def options(b):
        tflite.UnpackOptionsStart(b)
        tflite.UnpackOptionsAddNum(b, n)
        tflite.UnpackOptionsAddAxis(b, axis)
        return tflite.UnpackOptionsEnd(b)
    out = tuple(d for k, d in enumerate(shape) if k != axis % len(shape))
    model = one_op_model(tflite.BuiltinOperator.UNPACK, tflite.BuiltinOptions.UnpackOptions, options,
                         [_act(dtype, shape)] + [_act(dtype, out) for _ in range(n)], 1, n)
    copy_op_equals_tflm(run_kernel, tmp_path, model, _data(dtype, shape), slice_op, n, compile_it=shape == (4, 3))


def test_bad_slices_are_one_line_errors(tmp_path):
    model = one_op_model(tflite.BuiltinOperator.SLICE, tflite.BuiltinOptions.SliceOptions, _no_options,
                         [_act(np.int8, (4, 7)), const_t((1, 2)), const_t((4, 5)), _act(np.int8, (4, 5))], 1)
    with pytest.raises(mcu_codegen.ir.ConversionError, match=r"operator 0 \(SLICE\): begin \[1, 2\] and size"):
        converted(model, tmp_path)
    model = one_op_model(tflite.BuiltinOperator.STRIDED_SLICE, tflite.BuiltinOptions.StridedSliceOptions,
                         _strided_options(0, 0, 0), [_act(np.int8, (4,)), const_t((1,)), const_t((3,)), const_t((0,)),
                                                     _act(np.int8, (2,))], 1)
    with pytest.raises(mcu_codegen.ir.ConversionError, match="a stride of 0 on axis 0"):
        converted(model, tmp_path)
    model = one_op_model(tflite.BuiltinOperator.STRIDED_SLICE, tflite.BuiltinOptions.StridedSliceOptions,
                         _strided_options(0, 0, 0, True), [_act(np.int8, (4,)), const_t((1,)), const_t((2,)),
                                                           const_t((1,)), _act(np.int8, (2,))], 1)
    with pytest.raises(mcu_codegen.ir.ConversionError, match="offset are not supported"):
        converted(model, tmp_path)


def _cli_error(path, calibration=None):
    import subprocess
    import sys
    args = [sys.executable, "-m", "mcu_codegen.cli", "convert", str(path), "-o", str(path.parent / "out")]
    args += ["--calibration", str(calibration)] if calibration else []
    r = subprocess.run(args, capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert not (path.parent / "out").exists()
    return lines[0]


def test_bad_data_movements_are_one_line_errors_from_the_cli(tmp_path):
    """Exit status 2, one line naming the file and the node or operator, nothing written."""
    import onnx

    def ellipsis(b):
        tflite.StridedSliceOptionsStart(b)
        tflite.StridedSliceOptionsAddEllipsisMask(b, 1)
        return tflite.StridedSliceOptionsEnd(b)
    (tmp_path / "ss.tflite").write_bytes(one_op_model(
        tflite.BuiltinOperator.STRIDED_SLICE, tflite.BuiltinOptions.StridedSliceOptions, ellipsis,
        [_act(np.int8, (4, 3)), const_t((1, 0)), const_t((3, 3)), const_t((1, 1)), _act(np.int8, (2, 3))], 1))
    line = _cli_error(tmp_path / "ss.tflite")
    assert "ss.tflite: operator 0 (STRIDED_SLICE): ellipsis_mask" in line, line

    def batch_dims(b):
        tflite.GatherOptionsStart(b)
        tflite.GatherOptionsAddAxis(b, 1)
        tflite.GatherOptionsAddBatchDims(b, 1)
        return tflite.GatherOptionsEnd(b)
    (tmp_path / "g.tflite").write_bytes(one_op_model(
        tflite.BuiltinOperator.GATHER, tflite.BuiltinOptions.GatherOptions, batch_dims,
        [_act(np.int8, (2, 3)), const_t([[0], [2]]), _act(np.int8, (2, 1))], 1))
    assert "operator 0 (GATHER): batch_dims other than 0" in _cli_error(tmp_path / "g.tflite")
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], name="up", mode="cubic")
    onnx.save(onnx_model([node], [("x", [1, 2, 3, 3])], [("y", None)],
                         {"roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 2], np.float32)}, 13),
              tmp_path / "r.onnx")
    np.savez(tmp_path / "c.npz", x=np.zeros((16, 1, 2, 3, 3), np.float32))
    assert "r.onnx: node 'up' (Resize): mode 'cubic'" in _cli_error(tmp_path / "r.onnx", tmp_path / "c.npz")
