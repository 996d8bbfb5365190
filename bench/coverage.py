"""Which real models convert: per model file in tests/models (made by tests/models/make_models.py) and the four
shared MLPerf Tiny models (float ONNX, int8 .tflite, float .tflite), whether it converts or the error (for
unsupported operators, just their names), then for those that convert: an int8 .tflite's C against TFLM bit for
bit, a float model's output SQNR against the float model (onnxruntime; TFLM for a float .tflite; int8 C with
int8 I/O, the inputs quantized and the outputs dequantized here with the scales in report.json, calibrated on
half the data, measured on the other half), arena bytes and weight bytes (of that int8-I/O build).

    python3 bench/coverage.py [substring ...]      # only the models whose label contains one of them
"""
import re
import sys

import numpy as np

from _shared import mlperf

import exporter_models as em
from mcu_codegen.fixedpoint import round_half_away
from mcu_codegen.ir import ConversionError

N_RANDOM = 20  # random int8 inputs per int8 .tflite, besides its representative data and the two extremes


def exporter_cases():
    for path in em.model_files():
        yield path.name, path, (None if em.is_quantized_tflite(path) else em.halves(em.data(path)))


def shared_cases():
    for case in mlperf.CASES:
        calib, evaluation = mlperf.dataset(case, "calibration"), mlperf.dataset(case, "evaluation")
        halves = ({"input_1": calib}, {"input_1": evaluation})
        yield f"mlperf {case} onnx", mlperf.onnx_path(case), halves
        yield f"mlperf {case} int8 tflite", mlperf.tflite_path(case), None
        float_tflite = {"kws": "kws/derived_kws_ref_model_savedmodel_float32.tflite", "vww": "vww/vww_96_float.tflite",
                        "ic": "ic/pretrainedResnet.tflite", "ad": "ad/ad01_fp32.tflite"}[case]
        yield f"mlperf {case} float tflite", mlperf.SHARED / float_tflite, halves


def blocking(message):
    """The operator names an 'unsupported' error lists, or None for another error."""
    if "unsupported" not in message:
        return None
    return sorted(set(re.findall(r"\(([A-Z][A-Za-z0-9_]+)(?:, code \d+)?\)", message)))


def measure(label, path, halves):
    row = dict(model=label)
    try:
        conv = em.converter(path)
        if halves is not None:
            conv.representative_dataset = [list(halves[0].values())]
        model = conv.convert()
    except ConversionError as e:
        ops = blocking(str(e))
        row["result"] = "blocked by " + ", ".join(ops) if ops else "error: " + str(e).split(": ", 1)[-1]
        return row
    row.update(arena=model.arena_size, weights=model.report["weight_bytes"])
    host = model.build()
    names = [m["name"] for m in model.report["inputs"]]
    if halves is None:  # an int8 .tflite: the C against TFLM, bit for bit
        stored, against = em.tflite_reference(path), "TFLM"
        if stored is not None:  # TFLM does not run this file as TFLite does (tests/models/make_models.py)
            feeds, against = {names[0]: stored[0]}, "TFLite ref kernels"
        else:
            shared = path.parent != em.MODELS
            feeds = _shared_int8_feeds(model, path) if shared else em.int8_feeds(model, path, N_RANDOM)
        got = list(host.run(feeds).values())
        want = em.tflm(path, [feeds[n] for n in names]) if stored is None else [stored[1]]
        same = sum(int(all(np.array_equal(g[i].reshape(w[i].shape), w[i]) for g, w in zip(got, want)))
                   for i in range(len(want[0])))
        row["result"] = f"bit-exact vs {against} {same}/{len(want[0])}" if same == len(want[0]) else \
            f"DIFFERS from {against} on {len(want[0]) - same}/{len(want[0])}"
    else:
        evaluation = {m["name"]: _quantized(x, m) for m, x in zip(model.report["inputs"], halves[1].values())}
        got = [(q.astype(np.float64) - m["zero_point"]) * m["scale"]
               for q, m in zip(host.run(evaluation).values(), model.report["outputs"])]
        want = em.float_reference(path, {k: v for k, v in zip(halves[1], halves[1].values())})
        sqnrs = [em.sqnr_db(w, g.reshape(w.shape)) for g, w in zip(got, want)]
        row["result"] = "SQNR " + " / ".join(f"{s:.1f}" for s in sqnrs) + " dB vs " + \
            ("onnxruntime" if path.suffix == ".onnx" else "TFLM float") + f" ({len(want[0])} inputs)"
    return row


def _quantized(x, meta):
    lo, hi = {"int8": (-128, 127), "int16": (-32768, 32767)}[meta["dtype"]]
    q = round_half_away(np.asarray(x, np.float64) / meta["scale"]) + meta["zero_point"]
    return np.clip(q, lo, hi).astype(meta["dtype"])


def _shared_int8_feeds(model, path):
    case = next(c for c in mlperf.CASES if mlperf.tflite_path(c) == path)
    meta = model.report["inputs"][0]
    rand = np.random.default_rng(0).integers(-128, 128, (N_RANDOM,) + tuple(meta["shape"])).astype(np.int8)
    ref = mlperf.ref(case)["inputs_int8"].reshape((-1,) + tuple(meta["shape"]))
    return {meta["name"]: np.concatenate([ref, rand])}


def main():
    wanted = sys.argv[1:]
    print(f"| {'model':34} | {'result':62} | {'arena B':>9} | {'weights B':>9} |")
    print(f"|{'-' * 36}|{'-' * 64}|{'-' * 11}|{'-' * 11}|")
    for label, path, halves in list(exporter_cases()) + list(shared_cases()):
        if wanted and not any(w in label for w in wanted):
            continue
        r = measure(label, path, halves)
        arena, weights = (f"{r['arena']:,}", f"{r['weights']:,}") if "arena" in r else ("", "")
        print(f"| {r['model']:34} | {r['result']:62} | {arena:>9} | {weights:>9} |", flush=True)


if __name__ == "__main__":
    main()
