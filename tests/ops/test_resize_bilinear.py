"""RESIZE_BILINEAR int8 against TFLM on one-operator files (align_corners, half_pixel_centers; up, down and
uneven ratios), the C kernels against their twins (int8 bit for bit, float32 within float rounding), the integer
twin within two steps of the float reference, and ONNX Resize mode=linear against onnxruntime and through the
tool."""
import numpy as np
import pytest
import tflite
from helpers import float_graph_equals_onnxruntime, ftensor, onnx_model, qtensor, rand_int8
from onnx import helper
from tflite16 import const_t, copy_op_equals_tflm, int8_t, one_op_model

from mcu_codegen.ops import resize_bilinear as rb

SIZES = [((3, 4), (6, 8)), ((5, 7), (3, 2)), ((4, 4), (7, 5)), ((1, 3), (4, 1)), ((2, 2), (9, 9)), ((6, 6), (6, 6))]
FLAGS = [(False, False), (True, False), (False, True)]  # TFLM refuses both together


@pytest.mark.parametrize("align_corners,half_pixel", FLAGS)
@pytest.mark.parametrize("in_hw,out_hw", SIZES)
def test_int8_equals_tflm(run_kernel, tmp_path, align_corners, half_pixel, in_hw, out_hw):
    shape, out_shape = (1,) + in_hw + (3,), (1,) + out_hw + (3,)

    def options(b):
        tflite.ResizeBilinearOptionsStart(b)
        tflite.ResizeBilinearOptionsAddAlignCorners(b, align_corners)
        tflite.ResizeBilinearOptionsAddHalfPixelCenters(b, half_pixel)
        return tflite.ResizeBilinearOptionsEnd(b)
    model = one_op_model(tflite.BuiltinOperator.RESIZE_BILINEAR, tflite.BuiltinOptions.ResizeBilinearOptions, options,
                         [int8_t(shape, 0.05, -5), const_t(out_hw), int8_t(out_shape, 0.05, -5)], 1)
    data = rand_int8(np.random.default_rng(0), (4,) + shape)
    data[0], data[1] = -128, 127
    want = copy_op_equals_tflm(run_kernel, tmp_path, model, data, rb,
                               compile_it=(in_hw, align_corners, half_pixel) == ((3, 4), False, True))
    print(f"RESIZE_BILINEAR {in_hw} -> {out_hw} align {align_corners} half {half_pixel}: {want[0].size} equal to TFLM")


@pytest.mark.parametrize("align_corners,half_pixel", FLAGS)
@pytest.mark.parametrize("in_hw,out_hw", SIZES)
def test_twins_and_float_reference(run_kernel, align_corners, half_pixel, in_hw, out_hw):
    """int8: the C equals the twin, and the twin is within two steps of the float reference on the same
    values (TFLM's coordinates step by a scale rounded to 1/1024, 228 for 2 -> 9 instead of 227.6, and the
    sum is rounded once more); float32: the C within float rounding of the float reference."""
    rng = np.random.default_rng(1)
    attrs = dict(out_hw=out_hw, align_corners=align_corners, half_pixel=half_pixel)
    shape, out_shape = (1,) + in_hw + (5,), (1,) + out_hw + (5,)
    x, out = qtensor(shape, 0.05, 7), qtensor(out_shape, 0.05, 7)
    p = rb.prepare(attrs, [x], out)
    data = rand_int8(rng, shape)
    want = rb.int_ref(p, data[None])[0].reshape(out_shape)
    np.testing.assert_array_equal(run_kernel(rb, p, [data], out_shape), want)
    exact = rb.float_ref(attrs, data.astype(np.float32)[None])[0].reshape(out_shape)
    assert np.abs(want - exact).max() <= 2.0
    xf = rng.normal(0, 1, shape).astype(np.float32)
    pf = rb.prepare(attrs, [ftensor(shape)], ftensor(out_shape))
    got = run_kernel(rb, pf, [xf], out_shape, np.float32)
    np.testing.assert_allclose(got, rb.float_ref(attrs, xf[None])[0].reshape(out_shape), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["half_pixel", "align_corners", "asymmetric"])
@pytest.mark.parametrize("shape,sizes", [((1, 2, 3, 4), (1, 2, 6, 8)), ((1, 2, 5, 7), (1, 2, 3, 4)),
                                         ((1, 1, 4, 4), (1, 1, 7, 9))])
def test_onnx_linear_float_graph_equals_onnxruntime(tmp_path, mode, shape, sizes):
    node = helper.make_node("Resize", ["x", "roi", "scales", "sizes"], ["y"], mode="linear",
                            coordinate_transformation_mode=mode)
    inits = {"roi": np.array([], np.float32), "scales": np.array([], np.float32), "sizes": np.array(sizes, np.int64)}
    model = onnx_model([node], [("x", list(shape))], [("y", None)], inits, 13)
    x = np.random.default_rng(2).normal(0, 1, shape).astype(np.float32)
    float_graph_equals_onnxruntime(model, x, tmp_path, rtol=1e-5, atol=1e-6)


def test_onnx_linear_between_convs_through_the_tool(tmp_path):
    """Conv -> Resize x2 linear (half_pixel) -> Conv: int8 C == reference bit for bit, on the NHWC map."""
    from helpers import through_the_tool
    rng = np.random.default_rng(3)
    inits = {"w0": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
             "w1": rng.normal(0, 0.5, (2, 4, 3, 3)).astype(np.float32),
             "roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 2], np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w0"], ["c"], kernel_shape=[3, 3]),
             helper.make_node("Resize", ["c", "roi", "scales"], ["u"], mode="linear"),
             helper.make_node("Conv", ["u", "w1"], ["y"], kernel_shape=[3, 3])]
    model = onnx_model(nodes, [("x", [1, 3, 5, 6])], [("y", [1, 2, 4, 6])], inits, 13)
    x = rng.normal(0, 1, (16, 1, 3, 5, 6)).astype(np.float32)
    ops = through_the_tool(model, x, tmp_path, modes=("int8",))
    assert ops == ["transpose", "conv2d", "resize_bilinear", "conv2d", "transpose"], ops


def test_16x8_linear_resize_is_a_one_line_error_naming_the_node(tmp_path):
    """TFLM has no int16 RESIZE_BILINEAR, neither do we: the 16x8 mode refuses the node by name."""
    import onnx

    import mcu_codegen
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear", name="up2")
    model = onnx_model([node], [("x", [1, 2, 3, 3])], [("y", None)],
                       {"roi": np.array([], np.float32), "scales": np.array([1, 1, 2, 2], np.float32)}, 13)
    onnx.save(model, tmp_path / "m.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / "m.onnx")
    conv.mode = "int16x8"
    conv.representative_dataset = [{"x": np.random.default_rng(4).normal(0, 1, (16, 1, 2, 3, 3)).astype(np.float32)}]
    with pytest.raises(mcu_codegen.ir.ConversionError, match=r"node 'up2' \(resize_bilinear\): no int16 kernel"):
        conv.convert()


@pytest.mark.slow
@pytest.mark.parametrize("board", ["mps2-an385-m0plus", "mps3-an547"])
def test_emulated_cores_equal_tflm(tmp_path, board):
    """The int8 kernel cross-built for a Cortex-M0+ and a Cortex-M55, run in QEMU: TFLM's outputs."""
    from tflite16 import converted, run_tflm

    from mcu_codegen import boards, target

    def options(b):
        tflite.ResizeBilinearOptionsStart(b)
        tflite.ResizeBilinearOptionsAddHalfPixelCenters(b, True)
        return tflite.ResizeBilinearOptionsEnd(b)
    model = one_op_model(tflite.BuiltinOperator.RESIZE_BILINEAR, tflite.BuiltinOptions.ResizeBilinearOptions, options,
                         [int8_t((1, 3, 5, 4), 0.05, -5), const_t((7, 9)), int8_t((1, 7, 9, 4), 0.05, -5)], 1)
    data = rand_int8(np.random.default_rng(5), (3, 1, 3, 5, 4))
    m = converted(model, tmp_path)
    meta = m.report["inputs"][0]
    got, _ = target.run_on_board(m.save(tmp_path / "project"), m.report, boards.load(board), {meta["name"]: data})
    want = run_tflm(model, [data])
    np.testing.assert_array_equal(next(iter(got.values())).reshape(want.shape), want)
