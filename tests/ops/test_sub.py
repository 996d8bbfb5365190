"""SUB: ADD's arithmetic with the second input subtracted; broadcast; TFLM on one-operator int8 files (tests/binary.py)."""
import binary
import numpy as np
import pytest
from helpers import qtensor, rand_int8

from mcu_codegen.ops import sub


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_float_ref_matches_onnxruntime(shapes):
    binary.check_float_ref_matches_onnxruntime(sub, "Sub", shapes)


@pytest.mark.parametrize("zps", binary.ZPS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_equals_int_ref(run_kernel, shapes, zps):
    binary.check_c_equals_int_ref(run_kernel, sub, shapes, zps, (0.0, 6.0) if zps[2] == -128 else None)


def test_int_ref_within_one_step_of_float():
    rng = np.random.default_rng(2)
    x1, x2, out = qtensor((1, 64), 0.05, 3), qtensor((1, 64), 0.02, -4), qtensor((1, 64), 0.08, 1)
    q1, q2 = rand_int8(rng, (1, 64)), rand_int8(rng, (1, 64))
    want = np.clip((q1 - 3.0) * 0.05 - (q2 + 4.0) * 0.02, -129 * 0.08, 126 * 0.08)
    got = (sub.int_ref(sub.prepare({}, [x1, x2], out), q1[None], q2[None])[0] - 1.0) * 0.08
    assert np.abs(got - want).max() / 0.08 <= 1.0


@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_c_float32_within_rounding(run_kernel, shapes):
    binary.check_c_float32_within_rounding(run_kernel, sub, shapes)


@pytest.mark.parametrize("act", [None, (0.0, np.inf)])
@pytest.mark.parametrize("quants", binary.TFLM_QUANTS)
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_int8_equals_tflm(run_kernel, shapes, quants, act):
    size = binary.check_int8_equals_tflm(run_kernel, sub, "sub", shapes, quants, act,
                                         through_tool=shapes == binary.BROADCASTS[1])
    print(f"SUB {shapes} {quants} act {act}: {size} outputs equal to TFLM")


@pytest.mark.parametrize("scales", [(1e-3, 1e-3, 2e-3), (3e-4, 2e-3, 1e-3)])
@pytest.mark.parametrize("shapes", binary.BROADCASTS)
def test_16x8_equals_tflm(run_kernel, shapes, scales):
    size = binary.check_int16_equals_tflm(run_kernel, sub, "sub", shapes, scales)
    print(f"SUB 16x8 {shapes} {scales}: {size} outputs equal to TFLM")
