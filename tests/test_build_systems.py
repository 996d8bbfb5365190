"""Issue 14: the output folder in other people's builds. Every .c under a tree holding several models compiles on
its own and the lot links (a glob build), equal to the references bit for bit."""
import subprocess

import numpy as np
import onnx
import pytest
from mlperf import ref, tflite_path
from models import nchw_cnn

import mcu_codegen
from mcu_codegen import boards, target
from mcu_codegen.build import STRICT_FLAGS

# a program that runs each model on its input bytes from stdin (sample by sample, model by model), outputs to stdout
MAIN = r"""#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
{includes}
static int run(void *arena, void *(*input)(void *, int), void *(*output)(void *, int), int (*invoke)(void *),
               size_t in_bytes, size_t out_bytes)
{{
    if (fread(input(arena, 0), 1, in_bytes, stdin) != in_bytes) {{
        return 1;
    }}
    if (invoke(arena) != 0) {{
        return 2;
    }}
    return fwrite(output(arena, 0), 1, out_bytes, stdout) == out_bytes ? 0 : 3;
}}
#define RUN(m, M) run(m##_arena, m##_input, m##_output, m##_invoke, M##_INPUT0_SIZE * sizeof(M##_INPUT0_TYPE), \
                      M##_OUTPUT0_SIZE * sizeof(M##_OUTPUT0_TYPE))
{arenas}
int main(int argc, char **argv)
{{
    const int samples = argc > 1 ? atoi(argv[1]) : 0;
    for (int s = 0; s < samples; ++s) {{
{runs}
    }}
    return 0;
}}
"""


def main_source(names):
    return MAIN.format(
        includes="".join(f'#include "{n}.h"\n' for n in names),
        arenas="".join(f"static uint32_t {n}_arena[({n.upper()}_ARENA_SIZE + 3) / 4];\n" for n in names),
        runs="\n".join(f"        if (RUN({n}, {n.upper()}) != 0) {{\n            return 1;\n        }}" for n in names))


def convert_small(tmp_path, name, seed, mode="int8"):
    onnx.save(nchw_cnn(seed=seed), tmp_path / f"{name}.onnx")
    conv = mcu_codegen.Converter.from_onnx(tmp_path / f"{name}.onnx")
    conv.representative_dataset = [{"x": np.random.default_rng(seed).normal(0, 1, (32, 1, 3, 16, 16))}]
    conv.name, conv.mode = name, mode
    return conv.convert()


def random_feeds(model, n, seed):
    meta = model.report["inputs"][0]
    info = np.iinfo(meta["dtype"])
    x = np.random.default_rng(seed).integers(info.min, info.max + 1, (n,) + tuple(meta["shape"])).astype(meta["dtype"])
    x[0], x[1] = info.min, info.max
    return {meta["name"]: x}


def run_program(exe, models, feeds, n):
    """Runs the MAIN program on n samples; returns one {output name: (n, *shape) array} per model."""
    blob = b"".join(np.ascontiguousarray(next(iter(f.values()))[s]).tobytes() for s in range(n) for f in feeds)
    raw = subprocess.run([str(exe), str(n)], input=blob, capture_output=True, check=True).stdout
    metas = [m.report["outputs"][0] for m in models]
    sizes = [int(np.prod(o["shape"])) * np.dtype(o["dtype"]).itemsize for o in metas]
    assert len(raw) == n * sum(sizes)
    outs, pos = [[] for _ in models], 0
    for _ in range(n):
        for k, (o, b) in enumerate(zip(metas, sizes)):
            outs[k].append(np.frombuffer(raw[pos:pos + b], o["dtype"]).reshape(o["shape"]))
            pos += b
    return [{o["name"]: np.stack(v)} for o, v in zip(metas, outs)]


def assert_equal_references(models, feeds, got):
    for model, f, g in zip(models, feeds, got):
        want = model.reference(f)
        for name in want:
            np.testing.assert_array_equal(g[name], want[name])


@pytest.fixture(scope="module")
def three_models(tmp_path_factory):
    """Two int8 models that use the same kernels (the clash of issue 14) and a 16x8 one, in a firmware tree."""
    tmp = tmp_path_factory.mktemp("models")
    models = [convert_small(tmp, "cnn_a", 0), convert_small(tmp, "cnn_b", 1), convert_small(tmp, "cnn_c", 2, "int16x8")]
    assert models[0].files["runtime/mcu_conv2d_s8.inc"] == models[1].files["runtime/mcu_conv2d_s8.inc"]
    return models


def firmware_tree(root, models):
    """fw/main.c and fw/models/<name>/ for each model (the third one a level deeper); returns fw/."""
    fw = root / "fw"
    for k, model in enumerate(models):
        model.save(fw / "models" / ("extra/" if k == 2 else "") / model.name)
    (fw / "main.c").write_text(main_source([m.name for m in models]))
    return fw


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_glob_build_of_three_models_links_and_equals_the_references(three_models, tmp_path, cc):
    """Every .c under the tree, found recursively, compiled one by one with the strict flags, linked together."""
    fw = firmware_tree(tmp_path, three_models)
    sources = sorted(fw.rglob("*.c"))
    assert [p.name for p in sources] == ["main.c", "cnn_a.c", "cnn_b.c", "cnn_c.c"]  # the kernels are not .c files
    objects = []
    for src in sources:
        objects.append(tmp_path / f"{src.stem}.o")
        includes = [f"-I{m.parent}" for m in fw.rglob("*.h") if m.parent.name != "runtime"] if src.name == "main.c" else []
        subprocess.run([cc, *STRICT_FLAGS, "-O2", *includes, "-c", str(src), "-o", str(objects[-1])], check=True)
    exe = tmp_path / "app"
    subprocess.run([cc, *map(str, objects), "-o", str(exe), "-lm"], check=True)
    feeds = [random_feeds(m, 12, seed=k) for k, m in enumerate(three_models)]
    got = run_program(exe, three_models, feeds, 12)
    assert_equal_references(three_models, feeds, got)
    print(f"\n{cc}: {len(sources)} .c files globbed, 3 models x 12 inputs equal to the references")
