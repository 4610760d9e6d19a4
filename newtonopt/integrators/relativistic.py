"""Relativistic gradient descent: a conformal symplectic step of damped relativistic motion."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import positive
from ..core.elementary import exp
from ..potential import Potential
from .base import Fields, NewtonianIntegrator, State, per_particle


@dataclasses.dataclass(frozen=True)
class RelativisticCoefficients:
    damping: float | np.ndarray     # a = exp(−γ·dt/2), the exact friction flow over dt/2
    damped: bool                    # γ > 0 for some particle
    half_dt: float | np.ndarray     # dt/2
    dt_c: float | np.ndarray        # dt·c
    c: float | np.ndarray           # the speed limit c
    mc: float | np.ndarray          # m·c
    m2c2: float | np.ndarray        # (m·c)²
    dt: float | np.ndarray


def relativistic_kinetic(p_sq, c, mc):
    """K = c·√(|p|² + m²c²) − m·c², written as c·|p|²/(√(|p|² + m²c²) + m·c) (no cancellation for |p| ≪ mc).

    Per particle, from |p|² (a float or an array of the ensemble's shape).
    """
    return c * p_sq / (np.sqrt(p_sq + mc * mc) + mc)


def _number(value):
    """A per-particle result as a coefficient: a Python float for one particle (so that a float32 run stays
    float32), the array otherwise."""
    return float(value) if np.ndim(value) == 0 else value


class RelativisticGD(NewtonianIntegrator):
    r"""Relativistic gradient descent: damped motion whose speed never exceeds c.

    Physics: the conformal Hamiltonian system of França, Sulam, Robinson & Vidal (2020) with
    H(x, p) = c·√(|p|² + m²c²) + V(x) and friction γ::

        ẋ = ∂H/∂p = c·p/√(|p|² + m²c²)        (|ẋ| < c)
        ṗ = −∇V(x) − γ·p

    discretized by the conformal symplectic Strang splitting (friction flow solved exactly, a
    leapfrog for H)::

        p ← a·p,                a = exp(−γ·dt/2)   (exact friction flow)
        p ← p − (dt/2)·∇V(x)
        x ← x + dt·c·p/√(|p|² + m²c²)
        p ← p − (dt/2)·∇V(x)
        p ← a·p

    Machine learning: a momentum method whose step is the momentum *normalized*,
    Δx = dt·c·p/√(|p|² + m²c²): for |p| ≪ mc it is the velocity-Verlet heavy ball
    (Δx ≈ dt·p/m, lr = dt²/m, momentum e^(−γ·dt)); for |p| ≫ mc it is a step of length
    at most c·dt in the direction of the momentum, whatever the size of the gradient. As
    c → ∞ the iterates tend to :class:`~newtonopt.VelocityVerlet`'s with the same dt, mass and
    friction, the differences being O(1/c²).

    Parameters
    ----------
    dt : float or array
        Time step > 0.
    mass : float or array
        Rest mass m > 0.
    friction : float or array
        γ ≥ 0.
    light_speed : float or array
        The speed limit c > 0.

    Notes
    -----
    Energy ledger: E = V + K with the relativistic kinetic energy
    K = c·√(|p|² + m²c²) − m·c² (→ |p|²/2m as c → ∞). Each friction flow p ← a·p is exact
    and removes K(p) − K(a·p), which is booked in ``dissipated``; ``energy_error`` is then
    the leapfrog's O(dt²) error, without drift.

    Volume: the leapfrog is symplectic and each friction flow multiplies phase-space volume
    by a^d, so one step multiplies it by exactly e^(−d·γ·dt) in d dimensions (conformal
    symplecticity), as the continuous flow does.

    Stability: the drift is at most c·dt, so a steep potential (a quartic far from its
    minimum) where the heavy ball's dt·ω > 2 overshoots without bound only makes the particle
    move at speed c; near a minimum with Hessian eigenvalue λ the step is velocity Verlet's,
    stable iff dt·√(λ/m) < 2.

    França et al.'s RGD is the drift-kick-drift ordering of this splitting (with a further
    look-ahead parameter that interpolates towards Nesterov); the kick-drift-kick ordering
    here has the same order and conformal symplecticity, and ends each step with V and ∇V at
    the new position, the step's one evaluation.

    References
    ----------
    França, G., Sulam, J., Robinson, D. P. & Vidal, R. (2020). Conformal symplectic and
    relativistic optimization. J. Stat. Mech. 124008 (arXiv:1903.04100).
    McLachlan, R. I. & Perlmutter, M. (2001). Conformal Hamiltonian systems. J. Geom. Phys. 39,
    276-300.
    """

    def __init__(self, dt, mass=1.0, friction=0.0, light_speed=1.0):
        super().__init__(dt, mass, friction)
        self.light_speed = positive("light_speed", light_speed)

    def params(self) -> dict:
        return {**super().params(), "light_speed": self.light_speed}

    def continuous_limit(self) -> None:
        """None: :mod:`newtonopt.flows` has no relativistic flow (as c → ∞ it is ``newtonian_flow``)."""
        return None

    def coefficients(self, particles: tuple, dtype) -> RelativisticCoefficients:
        dt = per_particle("dt", self.dt, particles)
        mass = per_particle("mass", self.mass, particles)
        friction = per_particle("friction", self.friction, particles)
        c = per_particle("light_speed", self.light_speed, particles)
        a = exp(-np.asarray(friction) * np.asarray(dt) / 2.0)  # the package's own exp: the same bits on every CPU
        mc = np.asarray(mass) * np.asarray(c)
        return RelativisticCoefficients(damping=_number(a), damped=bool(np.any(np.asarray(friction) > 0)),
                                        half_dt=_number(0.5 * np.asarray(dt)), dt_c=_number(np.asarray(dt) * c),
                                        c=c, mc=_number(mc), m2c2=_number(mc * mc), dt=dt)

    def update(self, c: RelativisticCoefficients, s: State, f: Fields, potential: Potential) -> None:
        if c.damped:  # half the friction flow, exactly: p ← a·p removes K(p) − K(a·p)
            p_sq = s.sq_norm(f.p)
            s.dissipated += s.kinetic - relativistic_kinetic(c.damping * c.damping * p_sq, c.c, c.mc)
            f.p *= c.damping
        f.p -= c.half_dt * f.grad                                      # kick:  p ← p − (dt/2)·∇V(x)
        speed = _number(c.dt_c / np.sqrt(s.sq_norm(f.p) + c.m2c2))     # dt·c/√(|p|² + m²c²)
        f.x += speed * f.p                                             # drift: x ← x + dt·ẋ, |ẋ| < c
        s.evaluate(potential)
        f.p -= c.half_dt * f.grad                                      # kick:  p ← p − (dt/2)·∇V(x)
        p_sq = s.sq_norm(f.p)
        s.kinetic = relativistic_kinetic(p_sq, c.c, c.mc)              # K = c·√(|p|² + m²c²) − m·c²
        if c.damped:  # the other half of the friction flow
            after = relativistic_kinetic(c.damping * c.damping * p_sq, c.c, c.mc)
            s.dissipated += s.kinetic - after
            f.p *= c.damping
            s.kinetic = after
        s.t += c.dt
