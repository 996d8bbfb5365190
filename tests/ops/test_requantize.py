import numpy as np
import pytest
from helpers import c_equals_int_ref, qtensor, rand_int8, rand_int16, stensor

from mcu_codegen.ops import requantize


@pytest.mark.parametrize("zp", [-128, 0, 37, 127])
@pytest.mark.parametrize("scale8", [0.05, 1e-3])
def test_c_equals_int_ref_both_ways(run_kernel, zp, scale8):
    rng = np.random.default_rng(0)
    shape = (1, 7, 9)
    t8, t16 = qtensor(shape, scale8, zp), stensor(shape, scale8 * 256 / 32767)  # holds every int8 value
    up = requantize.prepare({}, [t8], t16)
    data8 = rand_int8(rng, shape)
    data8.flat[:2] = (-128, 127)
    got16 = c_equals_int_ref(run_kernel, requantize, up, [data8], t16)
    # int8 -> int16 keeps the value within half an int16 step (the int16 grid is finer)
    want = (data8.astype(np.float64) - zp) * float(np.float32(scale8))
    assert np.abs(got16 * float(t16.scale) - want).max() <= 0.501 * float(t16.scale)
    down = requantize.prepare({}, [t16], t8)
    data16 = rand_int16(rng, shape)
    data16.flat[:2] = (-32768, 32767)
    got8 = c_equals_int_ref(run_kernel, requantize, down, [data16], t8)
    # int16 -> int8: the nearest int8 step, clamped to the int8 range
    exact = np.clip(np.round(data16 * float(t16.scale) / float(np.float32(scale8))) + zp, -128, 127)
    assert np.abs(got8 - exact).max() <= 1
