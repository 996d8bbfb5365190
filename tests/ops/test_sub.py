"""SUB: ADD's arithmetic with the second input subtracted; broadcast; TFLM on one-operator int8 files."""
import numpy as np
import pytest
from binary import BROADCASTS, ZPS, check_int8_equals_tflm
from helpers import (c_equals_int_ref, c_float_within_rounding, qtensor, rand_int8, rand_int16, run_single_node,
                     stensor)

from mcu_codegen.ops import sub


@pytest.mark.parametrize("shapes", BROADCASTS)
def test_float_ref_matches_onnxruntime(shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.normal(0, 1, s).astype(np.float32) for s in shapes)
    want = run_single_node("Sub", [a, b])
    np.testing.assert_allclose(sub.float_ref({}, a[None], b[None])[0].reshape(want.shape), want, rtol=1e-6)


@pytest.mark.parametrize("zps", ZPS)
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_c_equals_int_ref(run_kernel, shapes, zps):
    rng = np.random.default_rng(1)
    out_shape = sub.output_shape({}, shapes)
    x1, x2, out = qtensor(shapes[0], 0.02, zps[0]), qtensor(shapes[1], 0.3, zps[1]), qtensor(out_shape, 0.25, zps[2])
    p = sub.prepare({"act": (0.0, 6.0) if zps[2] == -128 else None}, [x1, x2], out)
    c_equals_int_ref(run_kernel, sub, p, [rand_int8(rng, shapes[0]), rand_int8(rng, shapes[1])], out)
    x1, x2, out = stensor(shapes[0], 1e-4), stensor(shapes[1], 3e-4), stensor(out_shape, 4e-4)
    c_equals_int_ref(run_kernel, sub, sub.prepare({}, [x1, x2], out),
                     [rand_int16(rng, shapes[0]), rand_int16(rng, shapes[1])], out)


def test_int_ref_within_one_step_of_float():
    rng = np.random.default_rng(2)
    x1, x2, out = qtensor((1, 64), 0.05, 3), qtensor((1, 64), 0.02, -4), qtensor((1, 64), 0.08, 1)
    q1, q2 = rand_int8(rng, (1, 64)), rand_int8(rng, (1, 64))
    want = np.clip((q1 - 3.0) * 0.05 - (q2 + 4.0) * 0.02, -129 * 0.08, 126 * 0.08)
    got = (sub.int_ref(sub.prepare({}, [x1, x2], out), q1[None], q2[None])[0] - 1.0) * 0.08
    assert np.abs(got - want).max() / 0.08 <= 1.0


@pytest.mark.parametrize("shapes", BROADCASTS)
def test_c_float32_within_rounding(run_kernel, shapes):
    rng = np.random.default_rng(3)
    c_float_within_rounding(run_kernel, sub, {"act": None}, [rng.normal(0, 1, s).astype(np.float32) for s in shapes], 1)


@pytest.mark.parametrize("act", [None, (0.0, np.inf)])
@pytest.mark.parametrize("quants", [((0.05, -128), (0.05, 127), (0.1, 0)), ((0.02, 5), (0.3, -7), (0.25, -128))])
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_int8_equals_tflm(run_kernel, shapes, quants, act):
    size = check_int8_equals_tflm(run_kernel, sub, "sub", shapes, quants, act, through_tool=shapes == BROADCASTS[1])
    print(f"SUB {shapes} {quants} act {act}: {size} outputs equal to TFLM")
