"""Velocity Verlet, with friction applied exactly (conformal symplectic)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core.elementary import exp
from ..potential import Potential
from .base import Fields, NewtonianIntegrator, State, per_particle, verlet_stability_message


@dataclasses.dataclass(frozen=True)
class VerletCoefficients:
    damping: float | np.ndarray     # c = exp(−γ·dt/(2m)), the exact friction flow over dt/2
    damped: bool                    # γ > 0 for some particle
    half_dt: float | np.ndarray     # dt/2
    dt_over_m: float | np.ndarray   # dt·(1/m)
    half_inv_m: float | np.ndarray  # 1/(2m)
    dt: float | np.ndarray


class VelocityVerlet(NewtonianIntegrator):
    r"""Velocity Verlet for m·ẍ = −∇V − γ·ẋ.

    Physics (Strang splitting: half friction, kick, drift, kick, half
    friction)::

        p ← c·p,                c = exp(−γ·dt/(2m))   (exact friction flow)
        p ← p − (dt/2)·∇V(x)
        x ← x + dt·p/m
        p ← p − (dt/2)·∇V(x)
        p ← c·p

    Machine learning: with γ = 0 this is the heavy ball with momentum 1 and
    lr = dt²/m written in a time-reversible form; with γ > 0 it is a momentum
    method with μ = exp(−γ·dt/m) whose friction is applied symmetrically.

    Parameters
    ----------
    dt : float or array
        Time step > 0.
    mass : float or array
        m > 0.
    friction : float or array
        γ ≥ 0. With γ = 0 the flow conserves E = V + |p|²/2m.

    Notes
    -----
    Without friction velocity Verlet is symplectic and time-reversible: the
    energy error oscillates with amplitude O(dt²) with no secular drift, for
    exponentially long times. With friction the splitting is conformal
    symplectic (França, Sulam, Robinson & Vidal 2020): each friction flow is
    solved exactly and removes (1 − c²)·K of kinetic energy, which is what the
    ledger books, so ``energy_error`` remains the O(dt²) Verlet error. The
    step is stable iff dt·ω_max < 2 with ω_max = √(λ_max/m).

    One evaluation of V and ∇V per step: the force at the end of a step is
    the one at the start of the next.

    References
    ----------
    Verlet, L. (1967). Phys. Rev. 159, 98. Swope, W. C., Andersen, H. C.,
    Berens, P. H. & Wilson, K. R. (1982). J. Chem. Phys. 76, 637.
    França, G., Sulam, J., Robinson, D. P. & Vidal, R. (2020). Conformal
    symplectic and relativistic optimization. J. Stat. Mech. 124008.
    """

    stability_limit_label = "2·√(m/λ_max)"

    @classmethod
    def stability_limit(cls, L: float, mass=1.0):
        """The largest stable dt on a quadratic whose top Hessian eigenvalue is ``L``: 2·√(m/L),
        that is dt·ω_max < 2 with ω_max = √(L/m), whatever the friction."""
        return 2.0 * np.sqrt(mass / L)

    def stability_message(self, lam_max):
        return verlet_stability_message(self.dt, self.mass, lam_max)

    def coefficients(self, particles: tuple, dtype) -> VerletCoefficients:
        dt = per_particle("dt", self.dt, particles)
        mass = per_particle("mass", self.mass, particles)
        friction = per_particle("friction", self.friction, particles)
        inv_m = 1.0 / np.asarray(mass) if np.ndim(mass) else 1.0 / mass
        c = exp(-np.asarray(friction) * np.asarray(dt) / (2.0 * np.asarray(mass)))  # the package's own exp
        return VerletCoefficients(damping=c if np.ndim(c) else float(c), damped=bool(np.any(np.asarray(friction) > 0)),
                                  half_dt=0.5 * np.asarray(dt) if np.ndim(dt) else 0.5 * dt,
                                  dt_over_m=np.asarray(dt) * inv_m if np.ndim(dt) or np.ndim(mass) else dt * inv_m,
                                  half_inv_m=0.5 * inv_m, dt=dt)

    def update(self, c: VerletCoefficients, s: State, f: Fields, potential: Potential) -> None:
        if c.damped:  # half the friction flow, exactly: p ← c·p removes (1 − c²)·K
            s.dissipated += (1.0 - c.damping * c.damping) * s.kinetic
            f.p *= c.damping
        f.p -= c.half_dt * f.grad        # kick:  p ← p − (dt/2)·∇V(x)
        f.x += c.dt_over_m * f.p         # drift: x ← x + dt·p/m
        s.evaluate(potential)
        f.p -= c.half_dt * f.grad        # kick:  p ← p − (dt/2)·∇V(x)
        s.kinetic = c.half_inv_m * s.sq_norm(f.p)  # K = |p|²/2m
        if c.damped:  # the other half of the friction flow
            s.dissipated += (1.0 - c.damping * c.damping) * s.kinetic
            f.p *= c.damping
            s.kinetic = s.kinetic * (c.damping * c.damping)
        s.t += c.dt
