"""Per shared model: conversion time, weight bytes, our arena next to TFLM's smallest arena for the same
model (../shared/models/mlperf-tiny/ref/tflm_summary.json, measured with the tflite-micro package)."""
import json
import time

from _shared import convert, mlperf


def main():
    tflm = json.loads((mlperf.SHARED / "ref" / "tflm_summary.json").read_text())["cases"]
    print(f"{'model':6} {'convert s':>9} {'weights B':>10} {'MACs':>10} {'arena B':>8} {'bound B':>8} "
          f"{'TFLM arena B':>12} {'ours/TFLM':>9}")
    for case in mlperf.CASES:
        start = time.perf_counter()
        model = convert(case)
        seconds = time.perf_counter() - start
        r = model.report
        t = tflm[case]["tflm_min_arena_bytes"]
        print(f"{case:6} {seconds:9.2f} {r['weight_bytes']:10d} {r['macs']:10d} {r['arena_size']:8d} "
              f"{r['arena_lower_bound']:8d} {t:12d} {r['arena_size'] / t:9.2f}")


if __name__ == "__main__":
    main()
