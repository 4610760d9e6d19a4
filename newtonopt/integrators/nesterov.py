"""Nesterov's accelerated gradient in torch.optim's form."""

from __future__ import annotations

import math

import numpy as np

from ..curvature import curvature
from ..potential import Potential
from .base import Fields
from .heavy_ball import HeavyBall, HeavyBallCoefficients


class Nesterov(HeavyBall):
    r"""Nesterov momentum (``torch.optim.SGD(..., nesterov=True)``).

    Machine learning (zero initial buffer, dampening 0)::

        v⁺ = μ·v + ∇V(x)
        x⁺ = x − lr·(∇V(x) + μ·v⁺)

    Physics: the heavy ball's damped motion p⁺ = μ·p + dt·F(x) with
    ``p = −dt·v``, ``lr = dt²/m`` and ``μ = 1 − γ·dt/m``, but the drift uses
    the look-ahead velocity: x⁺ = x + (dt/m)·(μ·p⁺ + dt·F(x)). In Sutskever's
    variables y = x + lr·μ·v this is the classical form that evaluates the
    force at the extrapolated point; torch's x is that look-ahead point.

    Parameters
    ----------
    lr, momentum, mass
        As for :class:`HeavyBall`.

    Notes
    -----
    The ledger books the friction step p ← μ·p as for the heavy ball
    (K = lr·|v|²/2); the look-ahead drift is not symplectic, so its effect
    shows in ``energy_error``. On a quadratic the mode λ is stable iff
    0 < lr·λ < (2 + 2μ)/(1 + 2μ) (the root z = −1 of
    z² − (1 + μ)(1 − lr·λ)·z + μ(1 − lr·λ)).

    References
    ----------
    Nesterov, Y. (1983). A method for solving the convex programming problem
    with convergence rate O(1/k²). Soviet Math. Dokl. 27, 372-376.
    Sutskever, I., Martens, J., Dahl, G. & Hinton, G. (2013). On the importance
    of initialization and momentum in deep learning. ICML.
    """

    @classmethod
    def tuned(cls, potential, x):
        """lr = 1/L, momentum = (√κ − 1)/(√κ + 1) from the Hessian's extreme eigenvalues at ``x``
        (:func:`tuned_nesterov`)."""
        return cls(**tuned_nesterov(potential, x))

    stability_limit_label = "(2 + 2μ)/((1 + 2μ)·λ_max)"
    tuned_params_label = "lr = 1/L, μ = (√κ − 1)/(√κ + 1)"

    @classmethod
    def stability_limit(cls, L: float, momentum):
        """The largest stable lr on a quadratic whose top Hessian eigenvalue is ``L``: (2 + 2μ)/((1 + 2μ)·L)."""
        return (2.0 + 2.0 * momentum) / ((1.0 + 2.0 * momentum) * L)

    @classmethod
    def tuned_params(cls, mu: float, L: float) -> dict:
        """The strongly convex choice lr = 1/L, momentum = (√κ − 1)/(√κ + 1) (Nesterov 2004, §2.2)."""
        q = math.sqrt(L / mu)
        return {"lr": 1.0 / L, "momentum": (q - 1.0) / (q + 1.0)}

    @staticmethod
    def _mode_recurrence(lam: np.ndarray, lr: float, momentum: float):
        """Mode λ in torch's form: x⁺ = (1 + μ)(1 − lr·λ)·x − μ(1 − lr·λ)·x⁻."""
        return (1.0 + momentum) * (1.0 - lr * lam), momentum * (1.0 - lr * lam)

    def drift(self, c: HeavyBallCoefficients, f: Fields) -> None:
        """x ← x − lr·(∇V(x) + μ·v): the step from the look-ahead (torch's ``nesterov=True``)."""
        f.x -= c.lr * (c.momentum * f.velocity + f.grad)


def tuned_nesterov(potential: Potential, x) -> dict:
    """The strongly convex choice lr = 1/L, momentum = (√κ − 1)/(√κ + 1) (Nesterov 2004, §2.2)."""
    c = curvature(potential, x)
    if c.mu <= 0:
        raise ValueError(f"tuned Nesterov needs a positive-definite Hessian at x; the lowest curvature there "
                         f"is {c.mu:.6g}")
    return Nesterov.tuned_params(c.mu, c.L)
