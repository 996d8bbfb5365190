import numpy as np
from helpers import run_single_node

from mcu_codegen.ops import reshape


def test_float_ref_matches_onnxruntime_and_int_ref_keeps_bytes():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    want = run_single_node("Reshape", [x], initializers={"shape": np.array([1, 24], np.int64)})
    np.testing.assert_array_equal(reshape.float_ref({"shape": (1, 24)}, x[None])[0], want)
    q = np.arange(24, dtype=np.int8).reshape(1, 1, 2, 3, 4)
    np.testing.assert_array_equal(reshape.int_ref({"shape": [1, 24]}, q).ravel(), q.ravel())
