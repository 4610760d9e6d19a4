"""Polyak's heavy ball: symplectic Euler of damped Newtonian motion."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._validation import fraction, positive
from ..core.expressions import per_particle_operand
from ..core.limits import ContinuousLimit
from ..curvature import curvature
from ..potential import Potential
from .base import Fields, Integrator, State, _scalar, per_particle


@dataclasses.dataclass
class Velocity:
    """The memory of the heavy ball: torch's momentum buffer v (the momentum is p = −dt·v)."""

    velocity: np.ndarray


@dataclasses.dataclass(frozen=True)
class HeavyBallCoefficients:
    lr: float | np.ndarray        # η = dt²/m
    momentum: float | np.ndarray  # μ = 1 − γ·dt/m
    dt: float | np.ndarray        # √(lr·m), the clock's step


class HeavyBall(Integrator):
    r"""Polyak's heavy ball (SGD with momentum).

    Machine learning (``torch.optim.SGD`` with ``momentum=μ``, ``dampening=0``,
    ``nesterov=False``, zero initial buffer)::

        v⁺ = μ·v + ∇V(x)
        x⁺ = x − lr·v⁺

    which is the two-step form x⁺ = x − lr·∇V(x) + μ·(x − x⁻).

    Physics: semi-implicit (symplectic) Euler of m·ẍ = F − γ·ẋ with F = −∇V::

        p⁺ = (1 − γ·dt/m)·p + dt·F(x)
        x⁺ = x + dt·p⁺/m

    with ``lr = dt²/m``, ``μ = 1 − γ·dt/m`` and momentum ``p = −dt·v``.

    Parameters
    ----------
    lr : float or array
        Learning rate η > 0.
    momentum : float or array
        μ in [0, 1). μ = 0 is gradient descent; μ → 1 is frictionless motion.
    mass : float, keyword-only
        The particle's mass m > 0, which fixes the physical units
        (dt = √(lr·m)); it does not change the iterates.

    Notes
    -----
    Energy ledger: each step first multiplies p by μ (the friction step), which
    removes (1 − μ²)·K of kinetic energy K = |p|²/2m = lr·|v|²/2; that is booked
    in ``dissipated``. Then the kick and the drift are symplectic.

    On a quadratic the mode λ is stable iff 0 < lr·λ < 2 + 2μ. Polyak's
    parameters lr = 4/(√L + √μ_min)², μ = ((√κ − 1)/(√κ + 1))² damp the
    softest mode critically and converge at rate (√κ − 1)/(√κ + 1).

    References
    ----------
    Polyak, B. T. (1964). Some methods of speeding up the convergence of
    iteration methods. USSR Comput. Math. Math. Phys. 4(5), 1-17.
    """

    order = 2
    stability_limit_label = "(2 + 2μ)/λ_max"
    tuned_params_label = "Polyak's optimum"

    def __init__(self, lr, momentum=0.9, *, mass=1.0):
        self.lr = positive("lr", lr)
        self.momentum = fraction("momentum", momentum)
        self.mass = positive("mass", mass)

    @classmethod
    def from_physics(cls, dt, mass=1.0, *, friction):
        """Symplectic Euler of m·ẍ = −∇V − γ·ẋ: ``lr = dt²/m``, ``momentum = 1 − γ·dt/m``."""
        dt = positive("dt", dt)
        mass = positive("mass", mass)
        friction = positive("friction", friction)
        momentum = 1.0 - np.asarray(friction) * np.asarray(dt) / np.asarray(mass)
        momentum = np.where((momentum < 0) & (momentum > -1e-12), 0.0, momentum)  # γ·dt/m = 1 up to round-off
        momentum = float(momentum) if momentum.ndim == 0 else momentum
        if np.any(np.asarray(momentum) < 0):
            raise ValueError(f"friction·dt/mass must be at most 1 (momentum = 1 − γ·dt/m ≥ 0), got "
                             f"friction={friction!r}, dt={dt!r}, mass={mass!r}")
        return cls(np.asarray(dt) ** 2 / np.asarray(mass), momentum, mass=mass)

    @classmethod
    def tuned(cls, potential, x):
        """Polyak's critically damped parameters from the Hessian's extreme eigenvalues at ``x``
        (:func:`tuned_heavy_ball`)."""
        return cls(**tuned_heavy_ball(potential, x))

    def physics(self, mass=None) -> dict:
        """``{'dt', 'mass', 'friction'}`` of the damped motion this heavy ball integrates."""
        mass = self.mass if mass is None else positive("mass", mass)
        dt = np.sqrt(np.asarray(self.lr) * mass)
        friction = (1.0 - np.asarray(self.momentum)) * mass / dt
        dt = float(dt) if np.ndim(dt) == 0 else dt
        friction = float(friction) if np.ndim(friction) == 0 else friction
        return {"dt": dt, "mass": mass, "friction": friction}

    @property
    def time_step(self):
        return self.physics()["dt"]

    def continuous_limit(self) -> ContinuousLimit:
        """m·ẍ = −∇V − γ·ẋ from rest with dt = √(lr·m), γ = (1 − μ)·m/dt, step k at t = k·dt
        (:func:`newtonopt.flows.newtonian_flow`); symplectic Euler follows it to O(dt)."""
        physics = self.physics()
        return ContinuousLimit("newtonian_flow", {"mass": _scalar("mass", physics["mass"]),
                                                  "friction": _scalar("momentum", physics["friction"])},
                               _scalar("lr", physics["dt"]))

    def params(self) -> dict:
        return {"lr": self.lr, "momentum": self.momentum, "mass": self.mass}

    @classmethod
    def stability_limit(cls, L: float, momentum):
        """The largest stable lr on a quadratic whose top Hessian eigenvalue is ``L``: (2 + 2μ)/L.

        Mode λ follows x⁺ = (1 + μ − lr·λ)·x − μ·x⁻, which has the root −1 at lr·λ = 2 + 2μ.
        ``momentum`` may be an array (one limit each).
        """
        return (2.0 + 2.0 * momentum) / L

    @classmethod
    def rate(cls, mu: float, L: float, lr: float, momentum: float) -> float:
        """The contraction per step on a quadratic with spectrum in [μ, L]: the largest spectral radius of
        the mode recurrence over the spectrum (a dense grid of λ; at Polyak's parameters it equals
        (√κ − 1)/(√κ + 1))."""
        lam = np.concatenate([[mu, L], np.geomspace(max(mu, 1e-300), L, 2001)])
        a, b = cls._mode_recurrence(lam, float(lr), float(momentum))
        return float(np.max(_companion_radius(a, b)))

    @classmethod
    def tuned_params(cls, mu: float, L: float) -> dict:
        """Polyak's parameters lr = 4/(√L + √μ)², momentum = ((√κ − 1)/(√κ + 1))² (for 0 < μ ≤ L)."""
        sl, sm = math.sqrt(L), math.sqrt(mu)
        return {"lr": 4.0 / (sl + sm) ** 2, "momentum": ((sl - sm) / (sl + sm)) ** 2}

    @staticmethod
    def _mode_recurrence(lam: np.ndarray, lr: float, momentum: float):
        """``(a, b)`` of mode λ's recurrence x⁺ = a·x − b·x⁻: a = 1 + μ − lr·λ, b = μ."""
        return 1.0 + momentum - lr * lam, momentum * np.ones_like(lam)

    def stability_message(self, lam_max):
        limit = self.stability_limit(lam_max, np.asarray(self.momentum))
        lr = np.asarray(self.lr)
        if np.any(lr >= limit):
            i = np.unravel_index(np.argmax(lr / limit), np.shape(lr / limit))
            return (f"lr = {float(lr[i] if lr.ndim else lr):.6g} is above the stability limit "
                    f"{float(np.asarray(limit)[i] if np.ndim(limit) else limit):.6g} "
                    f"(λ_max = {lam_max:.6g}): the time step exceeds what the stiffest mode allows")
        return None

    def init_memory(self, x: np.ndarray) -> Velocity:
        return Velocity(velocity=np.zeros_like(x))  # from rest

    def coefficients(self, particles: tuple, dtype) -> HeavyBallCoefficients:
        return HeavyBallCoefficients(lr=per_particle("lr", self.lr, particles),
                                     momentum=per_particle("momentum", self.momentum, particles),
                                     dt=per_particle("lr", self.time_step, particles))

    def physical_momentum(self, state: State):
        return state.memory.velocity * -per_particle_operand(state.coefficients.dt, state.x)  # p = −dt·v

    def update(self, c: HeavyBallCoefficients, s: State, f: Fields, potential: Potential) -> None:
        s.dissipated += (1.0 - c.momentum * c.momentum) * s.kinetic  # the friction step removes (1 − μ²)·K
        f.velocity *= c.momentum                                     # v ← μ·v        (p ← μ·p)
        f.velocity += f.grad                                         # v ← v + ∇V(x)  (p ← p + dt·F)
        self.drift(c, f)
        s.kinetic = 0.5 * c.lr * s.sq_norm(f.velocity)               # K = |p|²/2m = lr·|v|²/2
        s.evaluate(potential)
        s.t += c.dt

    def drift(self, c: HeavyBallCoefficients, f: Fields) -> None:
        """x ← x − lr·v   (x ← x + dt·p/m)."""
        f.x -= c.lr * f.velocity


def tuned_heavy_ball(potential: Potential, x) -> dict:
    """Polyak's parameters: lr = 4/(√L + √μ)², momentum = ((√κ − 1)/(√κ + 1))² — critical damping of the
    softest and the stiffest mode alike (Polyak 1964), rate (√κ − 1)/(√κ + 1)."""
    c = curvature(potential, x)
    if c.mu <= 0:
        raise ValueError(f"Polyak's parameters need a positive-definite Hessian at x; the lowest curvature there "
                         f"is {c.mu:.6g}")
    return HeavyBall.tuned_params(c.mu, c.L)


def _companion_radius(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The spectral radius of the recurrence x⁺ = a·x − b·x⁻ (roots of z² − a·z + b), elementwise."""
    disc = a * a - 4.0 * b
    sq = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(a + sq), np.abs(a - sq)) / 2.0
    return np.where(disc >= 0, real, np.sqrt(np.abs(b)))
