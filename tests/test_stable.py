"""stable.py: fixed summation order (bit for bit what a plain loop gives) and transcendental functions within
2 ulp of the C library's, on grids, random values and the edges. That they are the same on every machine is
tests/test_reproducible.py's job (separate processes under different BLAS kernels)."""
import math

import numpy as np
import pytest

from mcu_codegen import stable

RNG = np.random.default_rng(0)
ULP = np.finfo(np.float64).eps


def within_ulps(got, want, ulps):
    want = np.asarray(want, np.float64)
    tiny = np.finfo(np.float64).tiny
    assert np.all(np.abs(got - want) <= ulps * ULP * np.maximum(np.abs(want), tiny)), \
        np.max(np.abs(got - want) / np.maximum(np.abs(want), tiny)) / ULP


def test_matmul_sums_in_k_order_like_a_plain_loop():
    a = RNG.normal(0, 1, (3, 5, 37)).astype(np.float32)
    b = RNG.normal(0, 1, (37, 6)).astype(np.float32)
    want = np.zeros((3, 5, 6))
    for i in np.ndindex(3, 5):
        for j in range(6):
            acc = 0.0
            for k in range(37):
                acc += float(a[i][k]) * float(b[k, j])
            want[i][j] = acc
    np.testing.assert_array_equal(stable.matmul(a, b), want)


def test_weighted_sum_visits_the_axes_in_c_order():
    x = RNG.normal(0, 1, (2, 4, 3, 3, 5))
    w = RNG.normal(0, 1, (3, 3, 5))
    want = np.zeros((2, 4, 5))
    for n, y, c in np.ndindex(2, 4, 5):
        acc = 0.0
        for a in range(3):
            for b in range(3):
                acc += x[n, y, a, b, c] * w[a, b, c]
        want[n, y, c] = acc
    np.testing.assert_array_equal(stable.weighted_sum(x, w, axes=(2, 3)), want)


def test_exp_within_two_ulp():
    x = np.concatenate([np.linspace(-745, 709.7, 100_001), RNG.normal(0, 5, 50_000), [0.0, -0.0, 1e-300, -1e-300]])
    want = np.array([math.exp(v) for v in x])
    normal = want >= np.finfo(np.float64).tiny  # subnormal results have fewer bits: one of their steps more
    within_ulps(stable.exp(x)[normal], want[normal], 2)
    assert np.all(np.abs(stable.exp(x)[~normal] - want[~normal]) <= 2 * ULP * want[~normal] + 5e-324)
    np.testing.assert_array_equal(stable.exp(np.array([np.inf, -np.inf, 800.0, -800.0])), [np.inf, 0, np.inf, 0])
    assert np.isnan(stable.exp(np.nan))


def test_log_within_two_ulp():
    x = np.concatenate([np.exp(RNG.uniform(-700, 700, 100_000)), np.linspace(0.5, 2, 10_001), [5e-324, 1.7e308]])
    within_ulps(stable.log(x), [math.log(v) for v in x], 2)
    np.testing.assert_array_equal(stable.log(np.array([0.0, 1.0, np.inf])), [-np.inf, 0.0, np.inf])
    assert np.all(np.isnan(stable.log(np.array([-1.0, np.nan]))))


@pytest.mark.parametrize("name, ref", [("tanh", math.tanh), ("sigmoid", lambda v: 1 / (1 + math.exp(-v)))])
def test_tanh_and_sigmoid_within_float64_rounding(name, ref):
    x = np.concatenate([np.linspace(-40, 40, 40_001), RNG.normal(0, 2, 10_000)])
    got, want = getattr(stable, name)(x), np.array([ref(v) for v in x])
    assert np.max(np.abs(got - want)) <= 4 * ULP  # absolute: both are bounded by 1
