import numpy as np
from helpers import qtensor, stensor

from mcu_codegen.ops import dequantize


def test_c_equals_int_ref(run_kernel):
    x = np.arange(-128, 128, dtype=np.int8)
    t = qtensor(x.shape, 0.0234, -7)
    p = dequantize.prepare({}, [t], qtensor(x.shape, 0.0234, -7))
    want = dequantize.int_ref(p, x[None])[0]
    np.testing.assert_array_equal(run_kernel(dequantize, p, [x], x.shape, np.float32), want)
    assert want[0] == np.float32(-121) * np.float32(0.0234)


def test_c_equals_int_ref_int16(run_kernel):
    x = np.array([-32768, -1, 0, 1, 12345, 32767], dtype=np.int16)
    t = stensor(x.shape, 3.0517578125e-05)
    p = dequantize.prepare({}, [t], t)
    want = dequantize.int_ref(p, x[None])[0]
    np.testing.assert_array_equal(run_kernel(dequantize, p, [x], x.shape, np.float32), want)
    assert want[0] == -1.0 and want[-1] == np.float32(32767 * 3.0517578125e-05)
