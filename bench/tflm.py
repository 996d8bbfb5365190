"""The int8 TFLite models imported: our arena vs TFLM's smallest working arena (bisection with the live
interpreter), our weight bytes vs the .tflite file, and host inference time of our C (the host build: -O3
-march=native, build.host_optimization, through cffi) vs TFLM's interpreter (reference kernels, the pip
package), same inputs, same machine, as a ratio; each time the best of REPEATS runs of RUNS inputs, so that a
loaded machine's stalls do not land on one side only."""
import time

import numpy as np
from arena import tflm_min_arena

from _shared import mlperf
import mcu_codegen
from tflite_micro import runtime

RUNS = 30
REPEATS = 5


def best_ms(run):
    """Milliseconds per inference, the best of REPEATS runs over the RUNS inputs."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) / RUNS * 1e3


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
        interp = runtime.Interpreter.from_file(str(path), arena_size=1 << 20)

        def tflm():
            for sample in x:
                interp.set_input(sample, 0)
                interp.invoke()
                interp.get_output(0)
        c_ms = best_ms(lambda: host.run({meta["name"]: x}))
        tflm_ms = best_ms(tflm)
        tflm_arena, _ = tflm_min_arena(case)
        weights, size = model.report["weight_bytes"], path.stat().st_size
        print(f"{case:6} {model.arena_size:8d} {tflm_arena:8d} {model.arena_size / tflm_arena:6.2f} {weights:10d} "
              f"{size:10d} {weights / size:6.2f} {c_ms:8.3f} {tflm_ms:8.3f} {c_ms / tflm_ms:7.2f}")


if __name__ == "__main__":
    main()
