"""Pyramid level 4: real models converted, compiled with gcc -std=c99 -Wall -Wextra -Werror -pedantic, run
through cffi, equal to the NumPy reference bit for bit; and the reference against the float model."""
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from helpers import run_onnxruntime
from mlperf import CASES, CLASSIFIERS, dataset, onnx_path, ref
from models import nchw_cnn

import mcu_codegen
from mcu_codegen import planner
from mcu_codegen.build import STRICT_FLAGS

_cache = {}


def converted(case, io="int8"):
    if (case, io) not in _cache:
        conv = mcu_codegen.Converter.from_onnx(onnx_path(case))
        conv.representative_dataset = [{"input_1": dataset(case, "calibration")}]
        conv.inference_input_type = conv.inference_output_type = io
        _cache[case, io] = conv.convert()
    return _cache[case, io]


def int8_inputs(model, case, n=100):
    """The evaluation set quantized with the model's input parameters, TFLM's random reference inputs, and
    the two extremes (all -128, all 127): at least n + 2 inputs."""
    meta = model.report["inputs"][0]
    x = dataset(case, "evaluation", n)
    q = np.clip(np.round(x / meta["scale"]) + meta["zero_point"], -128, 127).astype(np.int8)
    q = q.reshape((len(q),) + tuple(meta["shape"]))
    extremes = np.stack([np.full(meta["shape"], -128, np.int8), np.full(meta["shape"], 127, np.int8)])
    return np.concatenate([q, ref(case)["inputs_int8"].reshape((-1,) + tuple(meta["shape"])), extremes])


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("strategy", [None, *planner.STRATEGIES])
def test_shared_model_c_equals_reference(case, strategy):
    """Once per arena strategy: in-place overlaps differ between plans, the outputs must not."""
    model = converted(case)
    if strategy is not None:
        model = mcu_codegen.Model(model.graph, "model", strategy)
    planner.check(model.graph, model.plan)
    x = int8_inputs(model, case)
    assert len(x) >= 100
    got = model.build().run({"input_1": x})
    want = model.reference({"input_1": x})
    name = model.report["outputs"][0]["name"]
    np.testing.assert_array_equal(got[name], want[name])
    assert len(np.unique(want[name].reshape(len(x), -1), axis=0)) > 10  # the outputs really vary with the input


# Floors a little under what bench/accuracy.py measured (kws 23.6 dB / 99%, vww 40.3 / 100%, ic 19.0 / 92%,
# ad 41.9): a regression guard on quantization quality, not a promise about task accuracy.
QUALITY = {"kws": (20.0, 0.95), "vww": (35.0, 0.97), "ic": (16.0, 0.85), "ad": (38.0, None)}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_reference_agrees_with_float_model(case):
    model = converted(case, "float32")
    x = dataset(case, "evaluation")
    sess = ort.InferenceSession(str(onnx_path(case)), providers=["CPUExecutionProvider"])
    want = np.concatenate([sess.run(None, {"input_1": x[i:i + 1]})[0] for i in range(len(x))])
    got = model.reference({"input_1": x.reshape((len(x), 1) + x.shape[1:])})
    got = next(iter(got.values())).reshape(want.shape)
    sqnr = 10 * np.log10(np.sum(want.astype(np.float64) ** 2) / np.sum((want - got).astype(np.float64) ** 2))
    floor, top1 = QUALITY[case]
    print(f"{case}: SQNR {sqnr:.1f} dB", end="")
    assert sqnr >= floor
    if case in CLASSIFIERS:
        agreement = np.mean(want.argmax(-1) == got.argmax(-1))
        print(f", top-1 agreement {100 * agreement:.1f}%")
        assert agreement >= top1


@pytest.mark.slow
@pytest.mark.parametrize("io", ["uint8", "float32"])
def test_io_types_c_equals_reference(io):
    model = converted("kws", io)
    meta = model.report["inputs"][0]
    assert meta["dtype"] == io and model.report["outputs"][0]["dtype"] == io
    x = dataset("kws", "evaluation", 20).reshape((20,) + tuple(meta["shape"]))
    if io == "uint8":
        x = np.clip(np.round(x / meta["scale"]) + meta["zero_point"], 0, 255).astype(np.uint8)
    got, want = model.build().run({"input_1": x}), model.reference({"input_1": x})
    np.testing.assert_array_equal(got["dense"], want["dense"])
    # the same network inside: int8 and uint8 I/O differ only by the 128 shift
    if io == "uint8":
        x8 = (x.astype(np.int16) - 128).astype(np.int8)
        np.testing.assert_array_equal(converted("kws").reference({"input_1": x8})["dense"].astype(np.int16) + 128,
                                      want["dense"])


def nchw_model_converted(tmp_path, io="int8", opset=11):
    path = tmp_path / "nchw.onnx"
    onnx.save(nchw_cnn(opset), path)
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.representative_dataset = lambda: ({"x": x} for x in np.random.default_rng(0).normal(0, 1, (64, 1, 3, 16, 16)))
    conv.inference_input_type = conv.inference_output_type = io
    return path, conv.convert()


@pytest.mark.parametrize("io,opset", [("int8", 11), ("float32", 11), ("float32", 21)])
def test_pytorch_style_nchw_model(tmp_path, io, opset):
    path, model = nchw_model_converted(tmp_path, io, opset)
    ops = [n.op for n in model.graph.nodes]
    # BatchNorm folded, activations fused, Dropout gone, the NCHW flatten folded into the FC weights; the only
    # data movement left is the NCHW input itself
    assert ops.count("transpose") == 1 and "batchnorm" not in ops and "clamp" not in ops
    planner.check(model.graph, model.plan)
    x = np.random.default_rng(1).normal(0, 1, (100, 1, 3, 16, 16)).astype(np.float32)
    if io == "int8":
        meta = model.report["inputs"][0]
        x = np.clip(np.round(x / meta["scale"]) + meta["zero_point"], -128, 127).astype(np.int8)
    got, want = model.build().run({"x": x}), model.reference({"x": x})
    np.testing.assert_array_equal(got["probs"], want["probs"])
    if io == "float32":
        ort_out = np.concatenate([run_onnxruntime(onnx.load(path), {"x": s})[0] for s in x])
        got = want["probs"].reshape(ort_out.shape)
        sqnr = 10 * np.log10(np.sum(ort_out.astype(np.float64) ** 2) / np.sum((ort_out - got).astype(np.float64) ** 2))
        print(f"nchw model: max |diff| {np.abs(got - ort_out).max():.4f}, SQNR {sqnr:.1f} dB")
        assert np.abs(got - ort_out).max() < 0.04 and sqnr > 25  # 1/256 output steps: ~10 LSB at worst


# clang -Weverything minus two warnings that do not apply to C99 targets: mixing declarations and code is C99,
# and -Wpadded only reports the padding a 64-bit host puts before pointers in the parameter structs.
CLANG_EVERYTHING = ["-std=c99", "-Weverything", "-Werror", "-Wno-declaration-after-statement", "-Wno-padded"]


@pytest.mark.slow
@pytest.mark.parametrize("case,io", [("kws", "int8"), ("ic", "int8"), ("kws", "float32"), ("kws", "uint8")])
def test_generated_c_is_clean_under_clang_and_sanitizers(tmp_path, case, io):
    """clang -Weverything (minus the list above), then gcc with -fsanitize=address,undefined on a heap arena
    of exactly MODEL_ARENA_SIZE bytes: any access outside the arena or any UB aborts the run."""
    model = converted(case, io)
    x = int8_inputs(converted(case), case, n=20)
    meta = model.report["inputs"][0]
    if io == "uint8":
        x = (x.astype(np.int16) + 128).astype(np.uint8)
    elif io == "float32":
        inner = meta["quantized_as"]
        x = ((x.astype(np.float32) - inner["zero_point"]) * inner["scale"]).astype(np.float32)
    want = next(iter(model.reference({"input_1": x}).values()))
    got = np.frombuffer(sanitized_run(model, tmp_path, x), want.dtype).reshape(want.shape)
    np.testing.assert_array_equal(got, want)


def sanitized_run(model, work, x):
    """The model's project compiled with clang -Weverything (no warning may remain), then with gcc's address and
    undefined-behaviour sanitizers around HARNESS (a heap arena of exactly MODEL_ARENA_SIZE bytes); run on the
    inputs x back to back. Returns the outputs' bytes."""
    project = model.save(work / "project")
    subprocess.run(["clang", *CLANG_EVERYTHING, "-O2", "-I", str(project), "-c", str(project / "model.c"),
                    "-o", str(work / "model.o")], check=True)
    (work / "harness.c").write_text(HARNESS)
    exe = work / "model_asan"
    subprocess.run(["gcc", *STRICT_FLAGS, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-I", str(project), str(project / "model.c"), str(work / "harness.c"), "-o", str(exe), "-lm"],
                   check=True)
    return subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout


HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"
/* stdin: int8 inputs back to back; stdout: the outputs. One input, one output. */
int main(void)
{
    void *arena = malloc(MODEL_ARENA_SIZE);
    if (arena == NULL) {
        return 1;
    }
    while (fread(model_input(arena, 0), sizeof(MODEL_INPUT0_TYPE), MODEL_INPUT0_SIZE, stdin) == MODEL_INPUT0_SIZE) {
        if (model_invoke(arena) != 0) {
            return 2;
        }
        fwrite(model_output(arena, 0), sizeof(MODEL_OUTPUT0_TYPE), MODEL_OUTPUT0_SIZE, stdout);
    }
    free(arena);
    return 0;
}
"""


@pytest.mark.slow
def test_two_models_link_into_one_firmware(tmp_path):
    """--name keeps the API apart; the kernels are private to each model source."""
    projects = {}
    for case in ("kws", "ad"):
        conv = mcu_codegen.Converter.from_onnx(onnx_path(case))
        conv.representative_dataset = [{"input_1": dataset(case, "calibration", 20)}]
        conv.name = case
        projects[case] = (conv.convert(), conv.convert().save(tmp_path / case))
    main = tmp_path / "main.c"
    main.write_text(r"""
#include <stdio.h>
#include <string.h>
#include "kws.h"
#include "ad.h"
static uint32_t kws_arena[(KWS_ARENA_SIZE + 3) / 4];
static uint32_t ad_arena[(AD_ARENA_SIZE + 3) / 4];
int main(void)
{
    memset(kws_input(kws_arena, 0), 0, KWS_INPUT0_SIZE);
    memset(ad_input(ad_arena, 0), 0, AD_INPUT0_SIZE);
    if (kws_invoke(kws_arena) != 0 || ad_invoke(ad_arena) != 0) {
        return 1;
    }
    fwrite(kws_output(kws_arena, 0), 1, KWS_OUTPUT0_SIZE, stdout);
    fwrite(ad_output(ad_arena, 0), 1, AD_OUTPUT0_SIZE, stdout);
    return 0;
}
""")
    exe = tmp_path / "firmware"
    subprocess.run(["gcc", *STRICT_FLAGS, "-O2", "-I", str(tmp_path / "kws"), "-I", str(tmp_path / "ad"),
                    str(main), str(tmp_path / "kws" / "kws.c"), str(tmp_path / "ad" / "ad.c"), "-o", str(exe)],
                   check=True)
    out = np.frombuffer(subprocess.run([str(exe)], capture_output=True, check=True).stdout, np.int8)
    kws, ad = projects["kws"][0], projects["ad"][0]
    want_kws = kws.reference({"input_1": np.zeros((1, 49, 10, 1), np.int8)})["dense"].ravel()
    want_ad = ad.reference({"input_1": np.zeros((1, 640), np.int8)})["Identity"].ravel()
    np.testing.assert_array_equal(out, np.concatenate([want_kws, want_ad]))
