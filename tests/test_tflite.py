"""Issue 7: full-integer TFLite models imported and compared with TensorFlow Lite Micro, bit for bit."""
import subprocess
import sys

import numpy as np
import pytest
import tflite
from mlperf import CASES, ref, tflite_path
from tflite_micro import runtime

import mcu_codegen
from mcu_codegen import ops, planner
from mcu_codegen.compare import tflm_tensors

_models = {}


def imported(case):
    if case not in _models:
        _models[case] = mcu_codegen.Converter.from_tflite(tflite_path(case)).convert()
    return _models[case]


def random_inputs(shape, n, seed):
    """n seeded random int8 inputs; the first two are all -128 and all 127."""
    x = np.random.default_rng(seed).integers(-128, 128, (n,) + tuple(shape)).astype(np.int8)
    x[0], x[1] = -128, 127
    return x


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_c_equals_tflm_reference_outputs(case):
    model = imported(case)
    planner.check(model.graph, model.plan)
    r = ref(case)
    name = model.report["inputs"][0]["name"]
    got = next(iter(model.build().run({name: r["inputs_int8"]}).values()))
    np.testing.assert_array_equal(got, r["outputs_tflm"])


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_c_equals_live_tflm_on_300_random_inputs(case):
    model = imported(case)
    meta = model.report["inputs"][0]
    x = random_inputs(meta["shape"], 300, seed=7)
    got = next(iter(model.build().run({meta["name"]: x}).values()))
    interp = runtime.Interpreter.from_file(str(tflite_path(case)), arena_size=1 << 20)
    want = np.empty_like(got)
    for i, sample in enumerate(x):
        interp.set_input(sample, 0)
        interp.invoke()
        want[i] = interp.get_output(0)
    np.testing.assert_array_equal(got, want)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_each_operator_equals_tflm_on_tflm_inputs(case, run_kernel):
    """Single-operator checks taken from the shared models: every op gets TFLM's own input tensors, and both
    its NumPy twin and its C kernel must give TFLM's output tensor, so a mismatch names the op."""
    model = imported(case)
    x = random_inputs(model.report["inputs"][0]["shape"], 3, seed=11)[2]
    get, _ = tflm_tensors(tflite_path(case), x)
    for node in model.graph.nodes:
        mod = ops.get(node.op)
        ins = [get(int(t[1:])).reshape(model.graph.tensors[t].shape) for t in node.inputs]
        out = model.graph.tensors[node.outputs[0]]
        want = get(int(out.name[1:])).reshape(out.shape)
        twin = mod.int_ref(node.params, *[a[None] for a in ins])[0].reshape(out.shape)
        assert np.array_equal(twin, want), f"{node.name}: NumPy twin differs from TFLM"
        if not getattr(mod, "ALIAS", False):
            c_out = run_kernel(mod, node.params, ins, out.shape, want.dtype)
            assert np.array_equal(c_out, want), f"{node.name}: C kernel differs from TFLM"


def test_compare_cli_reports_every_layer_equal(tmp_path):
    r = ref("kws")
    np.savez(tmp_path / "in.npz", x=r["inputs_int8"][-1])
    out = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "compare", str(tflite_path("kws")), "--input",
                          str(tmp_path / "in.npz")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "all 13 layers equal TFLM bit for bit" in out.stdout


@pytest.mark.slow
def test_compare_on_a_model_tflm_cannot_preserve_is_a_one_line_error(tmp_path):
    """The unrolled Keras LSTM (2,427 operators): TFLM keeps at most 1024 buffers when it preserves every tensor."""
    from exporter_models import MODELS
    np.savez(tmp_path / "in.npz", x=np.zeros((1, 1, 128, 6), np.int8))
    out = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "compare", str(MODELS / "keras_lstm_gesture_int8.tflite"),
                          "--input", str(tmp_path / "in.npz")], capture_output=True, text=True)
    assert out.returncode == 2
    assert "mcu-codegen: error: " in out.stderr and "TFLM cannot keep every tensor of this model for compare" in \
        out.stderr and "internal error" not in out.stderr


def _patched_opcode(data, old, new):
    """The model bytes with operator code `old` replaced by `new` in both fields of its OperatorCode."""
    data = bytearray(data)
    model = tflite.Model.GetRootAsModel(data, 0)
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        if max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()) == old:
            tab = oc._tab
            for vtable_offset, width in ((4, 1), (10, 4)):  # deprecated_builtin_code: int8, builtin_code: int32
                o = tab.Offset(vtable_offset)
                if o:
                    data[tab.Pos + o: tab.Pos + o + width] = int(new).to_bytes(width, "little", signed=True)
    return bytes(data)


def test_unsupported_operators_are_all_listed(tmp_path):
    bad = tmp_path / "bad.tflite"
    B = tflite.BuiltinOperator
    data = _patched_opcode(tflite_path("kws").read_bytes(), B.SOFTMAX, B.FLOOR)
    bad.write_bytes(_patched_opcode(data, B.AVERAGE_POOL_2D, B.SQRT))
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(bad), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert "2 unsupported operator(s)" in line and "(FLOOR, code 8)" in line and "(SQRT, code 75)" in line
    assert "#9 " in line and "#12 " in line and not (tmp_path / "out").exists()


def test_truncated_tflite_is_a_clean_error(tmp_path):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(tflite_path("ad").read_bytes()[:5000])
    r = subprocess.run([sys.executable, "-m", "mcu_codegen.cli", "convert", str(bad), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "cut.tflite" in r.stderr, r.stderr


def test_reference_runs_from_the_file_scales():
    """No dataset: the graph's quantization is the file's own."""
    model = imported("kws")
    meta = model.report["inputs"][0]
    assert meta["dtype"] == "int8" and meta["zero_point"] == 83 and meta["scale"] == float(np.float32(0.5847029))
    out = model.report["outputs"][0]
    assert (out["scale"], out["zero_point"]) == (1 / 256, -128)
