"""The int8 TFLite models imported: our arena vs TFLM's smallest working arena (bisection with the live
interpreter), our weight bytes vs the .tflite file, and host inference time of our C (gcc -O2, through cffi)
vs TFLM's interpreter (reference kernels, the pip package), same inputs, same machine, as a ratio."""
import time

import numpy as np
from arena import tflm_min_arena

from _shared import mlperf
import mcu_codegen
from tflite_micro import runtime

RUNS = 30


def main():
    print(f"{'model':6} {'ours B':>8} {'TFLM B':>8} {'ratio':>6} {'weights B':>10} {'.tflite B':>10} {'ratio':>6} "
          f"{'C ms':>8} {'TFLM ms':>8} {'C/TFLM':>7}")
    for case in mlperf.CASES:
        path = mlperf.tflite_path(case)
        model = mcu_codegen.Converter.from_tflite(path).convert()
        meta = model.report["inputs"][0]
        x = np.random.default_rng(0).integers(-128, 128, (RUNS,) + tuple(meta["shape"])).astype(np.int8)
        host = model.build()
        host.run({meta["name"]: x[:1]})  # warm up
        start = time.perf_counter()
        host.run({meta["name"]: x})
        c_ms = (time.perf_counter() - start) / RUNS * 1e3
        interp = runtime.Interpreter.from_file(str(path), arena_size=1 << 20)
        start = time.perf_counter()
        for sample in x:
            interp.set_input(sample, 0)
            interp.invoke()
            interp.get_output(0)
        tflm_ms = (time.perf_counter() - start) / RUNS * 1e3
        tflm_arena, _ = tflm_min_arena(case)
        weights, size = model.report["weight_bytes"], path.stat().st_size
        print(f"{case:6} {model.arena_size:8d} {tflm_arena:8d} {model.arena_size / tflm_arena:6.2f} {weights:10d} "
              f"{size:10d} {weights / size:6.2f} {c_ms:8.3f} {tflm_ms:8.3f} {c_ms / tflm_ms:7.2f}")


if __name__ == "__main__":
    main()
