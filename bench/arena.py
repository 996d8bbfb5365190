"""Activation RAM per shared model: ours next to TFLM's smallest arena (found now by bisection with the
tflite-micro package where it is installed, else the figure in ref/tflm_summary.json), STM32Cube.AI's
published activation RAM, and the live-set lower bound of the model order (no in-place)."""
import contextlib
import json
import os

import numpy as np

from _shared import convert, mlperf
from mcu_codegen import planner

CUBE_AI = {"kws": 22272, "vww": 72024, "ic": 56672, "ad": 2048}  # published: 9.0 (vww: 8.0)


def tflm_min_arena(case):
    summary = json.loads((mlperf.SHARED / "ref" / "tflm_summary.json").read_text())["cases"][case]
    try:
        from tflite_micro import runtime
    except ImportError:
        return summary["tflm_min_arena_bytes"], "shared figure"
    path = str(mlperf.SHARED / summary["int8_model"])
    x = np.zeros(summary["input_shape"], np.int8)

    def fits(n):
        try:
            interp = runtime.Interpreter.from_file(path, arena_size=n)
            interp.set_input(x, 0)
            interp.invoke()
            return True
        except RuntimeError:
            return False
    lo, hi = 0, 1 << 21  # fits(hi), not fits(lo)
    with _quiet_stderr():  # TFLM reports each failed allocation on stderr
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi, "measured"


@contextlib.contextmanager
def _quiet_stderr():
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main():
    print(f"{'model':6} {'TFLM':>8} {'Cube.AI':>8} {'bound':>8} {'ours':>8} {'strategy':>19} "
          f"{'ours/bound':>10} {'ours/TFLM':>9} {'ours/Cube':>9}  TFLM figure")
    for case in mlperf.CASES:
        model = convert(case)
        bound = planner.plan(model.graph, "greedy_by_size", search_iterations=0).lower_bound
        tflm, how = tflm_min_arena(case)
        ours = model.arena_size
        print(f"{case:6} {tflm:8d} {CUBE_AI[case]:8d} {bound:8d} {ours:8d} {model.plan.strategy:>19} "
              f"{ours / bound:10.2f} {ours / tflm:9.2f} {ours / CUBE_AI[case]:9.2f}  {how}")


if __name__ == "__main__":
    main()
