import numpy as np

from mcu_codegen.ops import convert_u8


def test_c_equals_int_ref_and_moves_zero_point_by_128(run_kernel):
    u = np.arange(256, dtype=np.uint8)
    p = {"size": 256}
    s = convert_u8.int_ref(p, u[None])[0]
    assert s.dtype == np.int8 and s.astype(int).tolist() == list(range(-128, 128))
    np.testing.assert_array_equal(run_kernel(convert_u8, p, [u], u.shape, np.int8), s)
    np.testing.assert_array_equal(convert_u8.int_ref(p, s[None])[0], u)
