"""The Hessian's extreme eigenvalues at a point: the stiffest and the softest spring.

Below the methods (whose ``tuned`` constructors read it) and :mod:`newtonopt.analysis` (which
re-exports it): it needs only a potential's Hessian or Hessian-vector products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from ._validation import _describe
from .potential import Potential


@dataclass(frozen=True)
class Curvature:
    """Extreme Hessian eigenvalues at a point.

    ``L`` is an upper and ``mu`` a lower estimate: Lanczos' Ritz values err inwards, so they are
    padded outwards by their residual norms ‖Hv − θv‖ (zero when ``exact``).
    """

    mu: float
    L: float
    residuals: tuple[float, float] = (0.0, 0.0)
    exact: bool = False

    @property
    def kappa(self) -> float:
        """The condition number L/μ (inf when μ ≤ 0)."""
        return self.L / self.mu if self.mu > 0 else math.inf


def curvature(potential: Potential, x, *, tol: float = 1e-10, seed: int = 0) -> Curvature:
    """The extreme Hessian eigenvalues of ``potential`` at ``x``.

    Exact when the potential knows them (a Quadratic) or is small with an analytic Hessian
    (eigvalsh); otherwise Lanczos (``scipy.sparse.linalg.eigsh`` on Hessian-vector products),
    padded by the Ritz residuals so that L errs high and μ low — DESIGN.md: with Polyak's
    parameters an L underestimated by 1e-5 already costs ~1.5× the steps. Evaluations made here
    are not billed to ``potential.counts``.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    known = potential.curvature_bounds(x)
    if known is not None:
        return Curvature(float(known[0]), float(known[1]), exact=True)
    x = np.asarray(potential._prepare(x), dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be one point of shape ({potential.dim},), got shape {x.shape}")
    saved = dict(potential.counts)
    try:
        if potential.dim <= 50 and (potential._overrides("_hessian") or potential.dim <= 8):
            lam = np.linalg.eigvalsh(potential.hessian(x))
            return Curvature(float(lam[0]), float(lam[-1]), exact=potential._overrides("_hessian"))
        n = potential.dim
        op = LinearOperator((n, n), matvec=lambda v: potential.hvp(x, np.ravel(v)), dtype=np.float64)
        v0 = np.random.default_rng(seed).standard_normal(n)
        ncv = min(n, 40)
        out = []
        for which in ("SA", "LA"):
            w, v = eigsh(op, k=1, which=which, tol=tol, ncv=ncv, maxiter=100 * n, v0=v0)
            vec = v[:, 0]
            out.append((float(w[0]), float(np.linalg.norm(potential.hvp(x, vec) - w[0] * vec))))
    finally:
        potential.counts.update(saved)
    (mu, r_mu), (L, r_L) = out
    return Curvature(mu - r_mu, L + r_L, residuals=(r_mu, r_L))


def top_eigenvalues(potential: Potential, x, k: int = 1, *, tol: float = 1e-8, seed: int = 0) -> np.ndarray:
    """The ``k`` largest Hessian eigenvalues of ``potential`` at one point ``x``, largest first.

    The sharpness of Cohen et al. (2021) is the first. Exact where the potential knows its top
    eigenvalue (a Quadratic, k = 1) or is small (eigvalsh of its Hessian, dim ≤ 50); otherwise
    Lanczos (``scipy.sparse.linalg.eigsh``, ``which='LA'``) on Hessian-vector products — the
    potential's own, or central differences of its gradient where it has none. Evaluations made
    here are not billed to ``potential.counts``: tracking sharpness does not change a run's cost.

    Parameters
    ----------
    potential : Potential
    x : array_like, shape (dim,)
    k : int
        How many eigenvalues (1 ≤ k ≤ dim).
    tol : float
        Lanczos' relative tolerance.

    Returns
    -------
    ndarray, shape (k,)

    References
    ----------
    Cohen, J., Kaur, S., Li, Y., Kolter, J. Z. & Talwalkar, A. (2021). Gradient descent on neural
    networks typically occurs at the edge of stability. ICLR.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    n = potential.dim
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer in [1, {n}] (the dimension), got {k!r}")
    x = np.asarray(potential._prepare(x), dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be one point of shape ({n},), got shape {x.shape}")
    saved = dict(potential.counts)
    try:
        known = potential.curvature_bounds(x) if k == 1 else None
        if known is not None:
            return np.array([float(known[1])])
        if n <= 50:
            return np.linalg.eigvalsh(potential.hessian(x))[::-1][:k].copy()
        op = LinearOperator((n, n), matvec=lambda v: potential.hvp(x, np.ravel(v)), dtype=np.float64)
        v0 = np.random.default_rng(seed).standard_normal(n)
        w = eigsh(op, k=k, which="LA", tol=tol, ncv=min(n, max(2 * k + 1, 20)), maxiter=100 * n, v0=v0,
                  return_eigenvectors=False)
        return np.sort(w)[::-1].copy()
    finally:
        potential.counts.clear()
        potential.counts.update(saved)
