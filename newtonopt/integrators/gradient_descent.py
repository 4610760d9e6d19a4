"""Gradient descent: explicit Euler of the overdamped flow."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import positive
from ..core.limits import ContinuousLimit
from ..curvature import curvature
from ..potential import Potential
from .base import Fields, Integrator, State, _scalar, per_particle


@dataclasses.dataclass(frozen=True)
class GradientDescentCoefficients:
    lr: float | np.ndarray  # η
    dt: float | np.ndarray  # lr·γ, the clock's step


class GradientDescent(Integrator):
    r"""Gradient descent, the explicit Euler step of overdamped motion.

    Machine learning: ``x⁺ = x − lr·∇V(x)`` (``torch.optim.SGD`` with
    ``momentum=0``).

    Physics: explicit Euler of the overdamped (Aristotelian) flow
    γ·ẋ = F(x) = −∇V(x) with time step dt, so ``lr = dt/γ``.

    Parameters
    ----------
    lr : float or array
        Learning rate η > 0 (an array gives each particle its own).
    friction : float, keyword-only
        The friction coefficient γ > 0 that fixes the physical time unit:
        dt = lr·γ. It does not change the iterates.

    Notes
    -----
    Energy ledger: an overdamped particle has no kinetic energy; all the
    potential energy it loses is dissipated by friction. Over one step the
    friction force −γ·ẋ does work −γ·|Δx|²/dt = −lr·|∇V|², which is booked in
    ``dissipated``; ``energy_error`` is then the Euler discretization error,
    O(lr²) per step.

    On a quadratic with Hessian eigenvalues λ the error in mode λ is multiplied
    by (1 − lr·λ) per step: stable iff lr < 2/λ_max, fastest at
    lr = 2/(λ_min + λ_max).

    References
    ----------
    Cauchy, A. (1847). Méthode générale pour la résolution des systèmes
    d'équations simultanées. C. R. Acad. Sci. Paris 25, 536-538.
    """

    order = 1
    stability_limit_label = "2/λ_max"
    tuned_params_label = "optimal lr = 2/(λ_min + λ_max)"

    def __init__(self, lr, *, friction=1.0):
        self.lr = positive("lr", lr)
        self.friction = positive("friction", friction)

    @classmethod
    def from_physics(cls, dt, friction=1.0) -> GradientDescent:
        """The Euler step of γ·ẋ = −∇V with time step ``dt``: ``lr = dt/friction``."""
        dt = positive("dt", dt)
        friction = positive("friction", friction)
        return cls(dt / friction, friction=friction)

    @classmethod
    def tuned(cls, potential, x) -> GradientDescent:
        """lr = 2/(L + μ) from the Hessian's extreme eigenvalues at ``x`` (:func:`tuned_gradient_descent`)."""
        return cls(**tuned_gradient_descent(potential, x))

    @classmethod
    def stability_limit(cls, L: float):
        """The largest stable lr on a quadratic whose top Hessian eigenvalue is ``L``: 2/L.

        The stiffest mode is multiplied by 1 − lr·L per step, which reaches −1 at lr = 2/L.
        """
        return 2.0 / L

    @classmethod
    def rate(cls, mu: float, L: float, lr: float) -> float:
        """The contraction per step on a quadratic with spectrum in [μ, L]: max(|1 − lr·μ|, |1 − lr·L|)."""
        lr = float(lr)
        return max(abs(1.0 - lr * mu), abs(1.0 - lr * L))

    @classmethod
    def tuned_params(cls, mu: float, L: float) -> dict:
        """lr = 2/(L + μ), which balances the softest and the stiffest mode (1/L when μ ≤ 0)."""
        if mu <= 0:
            return {"lr": 1.0 / L}
        return {"lr": 2.0 / (L + mu)}

    def physics(self) -> dict:
        """``{'dt': lr·γ, 'friction': γ}``."""
        return {"dt": self.lr * self.friction, "friction": self.friction}

    @property
    def time_step(self):
        return self.lr * self.friction

    def continuous_limit(self) -> ContinuousLimit:
        """γ·ẋ = −∇V with step k at t = k·lr·γ (:func:`newtonopt.flows.gradient_flow`); to O(lr²) the
        iterates follow the modified flow of ``gradient_flow(..., modified=lr)`` instead."""
        friction = _scalar("friction", self.friction)
        return ContinuousLimit("gradient_flow", {"friction": friction}, _scalar("lr", self.lr) * friction)

    def params(self) -> dict:
        return {"lr": self.lr, "friction": self.friction}

    def stability_message(self, lam_max):
        lr = float(np.max(self.lr))
        if lr * lam_max >= 2.0:
            return (f"lr = {lr:.6g} is above the stability limit 2/λ_max = {2.0 / lam_max:.6g} "
                    f"(λ_max = {lam_max:.6g}): the time step exceeds what the stiffest mode allows")
        return None

    def coefficients(self, particles: tuple, dtype) -> GradientDescentCoefficients:
        return GradientDescentCoefficients(lr=per_particle("lr", self.lr, particles),
                                           dt=per_particle("lr", self.time_step, particles))

    def update(self, c: GradientDescentCoefficients, s: State, f: Fields, potential: Potential) -> None:
        s.dissipated += c.lr * s.grad_sq()  # friction does work −lr·|∇V|² over the step
        f.x -= c.lr * f.grad                # x ← x − lr·∇V(x)
        s.evaluate(potential)
        s.t += c.dt


def tuned_gradient_descent(potential: Potential, x) -> dict:
    """lr = 2/(L + μ): the constant step that balances the softest and the stiffest mode."""
    c = curvature(potential, x)
    if c.L <= 0:  # no positive curvature at all (a maximum): no step size follows from it
        raise ValueError(f"tuned gradient descent needs a positive curvature at x; the Hessian there has no "
                         f"positive eigenvalue (the highest is {c.L:.6g})")
    return GradientDescent.tuned_params(c.mu, c.L)
