"""The DSP matrix product's edges (runtime_c/include/mcu_gemm_s8.h: the 2 x 2 blocks of a row pair summed in
chunks of 16 outputs by mcu_gemm_dsp_sums_asm, eight depth steps per pass, four alone, the last depth % 4 in C;
one row by mcu_gemv_dsp_asm), on the cores that run it (M4, M7, M33), equal to the NumPy twin bit for bit, the
input zero point at -128 and 127. test_variants.py's edge model covers depths of 5, 7, 17 and 261; this one the
depths where the assembly's passes are empty or exact (2, 3, 4, 8, 12, 32, 96) and output counts at the chunk's
edges (32: two whole chunks; 33: and an odd last output alone); and the general convolution's pairs of windows
widened straight from the input (mcu_conv2d_dsp_s8: both inside, a kernel row of whole words) next to gathered
ones."""
import numpy as np
import pytest
from helpers import onnx_model
from onnx import helper
from test_variants import _equals_reference, _on_board_equals_reference, _one_sign_converter

DSP_CORES = ["mps2-an386", "mps2-an500", "mps2-an505"]


def gemm_model(rng):
    """NCHW (1, 3, 5, 3), 15 positions (an odd row count): 1x1 convolutions 3->8 (depth below 4: no assembly
    step), 8->4 (one eight-step pass), 4->12 (one four-step pass alone), 12->32 (a pass and a four-step one; two
    whole chunks of outputs), 32->33 (two chunks and an odd last output), 33->16 of stride 2 (depth 32 + 1; rows
    per output image row); Flatten, Gemm 96->12 (one row, twelve eight-step passes), Reshape to 8 rows of 12 and
    MatMul 12->7 (a fully connected layer of 8 rows: pairs of rows, depth 12, an odd output count), Flatten,
    Gemm 56->2, Gemm 2->5 (one row of depth 2: no assembly step; a group of four and one alone). General
    convolutions with kernel rows of whole words: 3x3 pad 1 8->5 (15 positions: pairs inside the input widened
    from it, the others gathered, an odd last one), 2x2 32->7 (every pair inside), 2x1 of dilation (2, 1) 12->3
    (9 positions inside), 3x1 padded at the bottom only 12->4 (a last row of windows over the bottom edge alone)."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w1": w(8, 3, 1, 1), "b1": w(8), "w2": w(4, 8, 1, 1), "b2": w(4), "w3": w(12, 4, 1, 1), "b3": w(12),
             "w4": w(32, 12, 1, 1), "b4": w(32), "w5": w(33, 32, 1, 1) * 0.5, "b5": w(33),
             "w6": w(16, 33, 1, 1) * 0.5, "b6": w(16), "f1": w(12, 96) * 0.3, "c1": w(12),
             "shape": np.array([8, 12], np.int64), "m1": w(12, 7), "f2": w(2, 56) * 0.3, "c2": w(2),
             "f3": w(5, 2), "c3": w(5), "k1": w(5, 8, 3, 3) * 0.5, "e1": w(5), "k2": w(7, 32, 2, 2) * 0.3,
             "e2": w(7), "k3": w(3, 12, 2, 1) * 0.5, "e3": w(3), "k4": w(4, 12, 3, 1) * 0.5, "e4": w(4)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["a3"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a3", "w4", "b4"], ["a4"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a4", "w5", "b5"], ["a5"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a5", "w6", "b6"], ["a6"], kernel_shape=[1, 1], strides=[2, 2]),
        helper.make_node("Flatten", ["a6"], ["f"]),
        helper.make_node("Gemm", ["f", "f1", "c1"], ["g1"], transB=1),
        helper.make_node("Reshape", ["a6", "shape"], ["r"]),
        helper.make_node("MatMul", ["r", "m1"], ["m"]),
        helper.make_node("Flatten", ["m"], ["mf"], axis=0),
        helper.make_node("Gemm", ["mf", "f2", "c2"], ["g2"], transB=1),
        helper.make_node("Gemm", ["g2", "f3", "c3"], ["y"], transB=1),
        helper.make_node("Conv", ["a1", "k1", "e1"], ["k1y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a4", "k2", "e2"], ["k2y"], kernel_shape=[2, 2]),
        helper.make_node("Conv", ["a3", "k3", "e3"], ["k3y"], kernel_shape=[2, 1], dilations=[2, 1]),
        helper.make_node("Conv", ["a3", "k4", "e4"], ["k4y"], kernel_shape=[3, 1], pads=[0, 0, 1, 0]),
    ]
    return onnx_model(nodes, [("x", [1, 3, 5, 3])],
                      [("y", [1, 5]), ("g1", [1, 12]), ("m", [8, 7]), ("a5", [1, 33, 5, 3]), ("k1y", [1, 5, 5, 3]),
                       ("k2y", [1, 7, 4, 2]), ("k3y", [1, 3, 3, 3]), ("k4y", [1, 4, 4, 3])], inits)


@pytest.fixture(scope="module", params=["positive", "negative"])
def gemm(request, tmp_path_factory):
    """Calibrated on data of one sign: the input zero point at -128 (all >= 0) or 127 (all <= 0); 16 inputs, the
    first two all -128 and all 127."""
    rng = np.random.default_rng(17)
    model = _one_sign_converter(gemm_model(rng), request.param, rng, tmp_path_factory).convert()
    forms = [model.files["model.c"].count(f"{f}(&n") for f in ("mcu_conv2d_1x1_dsp_s8", "mcu_fully_connected_dsp_s8",
                                                                  "mcu_conv2d_dsp_s8")]
    assert (model.report["inputs"][0]["zero_point"], forms) == ({"positive": -128, "negative": 127}[request.param],
                                                                 [6, 4, 4])
    shape = (16,) + tuple(model.report["inputs"][0]["shape"])
    x = np.concatenate([np.full((1,) + shape[1:], -128), np.full((1,) + shape[1:], 127),
                        rng.integers(-128, 128, (shape[0] - 2,) + shape[1:])]).astype(np.int8)
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


@pytest.mark.parametrize("where", ["host", *(pytest.param(b, marks=pytest.mark.slow) for b in DSP_CORES)])
def test_the_gemm_model_equals_the_reference(gemm, where):
    model, _, feeds = gemm
    if where == "host":
        _equals_reference(model, model.build().run(feeds), feeds)
    else:
        _on_board_equals_reference(gemm, where)
