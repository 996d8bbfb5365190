"""RESIZE_NEAREST_NEIGHBOR (align_corners, half_pixel_centers; up, down and uneven ratios) against TFLM on
one-operator int8 and int16 files, ONNX Resize mode=nearest (every coordinate_transformation_mode and
nearest_mode, scales and sizes) against onnxruntime, and the C copy against its twin for every element size."""
import numpy as np
import pytest
import tflite
from helpers import copy_kernel_checks, float_graph_equals_onnxruntime, onnx_model, rand_int8, rand_int16
from onnx import helper
from tflite16 import activation_t, const_t, copy_op_equals_tflm, int8_t, one_op_model

from mcu_codegen.ops import resize_nearest

SIZES = [((3, 4), (6, 8)), ((5, 7), (3, 2)), ((4, 4), (7, 5)), ((1, 3), (4, 1)), ((6, 6), (6, 6))]


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("align_corners,half_pixel", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("in_hw,out_hw", SIZES)
def test_equals_tflm(run_kernel, tmp_path, dtype, align_corners, half_pixel, in_hw, out_hw):
    shape, out_shape = (1,) + in_hw + (3,), (1,) + out_hw + (3,)

    def options(b):
        tflite.ResizeNearestNeighborOptionsStart(b)
        tflite.ResizeNearestNeighborOptionsAddAlignCorners(b, align_corners)
        tflite.ResizeNearestNeighborOptionsAddHalfPixelCenters(b, half_pixel)
        return tflite.ResizeNearestNeighborOptionsEnd(b)
    act = (lambda s: int8_t(s, 0.05, 3)) if dtype == np.int8 else (lambda s: activation_t(s, 1e-3))
    model = one_op_model(tflite.BuiltinOperator.RESIZE_NEAREST_NEIGHBOR,
                         tflite.BuiltinOptions.ResizeNearestNeighborOptions, options,
                         [act(shape), const_t(out_hw), act(out_shape)], 1)
    rng = np.random.default_rng(0)
    data = rand_int8(rng, (3,) + shape) if dtype == np.int8 else rand_int16(rng, (3,) + shape)
    copy_op_equals_tflm(run_kernel, tmp_path, model, data, resize_nearest,
                        compile_it=(in_hw, align_corners, half_pixel) == ((3, 4), True, True))


def test_c_equals_int_ref_every_element_size(run_kernel):
    attrs = dict(rows=(0, 0, 2, 1), cols=(4, 3, 3, 0, 1))
    copy_kernel_checks(run_kernel, resize_nearest, attrs, (1, 3, 5, 2), (1, 4, 5, 2),
                       lambda x: x[:, list(attrs["rows"])][:, :, list(attrs["cols"])], -100)


MODES = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
ROUNDING = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


@pytest.mark.parametrize("rounding", ROUNDING)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape,form,value", [((1, 2, 3, 4), "scales", (1, 1, 2, 3)),
                                              ((1, 2, 5, 7), "sizes", (1, 2, 3, 5)),
                                              ((1, 2, 4, 4), "sizes", (1, 2, 7, 9)),
                                              ((1, 2, 6, 4), "scales", (1, 1, 0.5, 1.5))])
def test_onnx_resize_float_graph_equals_onnxruntime(tmp_path, mode, rounding, shape, form, value):
    """The tables follow onnxruntime's float32 formulas; where a coordinate lands within float rounding of a
    tie (7 -> 4 columns, asymmetric, round_prefer_ceil: 3.4999998 for 3.5) onnxruntime 1.32 picks the other
    pixel in a few sizes by arithmetic its source does not show, so these sizes avoid such ties."""
    inits = {"roi": np.array([], np.float32)}
    names = ["x", "roi"]
    if form == "scales":
        inits["scales"] = np.array(value, np.float32)
        names.append("scales")
    else:
        inits["scales"], inits["sizes"] = np.array([], np.float32), np.array(value, np.int64)
        names += ["scales", "sizes"]
    node = helper.make_node("Resize", names, ["y"], mode="nearest", coordinate_transformation_mode=mode,
                            nearest_mode=rounding)
    model = onnx_model([node], [("x", list(shape))], [("y", None)], inits, 13)
    float_graph_equals_onnxruntime(model, np.random.default_rng(2).normal(0, 1, shape).astype(np.float32), tmp_path)


def test_onnx_upsampling_between_convs_through_the_tool(tmp_path):
    """Conv -> Resize x2 (nearest, asymmetric floor: Keras / PyTorch UpSampling) -> Conv: the resize runs on the
    NHWC map, no transpose between the convs; C == reference bit for bit."""
    from helpers import through_the_tool
    rng = np.random.default_rng(3)
    inits = {"w0": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 4, 3, 3)).astype(np.float32),
             "roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 2], np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Resize", ["c", "roi", "scales"], ["u"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             helper.make_node("Conv", ["u", "w1"], ["y"], kernel_shape=[3, 3])]
    model = onnx_model(nodes, [("x", [1, 3, 5, 6])], [("y", [1, 2, 4, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 5, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8", "int16x8"))
    assert ops == ["transpose", "conv2d", "resize_nearest", "conv2d", "transpose"], ops
