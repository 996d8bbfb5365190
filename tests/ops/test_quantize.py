import numpy as np
import pytest
from helpers import qtensor, stensor

from mcu_codegen.ops import quantize


@pytest.mark.parametrize("scale,zp", [(0.5847029089927673, 83), (1 / 255, -128), (1.0, 0), (0.01, 127)])
def test_c_equals_int_ref_including_ties_and_non_finite(run_kernel, scale, zp):
    rng = np.random.default_rng(0)
    s = np.float32(scale)
    ties = (np.arange(-20, 20, dtype=np.float32) + np.float32(0.5)) * s
    x = np.concatenate([rng.normal(0, 100 * scale, 500).astype(np.float32), ties,
                        np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0], np.float32)])
    out = qtensor(x.shape, scale, zp)
    p = quantize.prepare({}, [qtensor(x.shape, scale, zp)], out)
    want = quantize.int_ref(p, x[None])[0]
    np.testing.assert_array_equal(run_kernel(quantize, p, [x], x.shape), want)
    # rounding is half away from zero (TFLite), not numpy's half to even
    finite = np.isfinite(x) & (np.abs(x) < 1e20)
    q = (x[finite] / s).astype(np.float64)  # the kernel divides in float32
    expect = np.clip(np.sign(q) * np.floor(np.abs(q) + 0.5) + zp, -128, 127)
    np.testing.assert_array_equal(want[finite], expect)
    # the non-finite tail: NaN, +Inf, -Inf, +1e30, -1e30, 0, -0 -> as documented in mcu_nn.h
    assert want[-7:].tolist() == [-128, 127, -128, 127, -128, zp, zp]


@pytest.mark.parametrize("scale", [1e-4, 3.0517578125e-05, 0.25])
def test_c_equals_int_ref_int16_including_ties_and_non_finite(run_kernel, scale):
    rng = np.random.default_rng(1)
    s = np.float32(scale)
    ties = (np.arange(-20, 20, dtype=np.float32) + np.float32(0.5)) * s
    x = np.concatenate([rng.normal(0, 10000 * scale, 500).astype(np.float32), ties,
                        np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0], np.float32)])
    out = stensor(x.shape, scale)
    p = quantize.prepare({}, [out], out)
    assert (p["q_min"], p["q_max"]) == (-32768, 32767)
    want = quantize.int_ref(p, x[None])[0]
    np.testing.assert_array_equal(run_kernel(quantize, p, [x], x.shape, np.int16), want)
    assert want[-7:].tolist() == [-32768, 32767, -32768, 32767, -32768, 0, 0]
    assert want[500:540].tolist() == [int(np.sign(v) * np.floor(abs(v) + 0.5)) for v in (ties / s).astype(np.float64)]
