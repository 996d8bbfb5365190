"""Our kernels against CMSIS-NN's, on the same int8 .tflite, core, compiler, flags, QEMU machine, counting plugin
and inputs (../shared/anchors/cmsis-nn/measure.py, run here in the same invocation): instructions per inference
(mean of the same 8 inputs: all -128, all 127, six uniform random), the ratio, instructions per MAC, the code
linked (ours: .text of the model object, kernels included; CMSIS-NN: its library's .text in the ELF) and our
arena: the one plan for every core's forms (a conversion without --board) and the core's own (convert --board:
only the forms that core takes, so no other core's scratch). Both sides check their outputs (ours against our host build, CMSIS-NN against TFLM).

    python3 bench/kernels.py [--models kws,vww] [--cores m4,m55] [--optimize speed|size] [--opt Os] [--per-layer]

--opt: the optimization level our model is compiled at for the runs and the code bytes (default O2: -O2, as
`mcu-codegen run` builds it; Os / Oz: a size build of the same C). CMSIS-NN's columns stay measure.py's -O2.

--per-layer adds, per model and core, each layer's instructions on both sides (ours counted with the
MCU_PROFILE_LAYER hook; CMSIS-NN's by measure.py --per-layer), matched by the .tflite operator index.

    python3 bench/kernels.py --exporter gru,lstm,kwt [--cores m4,m55]

--exporter: instead of the shared models, the files of tests/models whose name contains one of the words (an
int8 .tflite as it is, a float model calibrated on its .npz as tests/test_exporter_models.py does, int8 I/O).
measure.py takes only CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, ADD, SOFTMAX and RESHAPE: for a model
with other operators (recurrent, attention) the CMSIS-NN columns say why they are empty.
"""
import argparse
import copy
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
def cmsis_nn(tflite, cores, work, per_layer=False, required=True):
    """measure.py's figures per core; required=False: None and measure.py's last line when it cannot run the
    file (an operator it does not take)."""
    out = Path(work) / f"{Path(tflite).stem}.json"
    r = subprocess.run([sys.executable, str(MEASURE), str(tflite), "--core", ",".join(cores)
                        if len(cores) == 1 else "all", "--json", str(out), *(["--per-layer"] if per_layer else [])],
                       capture_output=True, text=True)
    if r.returncode != 0:
        said = (r.stdout + r.stderr).strip().splitlines()
        if not required:
            return None, said[-1] if said else "failed"
        raise SystemExit(f"measure.py failed on {tflite}: {r.stdout[-500:]} {r.stderr[-500:]}")
    return json.loads(out.read_text())["cores"], None


def cases(a):
    """(label, converted model, the .tflite measure.py can take or None) of the shared or exporter models."""
    if not a.exporter:
        for case in a.models.split(","):
            conv = mcu_codegen.Converter.from_tflite(mlperf.tflite_path(case))
            conv.optimize = a.optimize
            yield case, conv.convert(), mlperf.tflite_path(case)
        return
    import exporter_models as em
    words = a.exporter.split(",")
    for path in em.model_files():
        if any(w in path.name for w in words):
            model = em.convert(path, io="int8")
            yield path.name, model, path if em.is_quantized_tflite(path) else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(mlperf.CASES))
    ap.add_argument("--cores", default=",".join(BOARDS))
    ap.add_argument("--optimize", default="speed", choices=("speed", "size"))
    ap.add_argument("--opt", default="O2", choices=("O0", "O1", "O2", "O3", "Os", "Oz"))
    ap.add_argument("--per-layer", action="store_true")
    ap.add_argument("--exporter", default="", metavar="WORD[,WORD]")
    a = ap.parse_args()
    target.OPT = [f"-{a.opt}", *target.SECTIONS]  # what compile_model builds the model with
    cores = a.cores.split(",")
    print(f"{'model':5} {'core':6} {'ours':>12} {'CMSIS-NN':>12} {'ratio':>6} {'ours/MAC':>8} {'CMSIS/MAC':>9} "
          f"{'our code B':>10} {'CMSIS code B':>12} {'arena B':>8} {'core arena B':>12}")
    for case, model, tflite in cases(a):
        macs = model.report["macs"]
        with tempfile.TemporaryDirectory() as work:
            reference, why = cmsis_nn(tflite, cores, work, a.per_layer, required=not a.exporter) if tflite else \
                (None, "not an int8 .tflite")
            if why:
                print(f"{case}: CMSIS-NN not measured ({why})")
            project = model.save(f"{work}/project")
            feeds = {m["name"]: default_inputs(tuple(m["shape"]), 8) for m in model.report["inputs"]}
            host = model.build().run(feeds)
            for core in cores:
                board = boards.load(BOARDS[core])
                s = target.sizes(project, model.name, board, model.arena_size, work)
                outs, counts = target.run_on_board(project, model.report, board, feeds, count=True)
                same = all(np.array_equal(outs[k], host[k]) for k in host)
                ours = float(np.mean(counts))
                ref = reference[core] if reference else dict(instructions_mean=float("nan"), instructions_per_mac=
                                                             float("nan"), text_bytes=0, bit_exact=True)
                print(f"{case:5} {core:6} {ours:12,.0f} {ref['instructions_mean']:12,.0f} "
                      f"{ours / ref['instructions_mean']:6.2f} {ours / max(1, macs):8.2f} "
                      f"{ref['instructions_per_mac']:9.2f} {s.code:10,d} {ref['text_bytes']:12,d} "
                      f"{model.arena_size:8,d} {core_arena(model, board, a.optimize):12,d}"
                      + ("" if same and ref["bit_exact"] else "  NOT BIT-EXACT"), flush=True)
                if a.per_layer:
                    print_layers(model.report, target.run_on_board(project, model.report, board, feeds,
                                                                   per_layer=True)[2], ref.get("layers", []))


def core_arena(model, board, optimize):
    """The arena of the model converted for this core (convert --board: only its forms' scratch); the arena B
    column is the one plan for every core's forms (a conversion without --board)."""
    return mcu_codegen.api.Model(copy.deepcopy(model.graph), model.name, optimize=optimize,
                                 isa=target.isa_macros(board)).arena_size


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
