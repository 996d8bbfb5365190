"""The three modes side by side on each shared float model (ONNX), on the emulated Cortex-M4F (mps2-an386) and
Cortex-M7 (mps2-an500): flash (weights = .rodata, code = .text), arena, instructions per inference counted by the
QEMU plugin, and output SQNR against the float model (onnxruntime) on the evaluation inputs. Each mode keeps
its own I/O type (int8, int16, float32): the script quantizes the inputs and dequantizes the outputs, so the
arena is what firmware would allocate. float32 runs on the core's single-precision FPU."""
import tempfile

import numpy as np
import onnxruntime as ort

from _shared import mlperf, sqnr_db
import mcu_codegen
from mcu_codegen import boards, debug, target

MODES = [("int8", {}), ("int8 clip+bc", dict(weight_clipping=True, bias_correction=True)),
         ("int16x8", dict(mode="int16x8")), ("float32", dict(mode="float32"))]
BOARDS = ["mps2-an386", "mps2-an500"]


def convert(case, options):
    conv = mcu_codegen.Converter.from_onnx(mlperf.onnx_path(case))
    conv.representative_dataset = [{"input_1": mlperf.dataset(case, "calibration")}]
    for k, v in options.items():
        setattr(conv, k, v)
    return conv.convert()


def main():
    print(f"{'model':5} {'mode':13} {'SQNR dB':>7} {'weights B':>9} {'arena B':>8} "
          + " ".join(f"{b + ' code B':>17} {b + ' instr':>17}" for b in BOARDS))
    for case in mlperf.CASES:
        x = mlperf.dataset(case, "evaluation", 50)
        sess = ort.InferenceSession(str(mlperf.onnx_path(case)), providers=["CPUExecutionProvider"])
        want = np.concatenate([sess.run(None, {"input_1": x[i:i + 1]})[0] for i in range(len(x))])
        for label, options in MODES:
            model = convert(case, options)
            meta, out = model.report["inputs"][0], model.report["outputs"][0]
            shape = tuple(meta["shape"])
            q = debug.quantized_input(model.graph, x.reshape((len(x),) + shape))
            got = next(iter(model.reference({"input_1": q}).values())).astype(np.float64)
            got = (got - out["zero_point"]) * out["scale"] if out["dtype"] != "float32" else got
            cells = []
            with tempfile.TemporaryDirectory() as work:
                project = model.save(f"{work}/project")
                for name in BOARDS:
                    board = boards.load(name)
                    s = target.sizes(project, model.name, board, model.arena_size, work)
                    _, counts = target.run_on_board(project, model.report, board, {"input_1": q[:3]}, count=True)
                    cells.append(f"{s.code:17d} {sum(counts) / len(counts):17.0f}")
            print(f"{case:5} {label:13} {sqnr_db(want, got.reshape(want.shape)):7.1f} {s.weights:9d} "
                  f"{model.arena_size:8d} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()
