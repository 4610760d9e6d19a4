"""Explicit (forward) Euler of Newton's equations: the cautionary tale."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..potential import Potential
from .base import Fields, NewtonianIntegrator, State, per_particle


@dataclasses.dataclass(frozen=True)
class ForwardEulerCoefficients:
    dt: float | np.ndarray
    dt_over_m: float | np.ndarray      # dt/m
    keep: float | np.ndarray           # 1 − dt·γ/m
    friction_loss: float | np.ndarray  # 2·dt·γ/m: the friction work dt·γ·|p|²/m² as a multiple of K
    damped: bool
    half_inv_m: float | np.ndarray     # 1/(2m)


class ForwardEuler(NewtonianIntegrator):
    r"""Forward Euler for m·ẍ = −∇V − γ·ẋ: not symplectic, energy grows.

    Physics::

        x⁺ = x + dt·p/m
        p⁺ = p + dt·(F(x) − γ·p/m)

    both right-hand sides at the old state. Machine learning: a momentum
    method whose position update uses the *previous* velocity (the heavy ball
    updates p first, which is what makes it symplectic).

    Parameters
    ----------
    dt : float or array
        Time step > 0.
    mass : float or array
        m > 0.
    friction : float or array
        γ ≥ 0.

    Notes
    -----
    On a harmonic oscillator ω without friction each step multiplies the
    energy by exactly 1 + (ω·dt)², so the energy error grows exponentially —
    the contrast to velocity Verlet's bounded error. The friction term removes
    dt·γ·|p|²/m² per step, which the ledger books from the step itself.

    References
    ----------
    Hairer, E., Lubich, C. & Wanner, G. (2006). Geometric Numerical
    Integration, 2nd ed., Springer, §I.1.
    """

    def coefficients(self, particles: tuple, dtype) -> ForwardEulerCoefficients:
        dt = np.asarray(per_particle("dt", self.dt, particles))
        mass = np.asarray(per_particle("mass", self.mass, particles))
        friction = np.asarray(per_particle("friction", self.friction, particles))

        def number(a):
            return a if a.ndim else float(a)

        return ForwardEulerCoefficients(dt=number(dt), dt_over_m=number(dt / mass),
                                        keep=number(1.0 - dt * friction / mass),
                                        friction_loss=number(2.0 * dt * friction / mass),
                                        damped=bool(np.any(friction > 0)), half_inv_m=number(0.5 / mass))

    def update(self, c: ForwardEulerCoefficients, s: State, f: Fields, potential: Potential) -> None:
        if c.damped:
            s.dissipated += c.friction_loss * s.kinetic  # friction work over the step, from the old p
        f.x += c.dt_over_m * f.p         # x⁺ = x + dt·p/m           (the old momentum)
        f.p *= c.keep                    # p⁺ = (1 − dt·γ/m)·p ...
        f.p -= c.dt * f.grad             #      ... − dt·∇V(x)        (the old force)
        s.evaluate(potential)
        s.kinetic = c.half_inv_m * s.sq_norm(f.p)
        s.t += c.dt
