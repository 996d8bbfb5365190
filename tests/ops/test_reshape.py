import numpy as np
from helpers import run_single_node

from mcu_codegen.ops import reshape


def test_float_ref_matches_onnxruntime_and_int_ref_keeps_bytes():
    x = np.arange(24, dtype=np.float32).reshape(1, 2, 3, 4)
    want = run_single_node("Reshape", [x], initializers={"shape": np.array([1, 24], np.int64)})
    np.testing.assert_array_equal(reshape.float_ref({"shape": (1, 24)}, x[None])[0], want)
    q = np.arange(24, dtype=np.int8).reshape(1, 1, 2, 3, 4)
    np.testing.assert_array_equal(reshape.int_ref({"shape": [1, 24]}, q).ravel(), q.ravel())


def _alias_model(op, options_type, shape, out_shape, extra, options=lambda b: None):
    import tflite
    from tflite16 import int8_t, one_op_model
    return one_op_model(getattr(tflite.BuiltinOperator, op), options_type, options,
                        [int8_t(shape, 0.05, -3)] + extra + [int8_t(out_shape, 0.05, -3)], 1)


def _squeeze_options(b):
    import tflite
    tflite.SqueezeOptionsStartSqueezeDimsVector(b, 1)
    b.PrependInt32(1)
    dims = b.EndVector()
    tflite.SqueezeOptionsStart(b)
    tflite.SqueezeOptionsAddSqueezeDims(b, dims)
    return tflite.SqueezeOptionsEnd(b)


def test_tflite_expand_dims_and_squeeze_are_aliases_equal_to_tflm():
    """EXPAND_DIMS and SQUEEZE (the TFLite converter's Conv1D and UpSampling2D wrappers) import as reshapes."""
    import tflite
    from tflite16 import const_t, run_imported, run_tflm
    data = np.random.default_rng(3).integers(-128, 128, (20, 1, 12, 5)).astype(np.int8)
    for model in (_alias_model("EXPAND_DIMS", tflite.BuiltinOptions.NONE, [1, 12, 5], [1, 1, 12, 5], [const_t([1])]),
                  _alias_model("SQUEEZE", tflite.BuiltinOptions.SqueezeOptions, [1, 1, 12, 5], [1, 12, 5], [],
                               _squeeze_options)):
        x = data.reshape((20,) + tuple(tflite.Model.GetRootAsModel(model, 0).Subgraphs(0).Tensors(0).ShapeAsNumpy()))
        want = run_tflm(model, [x])
        np.testing.assert_array_equal(run_imported(model, [x], "int8").reshape(want.shape), want)
