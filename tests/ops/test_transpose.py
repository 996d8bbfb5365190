import numpy as np
import pytest
from helpers import c_equals_int_ref, c_float_within_rounding, qtensor, rand_int8, rand_int16, run_single_node, stensor

from mcu_codegen.ops import transpose


@pytest.mark.parametrize("shape,perm", [((1, 3, 8, 5), (0, 2, 3, 1)), ((1, 4, 6, 2), (0, 3, 1, 2)),
                                        ((3, 7), (1, 0)), ((2, 3, 4), (2, 0, 1))])
def test_float_ref_matches_onnxruntime_and_c_equals_int_ref(run_kernel, shape, perm):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, shape).astype(np.float32)
    a = {"perm": perm}
    np.testing.assert_array_equal(transpose.float_ref(a, x[None])[0], run_single_node("Transpose", [x], a))
    t = qtensor(shape, 0.1, 0)
    out = qtensor(transpose.output_shape(a, [shape]), 0.1, 0)
    got = c_equals_int_ref(run_kernel, transpose, transpose.prepare(a, [t], out), [rand_int8(rng, shape)], out)
    assert got.shape == out.shape


@pytest.mark.parametrize("shape,perm", [((1, 3, 8, 5), (0, 2, 3, 1)), ((2, 3, 4), (2, 0, 1))])
def test_int16_and_float32_elements_move_whole(run_kernel, shape, perm):
    """One byte-moving kernel for every element type: int16 and float32 elements arrive whole."""
    rng = np.random.default_rng(1)
    a = {"perm": perm}
    t, out = stensor(shape, 1e-3), stensor(transpose.output_shape(a, [shape]), 1e-3)
    c_equals_int_ref(run_kernel, transpose, transpose.prepare(a, [t], out), [rand_int16(rng, shape)], out)
    c_float_within_rounding(run_kernel, transpose, a, [rng.normal(0, 1, shape).astype(np.float32)], 0)


@pytest.mark.parametrize("shape,perm,walked", [((1, 2, 8, 8, 32), (0, 2, 1, 3, 4), 3),
                                               ((1, 2, 2, 3, 4, 12), (0, 5, 3, 1, 4, 2), 5),
                                               ((2, 3, 2, 3, 2, 3), (5, 4, 3, 2, 1, 0), 6), ((1, 1), (1, 0), 0)])
def test_any_rank_up_to_six(run_kernel, shape, perm, walked):
    """Keras' UpSampling2D through tf2onnx moves a 5-D (N, 2, H, W, C) to (N, H, 2, W, C); a transpose sunk past
    a 6-D tile moves 5 separate axes; six that all move; only 1s. Size-1 axes drop and input axes that stay
    neighbours merge: (1, 2, 8, 8, 32) by (0, 2, 1, 3, 4) is a walk over 3 axes."""
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, shape).astype(np.float32)
    a = {"perm": perm}
    np.testing.assert_array_equal(transpose.float_ref(a, x[None])[0], run_single_node("Transpose", [x], a))
    t, out = qtensor(shape, 0.1, 0), qtensor(transpose.output_shape(a, [shape]), 0.1, 0)
    p = transpose.prepare(a, [t], out)
    assert p["rank"] == walked
    q = rand_int8(rng, shape)
    np.testing.assert_array_equal(transpose.int_ref(p, q[None]).reshape(out.shape), np.transpose(q, perm))
    c_equals_int_ref(run_kernel, transpose, p, [q], out)


def test_seven_separate_axes_are_refused():
    from mcu_codegen.ir import ConversionError
    shape, a = (2,) * 7, {"perm": tuple(range(6, -1, -1))}
    with pytest.raises(ConversionError, match="rank 7"):
        transpose.prepare(a, [qtensor(shape, 0.1, 0)], qtensor(transpose.output_shape(a, [shape]), 0.1, 0))


def test_tflite_transpose_of_attention_heads_equals_tflm(run_kernel, tmp_path):
    """TFLite TRANSPOSE as the converter writes it for multi-head attention: [1, T, H, D] -> [1, H, T, D] and
    [1, H, D, T], int8, against TFLM."""
    import tflite
    from tflite16 import const_t, copy_op_equals_tflm, int8_t, one_op_model
    rng = np.random.default_rng(9)
    data = rng.integers(-128, 128, (4, 1, 49, 2, 16)).astype(np.int8)
    for perm in ((0, 2, 1, 3), (0, 2, 3, 1)):
        out_shape = tuple((1, 49, 2, 16)[p] for p in perm)
        model = one_op_model(tflite.BuiltinOperator.TRANSPOSE, 0, lambda b: None,
                             [int8_t((1, 49, 2, 16), 0.03, 6), const_t(perm), int8_t(out_shape, 0.03, 6)], 1)
        want = copy_op_equals_tflm(run_kernel, tmp_path, model, data, transpose, compile_it=perm == (0, 2, 1, 3))
        np.testing.assert_array_equal(want[0].reshape((4,) + out_shape), np.transpose(data, (0,) + tuple(p + 1 for p in perm)))
