"""Quadratic potentials V(x) = ½·xᵀAx + bᵀx + c: coupled harmonic springs."""

from __future__ import annotations

import numpy as np

from .._kernels import rowdot
from .._validation import _describe
from ..core.reductions import vecmat
from ._base import LibraryPotential


class Quadratic(LibraryPotential):
    """V(x) = ½·xᵀAx + bᵀx + c, a system of harmonic springs with stiffness matrix A.

    Parameters
    ----------
    A : array_like, shape (dim,) or (dim, dim)
        The Hessian. A 1-D array means the diagonal matrix ``diag(A)``, so that a
        10⁷-dimensional quadratic costs O(dim) per evaluation. A 2-D array must
        be symmetric.
    b : array_like, shape (dim,), optional
        The linear term (default zero).
    c : float
        The constant.

    Notes
    -----
    ∇V = Ax + b and ∇²V = A. When A is positive definite the unique minimizer
    is x* = −A⁻¹b with V* = c − ½·bᵀA⁻¹b. The eigenvalues of A are the squared
    angular frequencies ω² of the normal modes for a unit mass, so
    ``curvature_bounds()`` (λ_min, λ_max) fixes every stability limit.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    def __init__(self, A, b=None, c: float = 0.0, *, name: str | None = None, bounds=None):
        A = np.asarray(A, dtype=np.float64)
        if A.ndim not in (1, 2) or A.size == 0 or (A.ndim == 2 and A.shape[0] != A.shape[1]):
            raise ValueError(f"A must be a 1-D diagonal or a square 2-D array, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"A must be finite, got {_describe(A)}")
        if A.ndim == 2:
            if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * float(np.max(np.abs(A)))):
                raise ValueError("A must be symmetric (V = ½xᵀAx only sees its symmetric part)")
            A = 0.5 * (A + A.T)  # exact symmetry, so x·A equals (A·x)ᵀ bit for bit
        dim = A.shape[0]
        if b is not None:
            b = np.asarray(b, dtype=np.float64)
            if b.shape != (dim,) or not np.all(np.isfinite(b)):
                raise ValueError(f"b must be a finite array of shape ({dim},), got {_describe(b)}")
            if not np.any(b):
                b = None
        if not np.isfinite(c):
            raise ValueError(f"c must be finite, got {c!r}")
        self.A, self.b, self.c = A, b, float(c)
        self.diagonal = A.ndim == 1
        self._eigenvalues = np.sort(A) if self.diagonal else (np.linalg.eigvalsh(A) if dim <= 2000 else None)
        minima = ()
        if self._eigenvalues is not None and self._eigenvalues[0] > 0 and dim <= 100_000:
            xstar = -self._solve(b) if b is not None else np.zeros(dim)
            vstar = self.c + (0.5 * rowdot(b, xstar) if b is not None else 0.0)
            minima = [(xstar, vstar)]
        if bounds is None and dim == 2 and minima:
            centre = minima[0][0]
            half = 2.0 * max(1.0, float(np.max(np.abs(centre))))
            bounds = np.stack([centre - half, centre + half], axis=1)
        super().__init__(dim, name=name or "quadratic", bounds=bounds, minima=minima)

    def _solve(self, rhs):
        return rhs / self.A if self.diagonal else np.linalg.solve(self.A, rhs)

    @property
    def eigenvalues(self):
        """Eigenvalues of A in ascending order (None for a large dense A)."""
        return self._eigenvalues

    def curvature_bounds(self, x=None):
        if self._eigenvalues is None:
            return None
        return float(self._eigenvalues[0]), float(self._eigenvalues[-1])

    def _apply(self, x, out):
        if self.diagonal:
            np.multiply(x, self.A, out)  # out by position: cheaper for one small particle
        else:
            out[...] = vecmat(x, self.A)  # A is symmetric: x·A = (A·x)ᵀ; fixed-order sums, no BLAS
        return out

    def _value_and_gradient(self, x, out):
        b = self.b
        # V = ½·x·(Ax) + b·x + c, reusing Ax before b is added.
        self._apply(x, out)
        value = 0.5 * rowdot(x, out)
        if b is not None:
            value += rowdot(x, b)
            np.add(out, b, out=out)
        return value + self.c if self.c else value

    def _value(self, x):
        return self._value_and_gradient(x, np.empty_like(x))

    def _gradient(self, x, out):
        self._apply(x, out)
        if self.b is not None:
            np.add(out, self.b, out=out)
        return out

    def _hessian(self, x):
        A = np.diag(self.A) if self.diagonal else self.A
        return np.broadcast_to(A.astype(x.dtype), x.shape + (self.dim,)).copy()

    def _hvp(self, x, v):
        return self._apply(v, np.empty_like(v))
