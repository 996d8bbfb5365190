"""Our kernels against CMSIS-NN's, on the same int8 .tflite, core, compiler, flags, QEMU machine, counting plugin
and inputs (../shared/anchors/cmsis-nn/measure.py, run here in the same invocation): instructions per inference
(mean of the same 8 inputs: all -128, all 127, six uniform random), the ratio, instructions per MAC, the code
linked (ours: .text of the model object, kernels included; CMSIS-NN: its library's .text in the ELF) and our
arena. Both sides check their outputs (ours against our host build, CMSIS-NN against TFLM).

    python3 bench/kernels.py [--models kws,vww] [--cores m4,m55] [--optimize speed|size] [--per-layer]

--per-layer adds, per model and core, each layer's instructions on both sides (ours counted with the
MCU_PROFILE_LAYER hook; CMSIS-NN's by measure.py --per-layer), matched by the .tflite operator index.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _shared import mlperf

import mcu_codegen
from mcu_codegen import boards, target

MEASURE = mlperf.SHARED.parents[1] / "anchors" / "cmsis-nn" / "measure.py"
sys.path.insert(0, str(MEASURE.parent))
from measure import default_inputs  # noqa: E402  the very inputs measure.py feeds CMSIS-NN
BOARDS = {"m0plus": "mps2-an385-m0plus", "m4": "mps2-an386", "m7": "mps2-an500", "m33": "mps2-an505",
          "m55": "mps3-an547"}
def cmsis_nn(case, cores, work, per_layer=False):
    out = Path(work) / f"{case}.json"
    r = subprocess.run([sys.executable, str(MEASURE), str(mlperf.tflite_path(case)), "--core", ",".join(cores)
                        if len(cores) == 1 else "all", "--json", str(out), *(["--per-layer"] if per_layer else [])],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"measure.py failed on {case}: {r.stdout[-500:]} {r.stderr[-500:]}")
    return json.loads(out.read_text())["cores"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(mlperf.CASES))
    ap.add_argument("--cores", default=",".join(BOARDS))
    ap.add_argument("--optimize", default="speed", choices=("speed", "size"))
    ap.add_argument("--per-layer", action="store_true")
    a = ap.parse_args()
    cores = a.cores.split(",")
    print(f"{'model':5} {'core':6} {'ours':>12} {'CMSIS-NN':>12} {'ratio':>6} {'ours/MAC':>8} {'CMSIS/MAC':>9} "
          f"{'our code B':>10} {'CMSIS code B':>12} {'arena B':>8}")
    for case in a.models.split(","):
        conv = mcu_codegen.Converter.from_tflite(mlperf.tflite_path(case))
        conv.optimize = a.optimize
        model = conv.convert()
        macs = model.report["macs"]
        with tempfile.TemporaryDirectory() as work:
            reference = cmsis_nn(case, cores, work, a.per_layer)
            project = model.save(f"{work}/project")
            x = default_inputs(tuple(model.report["inputs"][0]["shape"]), 8)
            feeds = {model.report["inputs"][0]["name"]: x}
            host = model.build().run(feeds)
            for core in cores:
                board = boards.load(BOARDS[core])
                s = target.sizes(project, model.name, board, model.arena_size, work)
                outs, counts = target.run_on_board(project, model.report, board, feeds, count=True)
                same = all(np.array_equal(outs[k], host[k]) for k in host)
                ours, ref = float(np.mean(counts)), reference[core]
                print(f"{case:5} {core:6} {ours:12,.0f} {ref['instructions_mean']:12,.0f} "
                      f"{ours / ref['instructions_mean']:6.2f} {ours / macs:8.2f} {ref['instructions_per_mac']:9.2f} "
                      f"{s.code:10,d} {ref['text_bytes']:12,d} {model.arena_size:8,d}"
                      + ("" if same and ref["bit_exact"] else "  NOT BIT-EXACT"), flush=True)
                if a.per_layer:
                    print_layers(model.report, target.run_on_board(project, model.report, board, feeds,
                                                                   per_layer=True)[2], ref["layers"])


def print_layers(report, ours, theirs):
    by_index = {t["index"]: t for t in theirs}
    print(f"    {'#':>3} {'op':18} {'MACs':>9} {'ours':>10} {'CMSIS-NN':>10} {'ratio':>6} {'ours/MAC':>8} "
          f"{'CMSIS/MAC':>9}")
    for node, counts in ours:
        n = report["nodes"][node]
        index = int(n["name"].split()[0].lstrip("#")) if n["name"].startswith("#") else node
        mine, t = float(np.mean(counts)), by_index.get(index)
        other = t["instructions_mean"] if t else float("nan")
        per = (lambda v: f"{v / n['macs']:8.2f}" if n["macs"] else f"{'':8}")
        print(f"    {index:3d} {n['op']:18} {n['macs']:9,d} {mine:10,.0f} {other:10,.0f} {mine / other:6.2f} "
              f"{per(mine)} {per(other)} ")


if __name__ == "__main__":
    main()
