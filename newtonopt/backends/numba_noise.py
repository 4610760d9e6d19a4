"""The thermostats' normal numbers in numba, bit for bit those of :class:`newtonopt.noise.CounterNormal`.

Importing this module needs numba; only the compiled backend imports it. The functions are scalar
kernels for a compiled loop: for a particle's stream key ``key`` (uint64), the step ``step`` and a
coordinate ``d`` of ``dim``, :func:`normal` returns exactly the float64 that
``CounterNormal(keys, dim).fill(step, out)`` writes at that particle's ``out[..., d]``.

The same bits as numpy
----------------------
Each function below is the numpy code of :mod:`newtonopt.noise` and :mod:`newtonopt.core.elementary`
for one element, written out: uint64 arithmetic that wraps modulo 2⁶⁴ (every operand is typed uint64,
so numba never promotes to float), the same shifts, the same IEEE operations on the same operands in
the same order (Horner's rule from the highest power, the same range reductions, round-half-even for
``np.rint``), no fused multiply-add (numba contracts nothing without fastmath), and square roots
and divisions correctly rounded on both sides. The constants are checked at import against
:mod:`newtonopt.core.elementary` and :mod:`newtonopt.noise`, so the two cannot drift apart.

A compiled loop that calls these functions holds a copy of their code in its own on-disk cache,
which numba keys on the caller's file alone: after an edit here, touch the caller's file (or clear
``NUMBA_CACHE_DIR``) so that it recompiles.

Counter layout (from :meth:`CounterNormal.fill`): with ``pairs = (dim + 1) // 2``, lane ``j`` (0 ≤ j <
2·pairs) of step ``k`` hashes ``key + j·G + k·(2·pairs·G)`` (G the golden increment, all mod 2⁶⁴).
Lane ``j < pairs`` gives pair j's radius √(−2 ln u₁), lane ``pairs + j`` its angle u₂; coordinate
``j`` gets sin 2πu₂ · radius, coordinate ``pairs + j`` (when < dim) cos 2πu₂ · radius.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .. import noise as _noise
from ..core import elementary as _el

# Scalar kernels called from compiled loops: no NRT (they allocate nothing), numpy's error model
# (a division by zero gives inf/NaN, as numpy does), no fastmath (it would allow FMA and reassociation).
_JIT = {"cache": True, "error_model": "numpy", "nogil": True, "_nrt": False}

# The package's constants, written here (not read from core.elementary) because numba's on-disk cache
# is keyed on this file only: compiled code keeps the values it was compiled with. They are checked
# against core.elementary at import, so an edit there fails loudly until it is made here too.
_ATANH = tuple(1.0 / (2 * k + 1) for k in range(13))
_SIN = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(10))
_COS = tuple((-1.0) ** k / math.factorial(2 * k) for k in range(11))
_N_ATANH, _N_SIN, _N_COS = len(_ATANH), len(_SIN), len(_COS)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT_HALF = math.sqrt(0.5)
_TWO_PI = 2.0 * math.pi
_G, _MUL1, _MUL2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_GOLDEN, _M1, _M2 = np.uint64(_G), np.uint64(_MUL1), np.uint64(_MUL2)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
if (_ATANH, _SIN, _COS, _LN2_HI, _LN2_LO, _SQRT_HALF, _TWO_PI) != (
        tuple(_el._ATANH), tuple(_el._SIN), tuple(_el._COS), _el._LN2_HI, _el._LN2_LO, _el._SQRT_HALF,
        _el._TWO_PI) or (_GOLDEN, _M1, _M2) != (_noise._GOLDEN, _noise._M1, _noise._M2) or \
        (_S30, _S27, _S31, _S11) != (_noise._S30, _noise._S27, _noise._S31, _noise._S11):
    raise ImportError("newtonopt.backends.numba_noise: its constants differ from newtonopt.core.elementary's "
                      "or newtonopt.noise's; update them here (the compiled noise must match CounterNormal)")
_TWO_M53 = 2.0**-53
_ONE = np.uint64(1)
_TWO = np.uint64(2)


@numba.njit(**_JIT)
def mix(z):
    """SplitMix64's finalizer of one uint64 (:func:`newtonopt.noise._mix`), wrapping mod 2⁶⁴."""
    z = np.uint64(z)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(**_JIT)
def uniform(key, step, lane, pairs):
    """The uniform in (0, 1] of lane ``lane`` of ``step`` for a stream of ``2·pairs`` lanes a step:
    53 bits of mix(key + lane·G + step·(2·pairs·G)), plus one, times 2⁻⁵³ (both steps exact)."""
    stride = (_TWO * np.uint64(pairs)) * _GOLDEN
    counter = (np.uint64(key) + np.uint64(lane) * _GOLDEN) + stride * np.uint64(step)
    bits = (mix(counter) >> _S11) + _ONE  # 1 … 2⁵³
    return np.float64(bits) * _TWO_M53


@numba.njit(**_JIT)
def _horner(coefficients, n, x2):
    """Σ cₖ·x2ᵏ by Horner's rule from the highest power, as ``elementary._horner``."""
    p = coefficients[n - 1]
    for i in range(n - 2, -1, -1):
        p = p * x2
        p = p + coefficients[i]
    return p


@numba.njit(**_JIT)
def log(u):
    """ln u for a finite u > 0 by the steps of :func:`newtonopt.core.elementary.log_into`."""
    m, e = math.frexp(u)  # exact: m ∈ [½, 1)
    if m < _SQRT_HALF:
        m = m * 2.0  # exact
        e = e - 1
    w = m + 1.0
    t = m - 1.0  # exact
    t = t / w
    w = t * t
    out = _horner(_ATANH, _N_ATANH, w)
    out = out * t
    out = out * 2.0
    fe = np.float64(e)  # exact
    out = out + fe * _LN2_LO
    return out + fe * _LN2_HI  # e·LN2_HI exact


@numba.njit(**_JIT)
def _rint(q):
    """Round to the nearest integer, ties to even (np.rint), for 0 ≤ q < 2⁵²: q − floor(q) is exact."""
    f = math.floor(q)
    frac = q - f
    if frac > 0.5 or (frac == 0.5 and (int(f) & 1) == 1):
        f = f + 1.0
    return f


@numba.njit(**_JIT)
def sincos_turns(u):
    """(sin 2πu, cos 2πu) for u ∈ [0, 1] by the steps of :func:`newtonopt.core.elementary.sincos_turns_into`."""
    q = _rint(u * 4.0)
    x = u - q * 0.25  # exact
    x = x * _TWO_PI
    x2 = x * x
    s = _horner(_SIN, _N_SIN, x2) * x
    c = _horner(_COS, _N_COS, x2)
    quadrant = int(q) & 3  # np.remainder(q, 4.0) of an integer-valued 0 ≤ q ≤ 4
    if quadrant == 1 or quadrant == 3:
        s, c = c, s
    if quadrant >= 2:
        s = -s  # flips the sign of a zero too, as np.negative
    if quadrant == 1 or quadrant == 2:
        c = -c
    return s, c


@numba.njit(**_JIT)
def _pair(key, step, j, pairs):
    """Pair j's radius √(−2 ln u₁) and (sin 2πu₂, cos 2πu₂)."""
    r = log(uniform(key, step, j, pairs))
    r = r * -2.0
    r = math.sqrt(r)
    s, c = sincos_turns(uniform(key, step, pairs + j, pairs))
    return r, s, c


@numba.njit(**_JIT)
def normal(key, step, d, dim):
    """The N(0, 1) number of coordinate ``d`` (0 ≤ d < dim) of the particle with stream key ``key`` at
    ``step``: bitwise ``CounterNormal(keys, dim).fill(step, out)[..., d]`` for that particle.

    ``key`` is the particle's uint64 from :func:`newtonopt.noise.seed_keys`; ``step`` is taken mod 2⁶⁴
    (pass a uint64 for steps ≥ 2⁶³; a negative int64 wraps as ``step % 2**64`` does in ``fill``).
    Computes one pair's ln and sin/cos; :func:`fill_column` shares them between the pair's two numbers.
    Raises ValueError unless 0 ≤ d < dim.
    """
    if d < 0 or d >= dim:
        raise ValueError("normal: the coordinate d must satisfy 0 <= d < dim")
    pairs = (dim + 1) // 2
    if d < pairs:
        r, s, c = _pair(key, step, d, pairs)
        return s * r
    r, s, c = _pair(key, step, d - pairs, pairs)
    return c * r


@numba.njit(**_JIT)
def fill_column(key, step, out, i):
    """Write the ``dim = out.shape[0]`` normals of ``step`` of the particle with key ``key`` into
    ``out[:, i]`` (the compiled loops' ``(dim, n)`` layout): bitwise ``CounterNormal.fill``."""
    dim = out.shape[0]
    pairs = (dim + 1) // 2
    for j in range(pairs):
        r, s, c = _pair(key, step, j, pairs)
        out[j, i] = s * r
        if pairs + j < dim:
            out[pairs + j, i] = c * r


@numba.njit(**_JIT)
def fill_particle(key, step, out):
    """Write the ``dim = out.shape[0]`` normals of ``step`` of one particle into the 1-D ``out``."""
    dim = out.shape[0]
    pairs = (dim + 1) // 2
    for j in range(pairs):
        r, s, c = _pair(key, step, j, pairs)
        out[j] = s * r
        if pairs + j < dim:
            out[pairs + j] = c * r
