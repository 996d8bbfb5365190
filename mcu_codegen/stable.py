"""Float arithmetic whose results are the same on every machine.

Calibration runs the float graph, and its ranges become the scales and multipliers in the generated C: a float
that differs in its last bit can change a byte of model.c. NumPy's elementwise +, -, *, / and its reductions
(np.sum) are deterministic for a given NumPy, but the BLAS behind `@`, np.dot and einsum(optimize=True) sums in
an order that depends on the CPU kernel and thread count, and np.exp / np.log / np.tanh pick SIMD
implementations per CPU that differ in the last bit. So every float path that reaches the generated files uses
these instead: sums in a fixed order, transcendental functions built from correctly rounded operations only.
All of them compute in float64; callers round to float32 where the model's arithmetic is float32.
"""
import numpy as np

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^20 (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453


def matmul(a, b):
    """a (..., K) @ b (K, N) in float64, summed k = 0, 1, ..., K-1 (the order of our C kernels)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    acc = np.zeros(a.shape[:-1] + b.shape[1:], np.float64)
    for k in range(a.shape[-1]):
        acc += a[..., k, None] * b[k]
    return acc


def weighted_sum(x, w, axes):
    """sum over `axes` of x * w (w broadcast onto x), in float64, the axes' elements visited in C order."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    w = np.broadcast_to(w, x.shape)
    axes = tuple(a % x.ndim for a in axes)
    keep = [a for a in range(x.ndim) if a not in axes]
    xs = np.moveaxis(x, keep + list(axes), range(x.ndim)).reshape(tuple(x.shape[a] for a in keep) + (-1,))
    ws = np.moveaxis(w, keep + list(axes), range(x.ndim)).reshape(xs.shape)
    acc = np.zeros(xs.shape[:-1], np.float64)
    for k in range(xs.shape[-1]):
        acc += xs[..., k] * ws[..., k]
    return acc


def exp(x):
    """e^x in float64 within 2 ulp: x = k ln2 + r, |r| <= ln2 / 2, a degree-14 Taylor polynomial of e^r."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        xc = np.clip(np.nan_to_num(x, nan=0.0), -746.0, 710.0)
        k = np.rint(xc / _LN2)
        r = (xc - k * _LN2_HI) - k * _LN2_LO
        p = np.ones_like(r)
        for n in range(14, 0, -1):  # Horner: 1 + r/1 (1 + r/2 (1 + ... (1 + r/14)))
            p = 1.0 + p * r / n
        y = np.ldexp(p, k.astype(np.int64))
    return np.where(np.isnan(x), np.nan, y)


def log(x):
    """ln x in float64 for x > 0: x = m 2^e with m in [1/sqrt 2, sqrt 2), ln m = 2 atanh((m - 1) / (m + 1))."""
    x = np.asarray(x, np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m, e = np.frexp(np.where(np.isfinite(x) & (x > 0), x, 1.0))
        low = m < 0.7071067811865476
        m, e = np.where(low, m * 2.0, m), np.where(low, e - 1, e).astype(np.float64)
        s = (m - 1.0) / (m + 1.0)
        s2 = s * s
        series = np.zeros_like(s)
        for n in range(23, 0, -2):  # s (1 + s^2/3 + s^4/5 + ...), |s| < 0.172: the s^25 term is below 2^-60
            series = 1.0 / n + series * s2
        y = e * _LN2_HI + (e * _LN2_LO + 2.0 * s * series)
    return np.where(x == np.inf, np.inf, np.where(x > 0, y, np.where(x == 0, -np.inf, np.nan)))


def sigmoid(x):
    """1 / (1 + e^-x) in float64."""
    return 1.0 / (1.0 + exp(-np.asarray(x, np.float64)))


def tanh(x):
    """tanh x in float64: sign(x) (1 - e) / (1 + e) with e = e^(-2|x|)."""
    x = np.asarray(x, np.float64)
    e = exp(-2.0 * np.abs(x))
    return np.sign(x) * (1.0 - e) / (1.0 + e)


def erf(x):
    """erf x in float64: 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)), a series of positive terms
    (no cancellation); 1 (with x's sign) beyond |x| = 6, where erf is 1 to 2^-53."""
    x = np.asarray(x, np.float64)
    a = np.minimum(np.abs(np.nan_to_num(x)), 6.0)
    term, total = a.copy(), a.copy()
    for n in range(1, 160):  # term n / term n-1 = 2 a^2 / (2n + 1): below 2^-60 of the sum after 160 terms at a = 6
        term = term * (2.0 * a * a) / (2 * n + 1)
        total = total + term
    y = np.minimum(1.0, 1.1283791670955126 * exp(-a * a) * total)
    return np.where(np.isnan(x), np.nan, np.sign(x) * y)
