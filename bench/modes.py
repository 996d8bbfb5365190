"""The modes side by side on each shared float model (ONNX), on the emulated Cortex-M4F (mps2-an386), Cortex-M7
(mps2-an500) and Cortex-M55 (mps3-an547): flash (weights = .rodata, code = .text), arena, instructions per
inference counted by the QEMU plugin, and output SQNR against the float model (onnxruntime) on the evaluation
inputs. Each mode keeps its own I/O type (int8, int16, float32): the script quantizes the inputs and dequantizes
the outputs, so the arena is what firmware would allocate. float32, float16 and dynamic run on the core's
single-precision FPU. The shared models have no op without an integer kernel, so the float fallback row is the
tests' conv -> exp -> conv model (tests/test_modes.py exp_model), against its int8-impossible float32 run."""
import tempfile

import numpy as np
import onnxruntime as ort

from _shared import mlperf, sqnr_db
import mcu_codegen
from mcu_codegen import boards, debug, target

MODES = [("int8", {}), ("int8 clip+bc", dict(weight_clipping=True, bias_correction=True)),
         ("int16x8", dict(mode="int16x8")), ("float32", dict(mode="float32")), ("float16", dict(mode="float16")),
         ("dynamic", dict(mode="dynamic"))]
BOARDS = ["mps2-an386", "mps2-an500", "mps3-an547"]


def convert(path, samples, options):
    conv = mcu_codegen.Converter.from_onnx(path)
    conv.representative_dataset = [{conv.input_names()[0]: samples}]
    for k, v in options.items():
        setattr(conv, k, v)
    return conv.convert()


def row(case, label, model, x, want):
    meta, out = model.report["inputs"][0], model.report["outputs"][0]
    q = debug.quantized_input(model.graph, x.reshape((len(x),) + tuple(meta["shape"])))
    got = next(iter(model.reference({meta["name"]: q}).values())).astype(np.float64)
    got = (got - out["zero_point"]) * out["scale"] if out["dtype"] != "float32" else got
    cells = []
    with tempfile.TemporaryDirectory() as work:
        project = model.save(f"{work}/project")
        for name in BOARDS:
            board = boards.load(name)
            s = target.sizes(project, model.name, board, model.arena_size, work)
            try:
                _, counts = target.run_on_board(project, model.report, board, {meta["name"]: q[:3]}, count=True)
                cells.append(f"{s.code:17d} {sum(counts) / len(counts):17.0f}")
            except RuntimeError:  # the board's memory is too small for this mode (vww float32 on the M55)
                cells.append(f"{s.code:17d} {'does not fit':>17}")
    print(f"{case:5} {label:13} {sqnr_db(want, got.reshape(want.shape)):7.1f} {s.weights:9d} "
          f"{model.arena_size:8d} " + " ".join(cells), flush=True)


def main():
    print(f"{'model':5} {'mode':13} {'SQNR dB':>7} {'weights B':>9} {'arena B':>8} "
          + " ".join(f"{b + ' code B':>17} {b + ' instr':>17}" for b in BOARDS))
    for case in mlperf.CASES:
        x = mlperf.dataset(case, "evaluation", 50)
        sess = ort.InferenceSession(str(mlperf.onnx_path(case)), providers=["CPUExecutionProvider"])
        want = np.concatenate([sess.run(None, {"input_1": x[i:i + 1]})[0] for i in range(len(x))])
        for label, options in MODES:
            row(case, label, convert(mlperf.onnx_path(case), mlperf.dataset(case, "calibration"), options), x, want)
    import onnx
    from test_modes import exp_model
    with tempfile.TemporaryDirectory() as work:
        path = f"{work}/exp.onnx"
        onnx.save(exp_model(), path)
        rng = np.random.default_rng(0)
        calibration, x = (rng.normal(0, 1, (n, 1, 3, 8, 6)).astype(np.float32) for n in (64, 50))
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        want = np.concatenate([sess.run(None, {"x": s})[0] for s in x])
        for label, options in [("int8 fallback", dict(float_fallback=True)), ("float32", dict(mode="float32"))]:
            row("exp", label, convert(path, calibration, options), x, want)


if __name__ == "__main__":
    main()
