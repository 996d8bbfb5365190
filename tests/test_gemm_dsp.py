"""The DSP matrix product's edges (runtime_c/include/mcu_gemm_s8.h: the 2 x 2 blocks of a row pair summed in
chunks of 16 outputs by mcu_gemm_dsp_sums_asm, eight depth steps per pass, four alone, the last depth % 4 in C;
one row, an odd last one or the general convolution's odd last window, widened once, by mcu_gemv_dsp_groups_asm), on
the cores that run it (M4, M7, M33), equal to the NumPy twin bit for bit, the
input zero point at -128 and 127. test_variants.py's edge model covers depths of 5, 7, 17 and 261; this one the
depths where the assembly's passes are empty or exact (2, 3, 4, 8, 12, 32, 96) and output counts at the chunk's
edges (32: two whole chunks; 33: and an odd last output alone); and the general convolution's pairs of windows
widened straight from the input (mcu_conv2d_dsp_s8: both inside, a kernel row of whole words) next to gathered
ones. row_model: the one-row form's edges (depths, output counts, zero points, the three requantizations)."""
import numpy as np
import pytest
from helpers import onnx_model
from onnx import helper
from test_variants import (_compiles_for_every_core, _equals_reference, _on_board_equals_reference,
                           _on_host_or_board_equals_reference, _one_sign_converter)

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
                                                                  "mcu_fully_connected_row_dsp_s8", "mcu_conv2d_dsp_s8")]
    assert (model.report["inputs"][0]["zero_point"], forms) == ({"positive": -128, "negative": 127}[request.param],
                                                                 [6, 1, 3, 4])
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


def row_model(rng):
    """(1, 17) features: fully connected layers of one row at the edges of the DSP one-row form
    (mcu_fully_connected_row_dsp_s8: the row widened once, groups of six outputs in chunks of 36 by
    mcu_gemv_dsp_groups_asm, sixteen depth steps per pass, the first one entered after (4 - lead) of its four
    four-steps, the last one to five outputs and the last depth % 4 in C), each an output: depths 1, 3 (no assembly
    step), 5 (a lead of one four-step alone), 9 (lead 2), 17 (four four-steps: lead 0, and one left), 20 (lead 1
    and a whole pass), 28 (lead 3), 33, 130 (32 + 2) and 640; outputs 1, 3, 5 (no whole group), 9 (a group and
    three), 17 (two and five), 20 (three and two), 33 (five and three), 130 (three chunks, then three groups and
    four) and 640 (seventeen chunks, then four groups and four). Output zero points -128 (a Relu; a bias beyond
    every product: all outputs positive) and 127 (all negative), a clamp inside the int8
    range (Clip: the clamped short requantization), the exact requantization (Concat of a row with itself, 6->5 of
    weights (w, -0.999 w): outputs so narrow that the multipliers exceed 1, shifts > 0); and a layer of 5 rows
    (Reshape, MatMul 128->9: pairs of rows and an odd last row by the one-row product)."""
    def w(*shape, s=0.4):
        return (rng.normal(0, s, shape)).astype(np.float32)

    layers = [("x", "g1", 17, 640), ("g1", "g2", 640, 130), ("g2", "g3", 130, 9), ("g3", "g4", 9, 5),
              ("g4", "g5", 5, 3), ("g5", "g6", 3, 1), ("g6", "g7", 1, 130), ("x", "g8", 17, 9),
              ("g4", "g9", 5, 17), ("x", "g10", 17, 28), ("g10", "g11", 28, 33), ("g7", "g12", 130, 5),
              ("g11", "g13", 33, 20), ("g13", "g14", 20, 9)]
    inits, nodes, outputs = {}, [], []
    for k, (x, y, depth, n) in enumerate(layers):
        inits[f"f{k}"] = w(n, depth, s=1.0 / np.sqrt(depth))
        inits[f"c{k}"] = w(n)
    inits["c8"] += 8.0   # g9: every output above 0 (zero point -128)
    inits["c9"] -= 8.0   # g10: every output below 0 (zero point 127)
    for k, (x, y, depth, n) in enumerate(layers):
        out = {7: "g8r", 11: "g12c"}.get(k, y)
        nodes.append(helper.make_node("Gemm", [x, f"f{k}", f"c{k}"], [out], transB=1))
        outputs.append((y, [1, n]))
    nodes += [helper.make_node("Relu", ["g8r"], ["g8"]),
              helper.make_node("Clip", ["g12c", "lo", "hi"], ["g12"]),
              helper.make_node("Reshape", ["g1", "shape"], ["r"]),
              helper.make_node("MatMul", ["r", "m"], ["mm"]),
              helper.make_node("Concat", ["g5", "g5"], ["cc"], axis=1),
              helper.make_node("Gemm", ["cc", "fe", "ce"], ["ge"], transB=1)]
    fe = w(5, 3)
    inits.update(lo=np.array(-0.25, np.float32), hi=np.array(0.25, np.float32),
                 shape=np.array([5, 128], np.int64), m=w(128, 9, s=0.1),
                 fe=np.concatenate([fe, -fe * 0.999], axis=1), ce=np.zeros(5, np.float32))
    return onnx_model(nodes, [("x", [1, 17])], outputs + [("mm", [5, 9]), ("ge", [1, 5])], inits)


@pytest.fixture(scope="module", params=["positive", "negative", "both"])
def rows(request, tmp_path_factory):
    """Calibrated on data of one sign (the input zero point -128 or 127) or of both (0); 16 inputs, the first two
    all -128 and all 127."""
    rng = np.random.default_rng(23)
    model = _one_sign_converter(row_model(rng), request.param, rng, tmp_path_factory).convert()
    source = model.files["model.c"]
    assert model.report["inputs"][0]["zero_point"] == {"positive": -128, "negative": 127, "both": 0}[request.param]
    assert (source.count("mcu_fully_connected_row_dsp_s8(&n"), source.count("mcu_fully_connected_dsp_s8(&n")) == (15, 1)
    fc = {n.name: n.params for n in model.graph.nodes if n.op == "fully_connected"}
    assert (fc["g9"]["output_zp"], fc["g10"]["output_zp"], fc["g8r"]["output_zp"]) == (-128, 127, -128)
    assert (fc["g12c"]["act_min"], fc["g12c"]["act_max"]) != (-128, 127)  # the clamped short requantization
    assert fc["ge"].get("out_round") is None and fc["g1"].get("out_round") is not None  # ge: the exact form
    x = rng.integers(-128, 128, (16,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


@pytest.mark.parametrize("board", [None, *(pytest.param(b, marks=pytest.mark.slow) for b in DSP_CORES)])
def test_the_one_row_layers_equal_the_reference(rows, board):
    _on_host_or_board_equals_reference(rows, board)


def test_the_one_row_form_compiles_for_every_core_at_every_level(rows):
    _compiles_for_every_core(rows[1])
