"""ln and sin/cos written with + − × ÷ only, for the noise: the same bits on every CPU.

numpy evaluates ``log``, ``exp``, ``tanh`` and ``arctan`` with SIMD kernels chosen by the processor
(AVX-512, AVX2 or baseline code give results that differ in the last bit; measured on one machine
by switching its kernels with ``NPY_DISABLE_CPU_FEATURES``). The Box–Muller transform of the
thermostats' noise needs ln u, cos 2πu and sin 2πu; computed here from exact steps (``frexp``,
``rint``, exact subtractions) and IEEE additions, multiplications and divisions in a fixed order,
the noise, and hence a Langevin run, is the same on every CPU. Accuracy: a few ulp, ample for
random numbers. Every function writes into buffers it is given, so a step allocates nothing.

References
----------
ln: the reduction m·2ᵉ with m ∈ [√½, √2) and the series 2·atanh(t), t = (m − 1)/(m + 1), as in
fdlibm's ``e_log.c`` (Sun Microsystems 1993), with ln 2 split in a high and a low part.
sin/cos: reduction to a quarter turn and Taylor polynomials on |x| ≤ π/4 (Abramowitz & Stegun 4.3.65-66).
"""

from __future__ import annotations

import math

import numpy as np

_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split: e·LN2_HI is exact for |e| < 2¹¹
_LN2_LO = 1.90821492927058770002e-10
_SQRT_HALF = math.sqrt(0.5)
# 2·atanh(t)/(2t) = Σ t²ᵏ/(2k + 1); with |t| ≤ 0.1716, t²¹⁴ < 10⁻¹⁷ ends the sum.
_ATANH = [1.0 / (2 * k + 1) for k in range(13)]
# Taylor coefficients of sin x / x and cos x in powers of x², to x¹⁸ / x²⁰ (error < 10⁻¹⁸ on |x| ≤ π/4).
_SIN = [(-1.0) ** k / math.factorial(2 * k + 1) for k in range(10)]
_COS = [(-1.0) ** k / math.factorial(2 * k) for k in range(11)]
_TWO_PI = 2.0 * math.pi


def _horner(coefficients: list, x2: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out ← Σ cₖ·x2ᵏ by Horner's rule (highest power first): one fixed sequence of roundings."""
    out.fill(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        np.multiply(out, x2, out=out)
        np.add(out, c, out=out)
    return out


def log_into(u: np.ndarray, out: np.ndarray, m: np.ndarray, t: np.ndarray, w: np.ndarray, e: np.ndarray,
             flag: np.ndarray) -> np.ndarray:
    """out ← ln u for finite u > 0; ``m``, ``t``, ``w`` (float), ``e`` (int32) and ``flag`` (bool) are scratch.

    u = m·2ᵉ exactly with m ∈ [√½, √2); ln u = e·ln 2 + 2·atanh(t), t = (m − 1)/(m + 1).
    """
    np.frexp(u, out=(m, e))  # exact: m ∈ [½, 1)
    np.less(m, _SQRT_HALF, out=flag)
    np.multiply(m, 2.0, out=m, where=flag)  # exact
    np.subtract(e, 1, out=e, where=flag)
    np.add(m, 1.0, out=w)
    np.subtract(m, 1.0, out=t)  # exact (Sterbenz: m lies within a factor 2 of 1)
    np.divide(t, w, out=t)
    np.multiply(t, t, out=w)
    _horner(_ATANH, w, out)
    np.multiply(out, t, out=out)
    np.multiply(out, 2.0, out=out)  # 2·atanh(t)
    np.multiply(e, _LN2_LO, out=w)
    np.add(out, w, out=out)
    np.multiply(e, _LN2_HI, out=w)  # exact
    np.add(out, w, out=out)
    return out


def sincos_turns_into(u: np.ndarray, sin_out: np.ndarray, cos_out: np.ndarray, q: np.ndarray, x: np.ndarray,
                      x2: np.ndarray, swap: np.ndarray, flag: np.ndarray) -> None:
    """sin_out ← sin 2πu, cos_out ← cos 2πu for u ∈ [0, 1]; ``q``, ``x``, ``x2`` (float) and ``swap``,
    ``flag`` (bool) are scratch.

    u = q/4 + r exactly, with q = rint(4u) and |r| ≤ ⅛ (u is a multiple of 2⁻⁵³, so r is representable);
    then 2πu = q·π/2 + x with x = 2π·r, |x| ≤ π/4, and the quadrant q mod 4 permutes and signs sin x, cos x.
    """
    np.multiply(u, 4.0, out=q)
    np.rint(q, out=q)
    np.multiply(q, 0.25, out=x)
    np.subtract(u, x, out=x)  # r, exact
    np.multiply(x, _TWO_PI, out=x)
    np.multiply(x, x, out=x2)
    _horner(_SIN, x2, sin_out)
    np.multiply(sin_out, x, out=sin_out)
    _horner(_COS, x2, cos_out)
    np.remainder(q, 4.0, out=q)  # the quadrant, 0 … 3 (exact)
    # quadrant 1: (sin, cos) = (cos x, −sin x); 2: (−sin x, −cos x); 3: (−cos x, sin x)
    np.equal(q, 1.0, out=swap)
    np.equal(q, 3.0, out=flag)
    np.logical_or(swap, flag, out=swap)
    np.copyto(x, sin_out)
    np.copyto(sin_out, cos_out, where=swap)
    np.copyto(cos_out, x, where=swap)
    np.greater_equal(q, 2.0, out=flag)
    np.negative(sin_out, out=sin_out, where=flag)
    np.equal(q, 1.0, out=flag)
    np.equal(q, 2.0, out=swap)
    np.logical_or(flag, swap, out=flag)
    np.negative(cos_out, out=cos_out, where=flag)


# ---------------------------------------------------------------------------------------------- set-up time
# exp on |r| ≤ ln 2 / 2 by its Taylor series to r¹⁷ (remainder < 10⁻²⁰).
_EXP = [1.0 / math.factorial(k) for k in range(18)]
_INV_LN2 = 1.0 / math.log(2.0)


def exp(x):
    """e^x for a float or an array, from + − × ÷ and exact scaling by 2ᵏ (Cody & Waite's reduction).

    x = k·ln 2 + r with k = rint(x / ln 2) and r = (x − k·LN2_HI) − k·LN2_LO, |r| ≤ ln 2 / 2; then
    e^x = 2ᵏ·Σ rⁿ/n!. For the friction factors e^{−γ·dt/m} computed once per run (numpy's exp
    differs in the last bit between CPUs). Returns a float for a float.
    """
    scalar = np.ndim(x) == 0
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        k = np.rint(np.clip(x, -1100.0, 1100.0) * _INV_LN2)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = np.full_like(x, _EXP[-1])
        for c in reversed(_EXP[:-1]):
            p = p * r + c
        result = np.ldexp(p, k.astype(np.int64))
        result = np.where(np.isnan(x), x, np.where(x == -np.inf, 0.0, np.where(x == np.inf, np.inf, result)))
    return float(result) if scalar else result


def ln(x: float) -> float:
    """ln x of one positive float, by the same steps as :func:`log_into` (for schedules, once a step)."""
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m, e = m * 2.0, e - 1
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = _ATANH[-1]
    for c in reversed(_ATANH[:-1]):
        p = p * t2 + c
    return (p * t * 2.0 + e * _LN2_LO) + e * _LN2_HI


def integer_power(base, n: int):
    """baseⁿ for an integer n ≥ 0 by binary exponentiation (a fixed sequence of IEEE products).

    For a float or an array; unlike ``**`` (the C library's or numpy's SIMD ``pow``), the same bits on
    every CPU. For Adam's bias corrections βᵏ and the schedules' factorᵏ.
    """
    result, square = 1.0, base
    while n:
        if n & 1:
            result = result * square
        n >>= 1
        if n:
            square = square * square
    return result
