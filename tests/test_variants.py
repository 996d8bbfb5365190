"""Every form of a kernel on every emulated core computes the same integers as the twin: models whose layers
take the faster forms at their edges (1x1 convolutions and fully connected layers with odd channel counts,
depths that are not a multiple of 4 or 16, one row or an odd number of them, input zero points at -128 and
127), run in QEMU on the M0+ (Thumb-1), M4/M7/M33 (DSP) and M55 (Helium), equals the host build and the
NumPy reference bit for bit; `--optimize size` (the plain kernels) gives the same outputs."""
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers import onnx_model
from onnx import helper

import mcu_codegen
from mcu_codegen import boards, planner, target

EMULATED = ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"]


def edge_model(rng):
    """NCHW (1, 7, 5, 3): 1x1 7->5 + Relu, 1x1 5->17, a residual Add and a Sub over 255 values (not a multiple
    of 4), 1x1 17->261 and 261->17 (a depth beyond what the DSP matrix product widens on the stack, not a
    multiple of 4; also a model output: the saturated last layers would hide its errors) added to it, 1x1 17->1,
    3x3 pad 1 1->6 (four channels per pass, one input channel), then a 1x1 6->8 of stride (2, 1) (a matrix
    product of strided rows, pairs across image rows; an output) and a depthwise 3x3 pad 1 on 6 channels (a group
    of four and two alone), 5x3 no pad 6->33 (zero point folded), Flatten, Gemm 33->19 (depth not a multiple of 4)
    and 19->3."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w1": w(5, 7, 1, 1), "b1": w(5), "w2": w(17, 5, 1, 1), "b2": w(17), "w2b": w(17, 17, 1, 1),
             "b2b": w(17), "w3": w(1, 17, 1, 1), "b3": w(1), "w4": w(6, 1, 3, 3), "b4": w(6), "wd": w(6, 1, 3, 3),
             "bd": w(6), "w5": w(33, 6, 5, 3), "b5": w(33), "w6": w(261, 17, 1, 1) * 0.3, "b6": w(261),
             "w7": w(17, 261, 1, 1) * 0.2, "b7": w(17),
             "w8": w(8, 6, 1, 1), "b8": w(8), "f1": w(19, 33), "c1": w(19), "f2": w(3, 19), "c2": w(3)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w2b", "b2b"], ["a2b"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["a2", "a2b"], ["s2a"]),
        helper.make_node("Sub", ["s2a", "a2b"], ["s2"]),
        helper.make_node("Conv", ["s2", "w6", "b6"], ["a6"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a6", "w7", "b7"], ["a7"], kernel_shape=[1, 1]),
        helper.make_node("Add", ["s2", "a7"], ["s3"]),
        helper.make_node("Conv", ["s3", "w3", "b3"], ["a3"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a3", "w4", "b4"], ["a4"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a4", "wd", "bd"], ["d4"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6),
        helper.make_node("Conv", ["a4", "w8", "b8"], ["a8"], kernel_shape=[1, 1], strides=[2, 1]),
        helper.make_node("Conv", ["d4", "w5", "b5"], ["a5"], kernel_shape=[5, 3]),
        helper.make_node("Flatten", ["a5"], ["f"]),
        helper.make_node("Gemm", ["f", "f1", "c1"], ["g1"], transB=1),
        helper.make_node("Gemm", ["g1", "f2", "c2"], ["y"], transB=1),
    ]
    return onnx_model(nodes, [("x", [1, 7, 5, 3])], [("y", [1, 3]), ("a7", [1, 17, 5, 3]), ("a8", [1, 8, 3, 3])], inits)


@pytest.fixture(scope="module", params=["positive", "negative"])
def converted(request, tmp_path_factory):
    """Calibrated on data of one sign: the input zero point at -128 (all >= 0) or at 127 (all <= 0)."""
    rng = np.random.default_rng(7)
    work = tmp_path_factory.mktemp("variants")
    onnx.save(edge_model(rng), work / "edge.onnx")
    data = np.abs(rng.normal(0, 1, (64, 1, 7, 5, 3))).astype(np.float32)
    conv = mcu_codegen.Converter.from_onnx(work / "edge.onnx")
    conv.representative_dataset = [{"x": data if request.param == "positive" else -data}]
    model = conv.convert()
    assert model.report["inputs"][0]["zero_point"] == (-128 if request.param == "positive" else 127)
    x = rng.integers(-128, 128, (24,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    feeds = {"x": x}
    return conv, model, model.save(work / "project"), feeds


def test_the_model_takes_every_faster_form(converted):
    _, model, project, _ = converted
    source = (project / "model.c").read_text()
    for form in ("mcu_conv2d_1x1_s8", "mcu_conv2d_1x1_dsp_s8", "mcu_conv2d_1x1_mve_s8", "mcu_conv2d_fast_s8",
                 "mcu_conv2d_dsp_s8", "mcu_conv2d_first_dsp_s8", "mcu_conv2d_mve_s8", "mcu_depthwise_conv2d_fast_s8",
                 "mcu_depthwise_conv2d_3x3_dsp_s8", "mcu_depthwise_conv2d_3x3_mve_s8",
                 "mcu_fully_connected_fast_s8", "mcu_fully_connected_row_dsp_s8", "mcu_fully_connected_mve_s8",
                 "mcu_add_fast_s8", "mcu_add_mve_s8", "mcu_conv2d_1x1_thumb1_s8", "mcu_conv2d_thumb1_s8",
                 "mcu_fully_connected_thumb1_s8"):
        assert f"    {form}(&n" in source, form


def test_host_build_and_size_build_equal_the_reference(converted):
    conv, model, _, feeds = converted
    want = model.reference(feeds)
    got = model.build().run(feeds)
    conv.optimize = "size"
    small = conv.convert()
    conv.optimize = "speed"
    assert not any(f in small.files["model.c"] for f in ("_1x1_", "_fast_", "_dsp_", "_mve_", "MCU_HAS"))
    # the padded convs' second bias and the short requantization's constants, read only by the faster forms,
    # cost no flash in the size build, and its report counts none of their bytes
    assert "_interior_bias[" in model.files["model.c"] and "interior_bias" not in small.files["model.c"]
    assert "_out_round[" in model.files["model.c"] and "out_round" not in small.files["model.c"]
    speed_only = sum(v.nbytes for n in model.graph.nodes for k, v in n.params.items()
                     if k in ("interior_bias", "out_round") and isinstance(v, np.ndarray))
    assert speed_only > 0 and small.report["weight_bytes"] == model.report["weight_bytes"] - speed_only
    plain = small.build().run(feeds)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
        np.testing.assert_array_equal(plain[name], want[name])


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_every_form_on_every_core_equals_the_reference(converted, board):
    _, model, project, feeds = converted
    got, _ = target.run_on_board(project, model.report, boards.load(board), feeds)
    want = model.reference(feeds)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])


# (compiler, optimization) the emulated runs do not build (they use GCC at -O2): clang at four levels, GCC at -O0
# (r7 the frame pointer: one register fewer for the forms' assembly), -Os and -Oz (GCC's size builds give inline
# assembly no r8-r12 on Thumb-1: its forms' loops are naked functions, which must be there at every level)
COMPILE_LEVELS = [("clang", "-O2"), ("clang", "-O0"), ("clang", "-Os"), ("clang", "-Oz"), ("gcc", "-O0"),
                  ("gcc", "-Os"), ("gcc", "-Oz")]
# the naked loops of the Thumb-1 forms (mcu_gemm_thumb1.h, mcu_depthwise_conv2d_thumb1_s8.c) a form's call needs
THUMB1_LOOPS = {"mcu_conv2d_1x1_thumb1_s8": "mcu_gemm_thumb1_sums_asm", "mcu_conv2d_thumb1_s8": "mcu_gemm_thumb1_sums_asm",
                "mcu_fully_connected_thumb1_s8": "mcu_gemv_thumb1_sums_asm",
                "mcu_depthwise_conv2d_thumb1_s8": "mcu_dw_thumb1_sums_asm"}


def _compiles_for_every_core(project):
    """The generated C of every form (inline assembly included: the compilers spell some of it apart, and need
    registers a debug or size build keeps) compiled for each emulated core with the strict flags at each of
    COMPILE_LEVELS; clang with ARM's newlib headers for the C library's. clang has no -mfpu=auto (the M55's): its
    -mcpu implies the FPU there. On the M0+ the Thumb-1 forms' loops are in the object at every level (not the
    portable forms: MCU_HAS_THUMB1 does not depend on the optimization level)."""
    source = (project / "model.c").read_text()
    loops = {loop for form, loop in THUMB1_LOOPS.items() if f"    {form}(&n" in source}
    for compiler, level in COMPILE_LEVELS:
        for board in EMULATED:
            cmd = [*_compiler_command(compiler, board), *target.STRICT, level, "-I", str(project), "-c",
                   str(project / "model.c"), "-o", str(project / f"{compiler}{level}-{board}.o")]
            r = subprocess.run(cmd, capture_output=True, text=True)
            assert r.returncode == 0, f"{compiler} {level} {board}: {r.stderr}"
            if board == "mps2-an385-m0plus":
                names = subprocess.run(["arm-none-eabi-nm", cmd[-1]], capture_output=True, text=True, check=True)
                assert loops <= {line.split()[-1] for line in names.stdout.splitlines()}, f"{compiler} {level}"


def _compiler_command(compiler, board):
    """GCC or clang for the board's core (clang with ARM's newlib headers for the C library's)."""
    flags = list(boards.load(board).cflags)
    if compiler == "clang":
        return ["clang", "--target=arm-none-eabi", *[f for f in flags if f != "-mfpu=auto"], "-ffreestanding",
                "-isystem", "/usr/lib/arm-none-eabi/include"]
    return ["arm-none-eabi-gcc", *flags]


def test_every_form_compiles_for_every_core_at_every_level(converted):
    _compiles_for_every_core(converted[2])


def column_model(rng):
    """NCHW (1, 3, 8, 1): a map one position wide (a 16-channel depthwise: eight channels per Helium pass), whose
    1x1 convolutions the planner runs in place (the pair of positions of the matrix product must not overwrite
    its own inputs), then fully connected layers with 8 and 16 outputs (multiples of 4 and 8: the Helium form's
    tail loop never runs)."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w1": w(16, 3, 3, 3), "b1": w(16), "wd": w(16, 1, 3, 3), "bd": w(16), "w2": w(4, 16, 1, 1), "b2": w(4),
             "w3": w(4, 4, 1, 1), "b3": w(4), "f1": w(8, 32), "c1": w(8), "f2": w(16, 8), "c2": w(16)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a1", "wd", "bd"], ["d1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
        helper.make_node("Conv", ["d1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["a3"], kernel_shape=[1, 1]),
        helper.make_node("Flatten", ["a3"], ["f"]),
        helper.make_node("Gemm", ["f", "f1", "c1"], ["g1"], transB=1),
        helper.make_node("Gemm", ["g1", "f2", "c2"], ["y"], transB=1),
    ]
    return onnx_model(nodes, [("x", [1, 3, 8, 1])], [("y", [1, 16])], inits)


@pytest.fixture(scope="module", params=["positive", "negative"])
def column(request, tmp_path_factory):
    """Calibrated on data of one sign: the input zero point at -128 or 127 fills the padded taps of the first
    layer (Helium gathers its windows)."""
    rng = np.random.default_rng(11)
    conv = _one_sign_converter(column_model(rng), request.param, rng, tmp_path_factory)
    for strategy in (None, *planner.STRATEGIES):  # the plan that writes a 1x1 convolution over its input
        conv.planner_strategy = strategy
        model = conv.convert()
        if _in_place_1x1(model):
            break
    assert model.report["inputs"][0]["zero_point"] == (-128 if request.param == "positive" else 127)
    assert "mcu_conv2d_mve_s8(&n" in model.files["model.c"]
    x = rng.integers(-128, 128, (16,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


def _one_sign_converter(onnx_proto, sign, rng, tmp_path_factory):
    """A converter of the model (one input x) calibrated on 64 samples of one sign ("positive": all >= 0,
    "negative") or of both."""
    path = tmp_path_factory.mktemp("model") / "model.onnx"
    onnx.save(onnx_proto, path)
    conv = mcu_codegen.Converter.from_onnx(path)
    shape = [d.dim_value for d in onnx_proto.graph.input[0].type.tensor_type.shape.dim]
    data = np.abs(rng.normal(0, 1, (64, *shape))).astype(np.float32)
    # "both": a range whose zero point is 0 (the negative side 128 steps, the positive 127)
    conv.representative_dataset = [{"x": {"positive": data, "negative": -data,
                                          "both": np.concatenate([data * 127 / 128, -data])}[sign]}]
    return conv


def _in_place_1x1(model):
    at, size = model.plan.offsets, {n: t.nbytes for n, t in model.graph.tensors.items()}
    return any(at[x] < at[y] + size[y] and at[y] < at[x] + size[x]
               for n in model.graph.nodes if n.op == "conv2d" and n.params["kernel_h"] == n.params["kernel_w"] == 1
               for x, y in [(n.inputs[0], n.outputs[0])])


def test_the_column_model_runs_a_matrix_product_in_place(column):
    model, _, feeds = column
    assert _in_place_1x1(model), "no plan writes a 1x1 convolution over its input: the test tests nothing"
    _equals_reference(model, model.build().run(feeds), feeds)


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_the_column_model_on_every_core_equals_the_reference(column, board):
    _on_board_equals_reference(column, board)


def _on_board_equals_reference(converted, board):
    model, project, feeds = converted
    _equals_reference(model, target.run_on_board(project, model.report, boards.load(board), feeds)[0], feeds)


def _equals_reference(model, got, feeds):
    want = model.reference(feeds)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])


def depthwise_model(rng):
    """NCHW (1, 5, 9, 7): depthwise layers at the Helium form's edges (four positions of a row per pass, then
    the last one to three; groups of four channels and a predicated rest): 3x3 pad 1 on 5 channels (rows of 7:
    4 + 3), a 1x1 5->20 (sixteen channels and four), 3x3 stride 2 padded bottom/right only (TF SAME), 3x3 no
    padding (the bias itself folded), 3x5 of dilation (1, 2) with pads (1, 4, 1, 4) (the any-geometry form), and
    2x2 stride (1, 2) pad (1, 0, 0, 1) and 3x3 of dilation (2, 1) pad (2, 1, 2, 1) on 20 channels (the Thumb-1
    form takes all but the dilation_w 2 one, 5 channels an odd pair); average pools of 3x2 stride (2, 1) padded and global (9x7)
    on them (sixteen channels per Helium pass and four); each an output."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w1": w(5, 1, 3, 3), "b1": w(5), "w2": w(20, 5, 1, 1), "b2": w(20), "w3": w(20, 1, 3, 3), "b3": w(20),
             "w4": w(20, 1, 3, 3), "b4": w(20), "w5": w(20, 1, 3, 5), "b5": w(20), "w6": w(20, 1, 2, 2), "b6": w(20),
             "w7": w(20, 1, 3, 3), "b7": w(20)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["d1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=5),
        helper.make_node("Conv", ["d1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["d3"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1],
                         group=20),
        helper.make_node("Conv", ["a2", "w4", "b4"], ["d4"], kernel_shape=[3, 3], group=20),
        helper.make_node("Conv", ["a2", "w5", "b5"], ["d5"], kernel_shape=[3, 5], dilations=[1, 2],
                         pads=[1, 4, 1, 4], group=20),
        helper.make_node("Conv", ["a2", "w6", "b6"], ["d6"], kernel_shape=[2, 2], strides=[1, 2], pads=[1, 0, 0, 1],
                         group=20),
        helper.make_node("Conv", ["a2", "w7", "b7"], ["d7"], kernel_shape=[3, 3], dilations=[2, 1],
                         pads=[2, 1, 2, 1], group=20),
        helper.make_node("AveragePool", ["a2"], ["p1"], kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1]),
        helper.make_node("AveragePool", ["a2"], ["p2"], kernel_shape=[9, 7]),
    ]
    return onnx_model(nodes, [("x", [1, 5, 9, 7])], [("d1", [1, 5, 9, 7]), ("d3", [1, 20, 4, 3]),
                                                    ("d4", [1, 20, 7, 5]), ("d5", [1, 20, 9, 7]),
                                                    ("d6", [1, 20, 9, 4]), ("d7", [1, 20, 9, 7]),
                                                    ("p1", [1, 20, 5, 7]),
                                                    ("p2", [1, 20, 1, 1])], inits)


@pytest.fixture(scope="module", params=["positive", "negative"])
def depthwise(request, tmp_path_factory):
    """Calibrated on data of one sign: the input zero point at -128 or 127 fills the padded positions."""
    rng = np.random.default_rng(13)
    model = _one_sign_converter(depthwise_model(rng), request.param, rng, tmp_path_factory).convert()
    for form, count in (("", 2), ("_3x3", 3), ("_3x3s2", 1)):
        assert model.files["model.c"].count(f"mcu_depthwise_conv2d{form}_mve_s8(&n") == count, form
    assert model.files["model.c"].count("mcu_depthwise_conv2d_thumb1_s8(&n") == 5  # all but dilation_w 2
    assert model.files["model.c"].count("mcu_avg_pool_mve_s8(&n") == 2
    return _one_sign_case(model, request.param, rng, 16, tmp_path_factory)


def _one_sign_case(model, sign, rng, n, tmp_path_factory):
    """(model, its saved project, n random inputs, the first all -128 and the second all 127) of a model
    calibrated on data of one sign (_one_sign_converter), whose input zero point is then -128 or 127."""
    assert model.report["inputs"][0]["zero_point"] == (-128 if sign == "positive" else 127)
    x = rng.integers(-128, 128, (n,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


def test_the_depthwise_model_on_the_host_equals_the_reference(depthwise):
    model, _, feeds = depthwise
    _equals_reference(model, model.build().run(feeds), feeds)


def test_the_depthwise_forms_compile_for_every_core_at_every_level(depthwise):
    _compiles_for_every_core(depthwise[1])


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_the_depthwise_model_on_every_core_equals_the_reference(depthwise, board):
    _on_board_equals_reference(depthwise, board)


def thumb1_model(rng):
    """NCHW (1, 3, 5, 7), 35 positions (pairs of rows and an odd last one), at the edges of the Thumb-1 forms'
    blocks of 16 outputs summed per call: 1x1 3->33 twice (16 + 16 + one odd output alone; from the odd last row,
    groups of four and one alone), one of them (a1), a depthwise 3x3 pad 1 on the 3 channels (a pair and one alone)
    and a fully connected 105->21 (16 + 4 + 1) on the input, with weights on the input's channel 0 so large that
    their multipliers exceed 1 (shifts >= 0: the exact requantization; channel 0 is 0 in the calibration data);
    from the other 1x1 (a0): a depthwise 3x3 stride 2 pad 1 on 33 channels (16 + 16 + 1), a 3x3 stride (2, 1) pad 1
    33->17 (a depth of 297 over 21 positions), 1x1 33->1 then 1->5 (a depth of 1), and after a global average
    pool a fully connected 33->16 (one whole block, nothing left). Each an output."""
    def w(*shape, s=0.4):
        return rng.normal(0, s, shape).astype(np.float32)

    w1, wd, f1 = w(33, 3, 1, 1, s=0.05), w(3, 1, 3, 3, s=0.05), w(21, 105, s=0.05)
    w1[:, 0], wd[0], f1[:, :35] = 60 * np.sign(w(33, 1, 1)), 60, 120 * np.sign(f1[:, :35])
    inits = {"w0": w(33, 3, 1, 1), "b0": w(33), "w1": w1, "b1": w(33, s=0.01), "wd": wd, "bd": w(3, s=0.01),
             "f1": f1, "c1": w(21, s=0.01), "wd2": w(33, 1, 3, 3), "bd2": w(33), "w2": w(17, 33, 3, 3, s=0.1),
             "b2": w(17), "w3": w(1, 33, 1, 1), "b3": w(1), "w4": w(5, 1, 1, 1), "b4": w(5), "f2": w(16, 33),
             "c2": w(16)}
    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["a0"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["x", "wd", "bd"], ["d1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=3),
        helper.make_node("Flatten", ["x"], ["fx"]),
        helper.make_node("Gemm", ["fx", "f1", "c1"], ["g1"], transB=1),
        helper.make_node("Conv", ["a0", "wd2", "bd2"], ["d2"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], group=33),
        helper.make_node("Conv", ["a0", "w2", "b2"], ["a2"], kernel_shape=[3, 3], strides=[2, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a0", "w3", "b3"], ["a3"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a3", "w4", "b4"], ["a4"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["a0"], ["p0"]),
        helper.make_node("Flatten", ["p0"], ["fp"]),
        helper.make_node("Gemm", ["fp", "f2", "c2"], ["g2"], transB=1),
    ]
    return onnx_model(nodes, [("x", [1, 3, 5, 7])], [("a1", [1, 33, 5, 7]), ("d1", [1, 3, 5, 7]), ("g1", [1, 21]),
                                                    ("d2", [1, 33, 3, 4]), ("a2", [1, 17, 3, 7]),
                                                    ("a4", [1, 5, 5, 7]), ("g2", [1, 16])], inits)


@pytest.fixture(scope="module", params=["positive", "negative", "both"])
def thumb1(request, tmp_path_factory):
    """Calibrated on data of one sign or of both (the input zero point -128, 127 or 0), channel 0 all 0; half the
    inputs hold the zero point in channel 0, where the exact layers' outputs are not saturated."""
    rng = np.random.default_rng(23)
    conv = _one_sign_converter(thumb1_model(rng), request.param, rng, tmp_path_factory)
    conv.representative_dataset[0]["x"][:, :, 0] = 0
    model = conv.convert()
    source = model.files["model.c"]
    for form, count in (("conv2d_1x1", 4), ("conv2d", 1), ("depthwise_conv2d", 2), ("fully_connected", 2)):
        assert source.count(f"    mcu_{form}_thumb1_s8(&n") == count, form
    exact = {n.op for n in model.graph.nodes if "out_shift" in n.params and "out_round" not in n.params}
    assert exact == {"conv2d", "depthwise_conv2d", "fully_connected"}
    assert all(n.params["out_shift"].max() >= 0 for n in model.graph.nodes
               if "out_shift" in n.params and "out_round" not in n.params)
    zp = model.report["inputs"][0]["zero_point"]
    assert zp == {"positive": -128, "negative": 127, "both": 0}[request.param]
    x = rng.integers(-128, 128, (16,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1], x[2::2, :, 0] = -128, 127, zp
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


def test_the_thumb1_model_on_the_host_equals_the_reference(thumb1):
    _equals_reference(thumb1[0], thumb1[0].build().run(thumb1[2]), thumb1[2])


def test_the_thumb1_forms_compile_for_every_core_at_every_level(thumb1):
    _compiles_for_every_core(thumb1[1])


@pytest.mark.slow
@pytest.mark.parametrize("level", ["-O2", "-O0", "-Os", "-Oz"])
def test_the_thumb1_model_on_the_m0plus_at_every_level_equals_the_reference(thumb1, level, monkeypatch):
    """The emulated M0+ build of the model at each GCC level (a size build the usual one on those parts)."""
    _on_m0plus_at(level, thumb1, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["-O2", "-O0", "-Os", "-Oz"])
def test_the_thumb1_model_built_by_clang_on_the_m0plus_equals_the_reference(thumb1, level, monkeypatch):
    """The model compiled by clang at each level (linked with GCC's harness and C library), on the M0+."""
    _on_m0plus_at(level, thumb1, monkeypatch, "clang")


def _on_m0plus_at(level, case, monkeypatch, compiler="gcc"):
    """(model, project, feeds): the project compiled by GCC (or clang) at `level` instead of GCC at -O2, linked
    and run on the M0+."""
    monkeypatch.setattr(target, "OPT", [level, *target.SECTIONS])
    if compiler == "clang":
        def compile_model(project, name, board, work, per_layer=False):
            obj = Path(work) / f"{name}.o"
            subprocess.run([*_compiler_command("clang", board.name), *target.STRICT, *target.OPT, "-I", str(project),
                            "-c", str(Path(project) / f"{name}.c"), "-o", str(obj)], check=True)
            return obj
        monkeypatch.setattr(target, "compile_model", compile_model)
    _on_board_equals_reference(case, "mps2-an385-m0plus")


# the other edge models' Thumb-1 forms in a GCC -Os build on the M0+
@pytest.mark.slow
def test_every_form_on_the_m0plus_built_at_os_equals_the_reference(converted, monkeypatch):
    _on_m0plus_at("-Os", converted[1:], monkeypatch)


@pytest.mark.slow
def test_the_column_model_on_the_m0plus_built_at_os_equals_the_reference(column, monkeypatch):
    _on_m0plus_at("-Os", column, monkeypatch)


@pytest.mark.slow
def test_the_depthwise_model_on_the_m0plus_built_at_os_equals_the_reference(depthwise, monkeypatch):
    _on_m0plus_at("-Os", depthwise, monkeypatch)


def dsp_depthwise_model(rng):
    """NCHW (1, 6, 9, 7): 3x3 depthwise layers at the edges of the DSP forms over a ring of padded rows (six
    channels: a group of four and two alone; rows of 7: three pairs of positions and one alone), each an output:
    pad 1 at stride 1 and 2; stride (2, 1) with pads (2, 0, 2, 2) (whole rows outside the input, no left pad);
    stride (1, 2) with pads (0, 2, 1, 0); no padding at stride 1 and 2 (the bias itself folded, rows read in
    place); and a depth multiplier of 2 (the general form). d1 runs after a 1x1 conv whose output dies there, so
    that the planner may write it over its input."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w0": w(6, 6, 1, 1), "b0": w(6), "wm": w(12, 1, 3, 3), "bm": w(12),
             **{f"w{k}": w(6, 1, 3, 3) for k in range(1, 7)}, **{f"b{k}": w(6) for k in range(1, 7)}}

    def dw(k, x, y, **a):
        return helper.make_node("Conv", [x, f"w{k}", f"b{k}"], [y], kernel_shape=[3, 3], group=6, **a)

    nodes = [
        helper.make_node("Conv", ["x", "w0", "b0"], ["a0"], kernel_shape=[1, 1]),
        dw(1, "a0", "d1", pads=[1, 1, 1, 1]),
        dw(2, "x", "d2", strides=[2, 2], pads=[1, 1, 1, 1]),
        dw(3, "x", "d3", strides=[2, 1], pads=[2, 0, 2, 2]),
        dw(4, "x", "d4", strides=[1, 2], pads=[0, 2, 1, 0]),
        dw(5, "x", "d5"),
        dw(6, "x", "d6", strides=[2, 2]),
        helper.make_node("Conv", ["x", "wm", "bm"], ["dm"], kernel_shape=[3, 3], group=6, pads=[1, 1, 1, 1]),
    ]
    return onnx_model(nodes, [("x", [1, 6, 9, 7])], [("d1", [1, 6, 9, 7]), ("d2", [1, 6, 5, 4]),
                                                    ("d3", [1, 6, 6, 7]), ("d4", [1, 6, 8, 4]),
                                                    ("d5", [1, 6, 7, 5]), ("d6", [1, 6, 4, 3]),
                                                    ("dm", [1, 12, 9, 7])], inits)


@pytest.fixture(scope="module", params=["positive", "negative", "both"])
def dsp_depthwise(request, tmp_path_factory):
    """Calibrated on data of one sign (the input zero point -128 or 127) or of both (0): the zero point fills
    the padded positions of the ring."""
    rng = np.random.default_rng(17)
    conv = _one_sign_converter(dsp_depthwise_model(rng), request.param, rng, tmp_path_factory)
    for strategy in (None, *planner.STRATEGIES):  # a plan that writes d1 over its input, where one does
        conv.planner_strategy = strategy
        model = conv.convert()
        if _in_place_after_1x1(model):
            break
    assert _in_place_after_1x1(model), "no plan writes d1 over its input: the in-place case is not tested"
    want_zp = {"positive": -128, "negative": 127, "both": 0}[request.param]
    assert model.report["inputs"][0]["zero_point"] == want_zp
    source = model.files["model.c"]
    for form, count in (("_3x3", 3), ("_3x3s2", 3), ("", 0)):
        assert source.count(f"    mcu_depthwise_conv2d{form}_dsp_s8(&n") == count, form
    assert source.count("    mcu_depthwise_conv2d_s8(&n") == 1  # the depth multiplier 2, every core
    x = rng.integers(-128, 128, (16,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


def first_layers_model(rng):
    """NCHW (1, 3, 9, 7): convolutions of 1 to 3 input channels (the DSP first-layer form) at its edges, each an
    output: 3x3 pad 1 on 3 channels to 5 (an odd window of 27 and an odd count of filters); 3x3 stride 2 padded
    bottom/right (TF SAME) to 8; 2x4 of stride (2, 1) with pads (1, 2, 0, 1) to 3 (a window of 24); 3x3 of
    dilation (2, 1) with pads (2, 1, 2, 1) to 4; after 1x1 convs to 1 and 2 channels, a 10x4 of stride 2 with
    pads (4, 1, 5, 1) (kws's first layer) to 6 and a 3x3 without padding (the bias itself folded) to 7."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"w1": w(5, 3, 3, 3), "w2": w(8, 3, 3, 3), "w3": w(3, 3, 2, 4), "w4": w(4, 3, 3, 3),
             "wa": w(1, 3, 1, 1), "wb": w(2, 3, 1, 1), "w5": w(6, 1, 10, 4), "w6": w(7, 2, 3, 3)}
    inits.update({f"b{k[1:]}": w(v.shape[0]) for k, v in list(inits.items())})

    def conv(k, x, y, **a):
        return helper.make_node("Conv", [x, f"w{k}", f"b{k}"], [y], kernel_shape=list(inits[f"w{k}"].shape[2:]), **a)

    nodes = [conv(1, "x", "c1", pads=[1, 1, 1, 1]), conv(2, "x", "c2", strides=[2, 2], pads=[0, 0, 1, 1]),
             conv(3, "x", "c3", strides=[2, 1], pads=[1, 2, 0, 1]),
             conv(4, "x", "c4", dilations=[2, 1], pads=[2, 1, 2, 1]),
             conv("a", "x", "a1"), conv("b", "x", "a2"),
             conv(5, "a1", "c5", strides=[2, 2], pads=[4, 1, 5, 1]), conv(6, "a2", "c6")]
    return onnx_model(nodes, [("x", [1, 3, 9, 7])], [("c1", [1, 5, 9, 7]), ("c2", [1, 8, 4, 3]),
                                                    ("c3", [1, 3, 5, 7]), ("c4", [1, 4, 9, 7]),
                                                    ("c5", [1, 6, 5, 3]), ("c6", [1, 7, 7, 5])], inits)


@pytest.fixture(scope="module", params=["positive", "negative", "both"])
def first_layers(request, tmp_path_factory):
    """Calibrated on data of one sign (the input zero point -128 or 127) or of both (0)."""
    rng = np.random.default_rng(19)
    model = _one_sign_converter(first_layers_model(rng), request.param, rng, tmp_path_factory).convert()
    assert model.report["inputs"][0]["zero_point"] == {"positive": -128, "negative": 127, "both": 0}[request.param]
    assert model.files["model.c"].count("    mcu_conv2d_first_dsp_s8(&n") == 6
    x = rng.integers(-128, 128, (16,) + tuple(model.report["inputs"][0]["shape"])).astype(np.int8)
    x[0], x[1] = -128, 127
    return model, model.save(tmp_path_factory.mktemp("project")), {"x": x}


@pytest.mark.parametrize("board", [None] + [pytest.param(b, marks=pytest.mark.slow)
                                            for b in ("mps2-an386", "mps2-an500", "mps2-an505")])
def test_the_first_layers_on_the_host_and_the_dsp_cores_equal_the_reference(first_layers, board):
    _on_host_or_board_equals_reference(first_layers, board)


def _in_place_after_1x1(model):
    """Whether the depthwise layer fed by the model's 1x1 conv writes over that input."""
    made_by = {n.outputs[0]: n.op for n in model.graph.nodes}
    node = next(n for n in model.graph.nodes if n.op == "depthwise_conv2d" and made_by.get(n.inputs[0]) == "conv2d")
    at, size = model.plan.offsets, {n: t.nbytes for n, t in model.graph.tensors.items()}
    x, y = node.inputs[0], node.outputs[0]
    return at[x] < at[y] + size[y] and at[y] < at[x] + size[x]


@pytest.mark.parametrize("board", [None] + [pytest.param(b, marks=pytest.mark.slow)
                                            for b in ("mps2-an386", "mps2-an500", "mps2-an505")])
def test_the_dsp_depthwise_model_on_the_host_and_the_dsp_cores_equals_the_reference(dsp_depthwise, board):
    _on_host_or_board_equals_reference(dsp_depthwise, board)


DSP_KINDS = {  # (input H, W, C; stride; SAME; fused activation; output zero point; what fails the proof)
    "whole_range": ((5, 7, 6), 1, True, 0, -3, None),     # the assembly: 3 pairs and one alone
    "one_position": ((4, 3, 5), 1, False, 0, 5, None),    # out_w 1: no pair, one alone
    "two_positions_s2": ((6, 4, 5), 2, True, 0, 0, None), # stride 2, SAME padded right: one pair
    "valid_s2": ((5, 8, 4), 2, False, 0, 1, None),        # the input's last column read by no window
    "relu": ((5, 7, 6), 1, True, 1, 0, None),             # act_min 0: the clamp, in C
    "relu_s2": ((7, 9, 6), 2, True, 1, 0, None),
    "exact": ((5, 7, 6), 1, True, 0, 4, "bias"),          # no short form (a bias near 2^30): the exact one
    "exact_shift": ((5, 7, 6), 1, True, 0, 2, "shift"),   # no short form (a multiplier above 1/2, shift 0)
}


@pytest.fixture(scope="module", params=sorted(DSP_KINDS))
def dsp_kind(request, tmp_path_factory):
    """A one-operator int8 DEPTHWISE_CONV_2D .tflite (3x3, input zero point -5) for each way the DSP 3x3 forms
    requantize, with TFLM's outputs on 12 inputs."""
    import tflite
    from tflite16 import conv_options, converted, int8_t, one_op_model, run_tflm, weights_t
    (h, w_, ch), stride, same, act, out_zp, unproven = DSP_KINDS[request.param]
    rng = np.random.default_rng(23)
    small = unproven == "shift"  # small weights and inputs near the zero point: not every output saturates
    weights = rng.integers(-20 if small else -127, 21 if small else 128, (1, 3, 3, ch)).astype(np.int8)
    weights[0, 0, 0, 0] = -128
    scales = rng.uniform(0.002, 0.01, ch).astype(np.float32)
    bias = rng.integers(-300 if small else -3000, 300 if small else 3000, ch).astype(np.int32)
    if unproven == "bias":
        bias[1] = 2 ** 30 + 12345
    in_scale = 0.05
    out_scale = {"bias": 0.02 * 2.0 ** 14, "shift": 1.2 * in_scale * float(scales.max())}.get(unproven, 0.02)
    out_hw = [-(-n // stride) if same else (n - 3) // stride + 1 for n in (h, w_)]
    tensors = [int8_t((1, h, w_, ch), in_scale, -5), weights_t(weights, scales, 3),
               dict(shape=(ch,), type=tflite.TensorType.INT32, scales=[float(np.float32(in_scale)) * float(s)
                                                                       for s in scales], data=bias),
               int8_t((1, *out_hw, ch), out_scale, out_zp)]
    model_bytes = one_op_model(tflite.BuiltinOperator.DEPTHWISE_CONV_2D, *conv_options(True, same, stride, act),
                               tensors, 1)
    model = converted(model_bytes, tmp_path_factory.mktemp("kind"))
    p = next(n.params for n in model.graph.nodes if n.op == "depthwise_conv2d")
    assert ("out_round" in p) == (unproven is None), "the layer does not take the requantization this case is for"
    assert (max(p["out_shift"]) >= 0) == (unproven == "shift")
    assert (p["act_min"] > -128) == (act == 1)
    source = model.files["model.c"]
    assert source.count(f"    mcu_depthwise_conv2d{'_3x3' if stride == 1 else '_3x3s2'}_dsp_s8(&n") == 1
    x = (rng.integers(-8, 9, (12, 1, h, w_, ch)) - 5 if small else rng.integers(-128, 128, (12, 1, h, w_, ch)))
    x = x.astype(np.int8)
    x[0], x[1] = -128, 127
    name = model.report["inputs"][0]["name"]
    return model, model.save(tmp_path_factory.mktemp("project")), {name: x}, run_tflm(model_bytes, [x])


@pytest.mark.parametrize("board", [None, "mps2-an386"] + [pytest.param(b, marks=pytest.mark.slow)
                                                          for b in ("mps2-an500", "mps2-an505", "mps3-an547",
                                                                    "mps2-an385-m0plus")])
def test_the_dsp_depthwise_forms_equal_tflm_in_every_requantization(dsp_kind, board):
    """The assembly (the short requantization to the whole int8 range) and the C row (a clamp to the activation,
    or the exact form) of the DSP 3x3 forms equal TFLM bit for bit, as the host build does; so do the Helium
    forms (the M55) and the Thumb-1 one (the M0+) on the same layers."""
    model, project, feeds, want = dsp_kind
    got = model.build().run(feeds) if board is None else \
        target.run_on_board(project, model.report, boards.load(board), feeds)[0]
    np.testing.assert_array_equal(next(iter(got.values())), want)
    _equals_reference(model, got, feeds)


def _on_host_or_board_equals_reference(converted, board):
    """The host build (the portable forms) or a board's (the M4, M7, M33: the DSP forms)."""
    model, project, feeds = converted
    if board is None:
        got = model.build().run(feeds)
    else:
        got = target.run_on_board(project, model.report, boards.load(board), feeds)[0]
    _equals_reference(model, got, feeds)


def helium_model(rng):
    """NCHW (1, 16, 9, 7), 63 positions (the Helium matrix products' blocks of 8 and a last one of 7): 3x3 pad 1
    16->20 (a depth of 144, a multiple of 16; windows inside the input copied run by run, the others gathered
    with the zero point), 1x1 20->32 (a depth of 20: a predicated head), 1x1 32->32 + Relu (a depth of 32) which
    the planner may run over its input (the rows copied to the scratch buffer first), 1x1 32->13 (a last group
    of one output) and 1x1 32->6 of stride 2 (rows along each output image row), 3x3 stride 2 pad 1 13->12 (a
    depth of 117) and 3x3 of dilation (2, 1) with pads (2, 1) 16->8 from the input; each an output."""
    def w(*shape):
        return rng.normal(0, 0.3, shape).astype(np.float32)

    inits = {"w1": w(20, 16, 3, 3) * 0.5, "b1": w(20), "w2": w(32, 20, 1, 1), "b2": w(32), "w3": w(32, 32, 1, 1),
             "b3": w(32), "w4": w(13, 32, 1, 1), "b4": w(13), "w5": w(12, 13, 3, 3), "b5": w(12),
             "w6": w(6, 32, 1, 1), "b6": w(6), "w7": w(8, 16, 3, 3) * 0.5, "b7": w(8)}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["c3"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c3"], ["a3"]),
        helper.make_node("Conv", ["a3", "w4", "b4"], ["a4"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a3", "w6", "b6"], ["a6"], kernel_shape=[1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["a4", "w5", "b5"], ["a5"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["x", "w7", "b7"], ["a7"], kernel_shape=[3, 3], dilations=[2, 1],
                         pads=[2, 1, 2, 1]),
    ]
    return onnx_model(nodes, [("x", [1, 16, 9, 7])], [("a4", [1, 13, 9, 7]), ("a5", [1, 12, 5, 4]),
                                                     ("a6", [1, 6, 5, 4]), ("a7", [1, 8, 9, 7])], inits)


def _in_place_deep_1x1(model):
    at, size = model.plan.offsets, {n: t.nbytes for n, t in model.graph.tensors.items()}
    return any(at[x] < at[y] + size[y] and at[y] < at[x] + size[x]
               for n in model.graph.nodes if n.op == "conv2d" and n.params["kernel_h"] == n.params["kernel_w"] == 1
               and n.params["in_c"] > 16 for x, y in [(n.inputs[0], n.outputs[0])])


@pytest.fixture(scope="module", params=["positive", "negative"])
def helium(request, tmp_path_factory):
    """Calibrated on data of one sign: the input zero point at -128 or 127 fills the padded taps."""
    rng = np.random.default_rng(17)
    conv = _one_sign_converter(helium_model(rng), request.param, rng, tmp_path_factory)
    for strategy in (None, *planner.STRATEGIES):  # a plan that writes a deep 1x1 convolution over its input
        conv.planner_strategy = strategy
        model = conv.convert()
        if _in_place_deep_1x1(model):
            break
    assert _in_place_deep_1x1(model), "no plan writes a deep 1x1 convolution over its input"
    assert model.files["model.c"].count("mcu_conv2d_mve_s8(&n") == 3
    assert model.files["model.c"].count("mcu_conv2d_1x1_mve_s8(&n") == 4
    return _one_sign_case(model, request.param, rng, 12, tmp_path_factory)


def test_the_helium_model_on_the_host_equals_the_reference(helium):
    _equals_reference(helium[0], helium[0].build().run(helium[2]), helium[2])


@pytest.mark.slow
@pytest.mark.parametrize("board", EMULATED)
def test_the_helium_model_on_every_core_equals_the_reference(helium, board):
    _on_board_equals_reference(helium, board)


def helium_rows_model(rng, huge=None):
    """NCHW (1, 6, 11, 9): the Helium depthwise rows of 4k + 1 positions taken as 4 + 5 (the five in assembly, the
    last one to three channels out of line) and the short requantization's per-layer choice: 3x3 pad 1 on 6
    channels (rows of 9: 4 + 5, a group of four and two alone), twice (d1, d5), and 3x3 stride 2 pad 1 (rows of
    5); a 1x1 6->16, 3x3 stride 2 pad 1 on its 16 channels (five at stride 2, whole groups) and 3x3 pad 1 on them;
    1x1 16->32 and two 1x1 32->8 (a depth of 32: the matrix product's whole vectors). `huge`: the float biases
    that put channel 1 of d4, d5 and a3 at about 1.05 * 2^30 (int32), past the short form's proven bound: those
    layers keep the exact requantization. Each an output."""
    def w(*shape):
        return rng.normal(0, 0.4, shape).astype(np.float32)

    inits = {"wd1": w(6, 1, 3, 3), "bd1": w(6), "wd2": w(6, 1, 3, 3), "bd2": w(6), "w1": w(16, 6, 1, 1),
             "b1": w(16), "wd3": w(16, 1, 3, 3), "bd3": w(16), "wd4": w(16, 1, 3, 3), "bd4": w(16),
             "w2": w(32, 16, 1, 1) * 0.5, "b2": w(32), "w3": w(8, 32, 1, 1) * 0.3, "b3": w(8),
             "w4": w(8, 32, 1, 1) * 0.3, "b4": w(8), "wd5": w(6, 1, 3, 3), "bd5": w(6)}
    for name, value in (huge or {}).items():
        inits[name][1] = value
    nodes = [
        helper.make_node("Conv", ["x", "wd1", "bd1"], ["d1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6),
        helper.make_node("Conv", ["x", "wd2", "bd2"], ["d2"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                         group=6),
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a1", "wd3", "bd3"], ["d3"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], group=16),
        helper.make_node("Conv", ["a1", "wd4", "bd4"], ["d4"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
        helper.make_node("Conv", ["a1", "w2", "b2"], ["a2"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w3", "b3"], ["a3"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["a2", "w4", "b4"], ["a4"], kernel_shape=[1, 1]),
        helper.make_node("Conv", ["x", "wd5", "bd5"], ["d5"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6),
    ]
    return onnx_model(nodes, [("x", [1, 6, 11, 9])], [("d1", [1, 6, 11, 9]), ("d2", [1, 6, 6, 5]),
                                                     ("d5", [1, 6, 11, 9]),
                                                     ("d3", [1, 16, 6, 5]), ("d4", [1, 16, 11, 9]),
                                                     ("a3", [1, 8, 11, 9]), ("a4", [1, 8, 11, 9])], inits)


@pytest.fixture(scope="module", params=["positive", "negative"])
def helium_rows(request, tmp_path_factory):
    """d4's, d5's and a3's channel 1 biases raised until their int32 bias is about 1.05 * 2^30 (the converter caps it
    at 2^30 by raising the channel's weight scale, so the accumulator bound passes 2^30): from the int32 bias
    per float unit of a conversion (input scale times weight scale), the same calibration data each time."""
    def convert(huge):
        proto = helium_rows_model(np.random.default_rng(23), huge)
        model = _one_sign_converter(proto, request.param, np.random.default_rng(19), tmp_path_factory).convert()
        return proto, model, {n.name: n for n in model.graph.nodes if n.op != "transpose"}

    huge = {}
    proto, model, nodes = convert(huge)
    for _ in range(3):
        if not any("out_round" in nodes[out].params for out in ("d4", "d5", "a3")):
            break
        for name, out in (("bd4", "d4"), ("bd5", "d5"), ("b3", "a3")):
            bias = float(huge.get(name, onnx_initializer(proto, name)[1]))
            huge[name] = np.float32(bias * 1.05 * 2.0 ** 30 / float(nodes[out].params["bias"][1]))
        proto, model, nodes = convert(huge)
    assert {out for out in ("d1", "d2", "d3", "d4", "d5", "a3", "a4") if "out_round" in nodes[out].params} == \
        {"d1", "d2", "d3", "a4"}
    assert model.files["model.c"].count("mcu_depthwise_conv2d_3x3_mve_s8(&n") == 3
    assert model.files["model.c"].count("mcu_depthwise_conv2d_3x3s2_mve_s8(&n") == 2
    assert model.files["model.c"].count("mcu_conv2d_1x1_mve_s8(&n") == 2
    return _one_sign_case(model, request.param, np.random.default_rng(29), 12, tmp_path_factory)


def onnx_initializer(proto, name):
    return next(onnx.numpy_helper.to_array(t) for t in proto.graph.initializer if t.name == name)


def test_the_helium_rows_model_on_the_host_equals_the_reference(helium_rows):
    _equals_reference(helium_rows[0], helium_rows[0].build().run(helium_rows[2]), helium_rows[2])


def test_the_helium_rows_model_compiles_for_every_core_at_every_level(helium_rows):
    _compiles_for_every_core(helium_rows[1])


@pytest.mark.slow
def test_the_helium_rows_model_on_the_m55_equals_the_reference(helium_rows):
    _on_board_equals_reference(helium_rows, "mps3-an547")
