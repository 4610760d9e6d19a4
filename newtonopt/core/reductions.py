"""Sums and dot products in an order the package writes down: the same bits on every CPU.

BLAS (``ddot``, ``gemv``), ``einsum`` and numpy's SIMD reductions choose their summation order,
and whether to fuse a multiply and an add, by processor, kernel and thread count. Every sum that
is iterated or recorded in newtonopt goes through this module instead, which uses only
elementwise IEEE additions and multiplications (each correctly rounded wherever it runs) in one
fixed order, the *halving fold*:

    while n > 1:  s[i] ← s[i] + s[i + ⌊n/2⌋]  for i < ⌊n/2⌋;  an odd last term moves to ⌊n/2⌋

For n = 2 that is s₀ + s₁; for n = 3, (s₀ + s₁) + s₂; for n = 4, (s₀ + s₂) + (s₁ + s₃). Beyond
:data:`BLOCK` terms, each block of BLOCK consecutive terms is folded so, then the block sums (so a
long dot product reads its two vectors once and does the rest in cache). The order depends only on
n, so one particle alone, the same particle in an ensemble of any size or memory layout, any
chunking and any thread count give the same bits. Its rounding error grows like log₂ n (as pairwise
summation).
"""

from __future__ import annotations

import threading

import numpy as np

#: Up to this many terms a one-particle sum is folded in Python floats (cheaper than numpy calls).
_SCALAR_FOLD_MAX = 16
#: Longer sums are folded block by block (each block's work stays in the processor's cache).
BLOCK = 1 << 16


def _halve(s: np.ndarray) -> np.ndarray:
    """The halving fold of the last axis of ``s`` (overwritten); returns a view of the sums."""
    n = s.shape[-1]
    while n > 1:
        h = n // 2
        np.add(s[..., :h], s[..., h:2 * h], out=s[..., :h])
        if n % 2:
            s[..., h] = s[..., 2 * h]
        n = h + n % 2
    return s[..., 0]


#: Whole blocks are folded one by one down to this many terms, then together (one numpy call a level for
#: all of them, the same additions): a 10⁷-term sum makes about 1,200 numpy calls instead of 2,600.
_TAIL = 1 << 10


def _halve_to_tail(block: np.ndarray, tails: np.ndarray, j: int) -> None:
    """The halving fold of one whole block (BLOCK terms, destroyed) down to _TAIL terms, into ``tails[..., j, :]``.

    BLOCK is a power of two, so no level has an odd term; the last levels of every block are then made
    together, as ``_halve(tails)``: the same additions, one numpy call a level for all the blocks."""
    n = BLOCK
    while n > _TAIL:
        n //= 2
        np.add(block[..., :n], block[..., n:2 * n], out=block[..., :n])
    tails[..., j, :] = block[..., :_TAIL]


def fold(terms: np.ndarray, axis: int = -1) -> np.ndarray:
    """Sum ``terms`` along ``axis`` in the package's order. ``terms`` is used as scratch and destroyed.

    The order: up to :data:`BLOCK` terms, the halving fold; beyond, the halving fold of each block of
    :data:`BLOCK` consecutive terms (the last one shorter), then the halving fold of the block sums.
    It depends only on the number of terms.

    Parameters
    ----------
    terms : ndarray
        Writable array of the terms; its values along ``axis`` are overwritten.
    axis : int
        The axis to sum over.

    Returns
    -------
    ndarray
        The sums, shape ``terms.shape`` without ``axis``.
    """
    s = np.moveaxis(terms, axis, -1)
    n = s.shape[-1]
    if n == 0:
        return np.zeros(s.shape[:-1], dtype=s.dtype)
    if n <= BLOCK:
        return _halve(s)
    whole, rest = divmod(n, BLOCK)
    partial = np.empty(s.shape[:-1] + (whole + (rest > 0),), dtype=s.dtype)
    tails = np.empty(s.shape[:-1] + (whole, _TAIL), dtype=s.dtype)
    for j in range(whole):
        _halve_to_tail(s[..., j * BLOCK:(j + 1) * BLOCK], tails, j)
    partial[..., :whole] = _halve(tails)
    if rest:
        partial[..., whole] = _halve(s[..., whole * BLOCK:])
    return _halve(partial)


def _fold_list(values: list) -> float:
    """The halving fold of a list of Python floats (the same order as :func:`fold`)."""
    n = len(values)
    if n == 0:
        return 0.0
    while n > 1:
        h = n // 2
        folded = [values[i] + values[i + h] for i in range(h)]
        if n % 2:
            folded.append(values[2 * h])
        values, n = folded, h + n % 2
    return values[0]


def total(terms, axis: int = -1):
    """Sum of ``terms`` along ``axis`` in the halving order; ``terms`` is not modified."""
    terms = np.asarray(terms)
    if not np.issubdtype(terms.dtype, np.inexact):
        terms = terms.astype(np.float64)
    return fold(np.array(terms, copy=True), axis)


_local = threading.local()
_F64 = np.dtype(np.float64)


def workspace(shape: tuple, dtype) -> np.ndarray:
    """A scratch array of ``shape`` and ``dtype``, reused by later calls in the same thread.

    Per thread, so particles split over threads never share one; the few most recent shapes
    are kept, so a run's reductions allocate nothing after the first step.
    """
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (shape, np.dtype(dtype))
    buffer = pool.pop(key, None)
    if buffer is None:
        buffer = np.empty(shape, dtype=dtype)
        while len(pool) >= 4:
            pool.pop(next(iter(pool)))
    pool[key] = buffer  # most recently used last
    return buffer


def _small_dot(p: list, q: list) -> float:
    """Σₖ pₖ·qₖ of two short lists of Python floats, in the halving order."""
    if len(p) == 2:
        return p[0] * q[0] + p[1] * q[1]
    return _fold_list([u * v for u, v in zip(p, q)])


def rowdot(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None, scratch: np.ndarray | None = None):
    """Per-particle dot product Σₖ aₖ·bₖ over the last axis, in the halving order.

    Parameters
    ----------
    a, b : ndarray
        Shapes ``(..., dim)`` (broadcastable).
    out : ndarray, optional
        Where to write the result, shape ``(...)``.
    scratch : ndarray, optional
        Work space of the broadcast shape of ``a`` and ``b``; by default a per-thread
        :func:`workspace`, so repeated calls allocate nothing of the problem's size.

    Returns
    -------
    float or ndarray
        A Python float for one particle (1-D inputs), else an array of shape ``(...)``.
    """
    if a.ndim and b.ndim and a.shape[-1] <= _SCALAR_FOLD_MAX and a.dtype is _F64 and b.dtype is _F64:
        # One small particle (alone, or an ensemble of one): Python floats are IEEE float64, the same bits
        # without numpy's per-call overhead.
        if a.ndim == 1 and b.ndim == 1:
            return _small_dot(a.tolist(), b.tolist())
        if a.shape[:-1] == (1,) and b.shape[:-1] in ((1,), ()) and b.shape[-1] == a.shape[-1]:
            r = _small_dot(a[0].tolist(), b[0].tolist() if b.ndim == 2 else b.tolist())
            if out is None:
                return np.array([r])
            out[0] = r
            return out
    shape = np.broadcast_shapes(a.shape, b.shape)
    n = shape[-1]
    if n > BLOCK:  # products and their fold block by block: one pass over a and b, the rest in cache
        a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        block = workspace(shape[:-1] + (BLOCK,), np.result_type(a.dtype, b.dtype))
        whole, rest = divmod(n, BLOCK)
        partial = np.empty(shape[:-1] + (whole + (rest > 0),), dtype=block.dtype)
        tails = np.empty(shape[:-1] + (whole, _TAIL), dtype=block.dtype)
        for j in range(whole):
            lo = j * BLOCK
            _halve_to_tail(np.multiply(a[..., lo:lo + BLOCK], b[..., lo:lo + BLOCK], out=block), tails, j)
        partial[..., :whole] = _halve(tails)
        if rest:
            lo = whole * BLOCK
            partial[..., whole] = _halve(np.multiply(a[..., lo:], b[..., lo:], out=block[..., :rest]))
        result = _halve(partial)
    else:
        if scratch is None:
            scratch = workspace(shape, np.result_type(a.dtype, b.dtype))
        result = _halve(np.multiply(a, b, out=scratch))
    if result.ndim == 0:
        return float(result)
    if out is None:
        return result.copy()
    out[...] = result
    return out


def norm(a: np.ndarray):
    """Per-particle Euclidean norm √(Σₖ aₖ²) over the last axis, in the halving order."""
    return np.sqrt(rowdot(a, a))


def matvec(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``A·x`` per particle: (A·x)ᵢ = Σⱼ Aᵢⱼ xⱼ with each sum in the halving order.

    ``A`` has shape ``(m, n)`` (or ``(..., m, n)``), ``x`` shape ``(..., n)``; the result has shape
    ``(..., m)``. It costs an (…, m, n) array of products: this is for the small dense matrices of
    the library's potentials, not for large linear algebra.
    """
    return fold(A * x[..., None, :])


def vecmat(x: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``x·A`` per particle: (x·A)ⱼ = Σᵢ xᵢ Aᵢⱼ, each sum in the halving order."""
    return fold(x[..., :, None] * A, axis=-2)
