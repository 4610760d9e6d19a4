"""Velocity Verlet, with friction applied exactly (conformal symplectic)."""

from __future__ import annotations

import numpy as np

from ..core.elementary import exp
from .base import (
    NewtonianIntegrator,
    State,
    book_dissipation,
    kinetic_from,
    particle_parameter,
    particle_scalar,
    verlet_stability_message,
)


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

    def _configure(self, state: State) -> None:
        shape = state.particle_shape
        dtype = state.x.dtype
        dt = particle_scalar(self.dt, shape, "dt")
        mass = particle_scalar(self.mass, shape, "mass")
        friction = particle_scalar(self.friction, shape, "friction")
        c = exp(-np.asarray(friction) * np.asarray(dt) / (2.0 * np.asarray(mass)))  # the package's own exp
        state.damped = bool(np.any(np.asarray(friction) > 0))
        state.c = particle_parameter(c if np.ndim(c) else float(c), shape, dtype, "friction")
        state.half_loss = 1.0 - c * c
        state.c2 = c * c
        state.half_dt = particle_parameter(0.5 * np.asarray(dt) if np.ndim(dt) else 0.5 * dt, shape, dtype, "dt")
        inv_m = 1.0 / np.asarray(mass) if np.ndim(mass) else 1.0 / mass
        state.dt_over_m = particle_parameter(np.asarray(dt) * inv_m if np.ndim(dt) or np.ndim(mass)
                                             else dt * inv_m, shape, dtype, "dt")
        state.half_inv_m = 0.5 * inv_m
        state.dt = dt

    def step(self, potential, state: State) -> None:
        p, delta = state.p, state.delta
        if state.damped:
            book_dissipation(state, state.half_loss, state.kinetic)
            np.multiply(p, state.c, out=p)
        np.multiply(state.grad, state.half_dt, out=delta)
        np.subtract(p, delta, out=p)
        np.multiply(p, state.dt_over_m, out=delta)
        np.add(state.x, delta, out=state.x)
        state.value = potential.evaluate_into(state.x, state.grad)
        np.multiply(state.grad, state.half_dt, out=delta)
        np.subtract(p, delta, out=p)
        kinetic_from(state, p, state.half_inv_m)
        if state.damped:
            # Second half of the exact friction flow, booked from the K it acts on.
            book_dissipation(state, state.half_loss, state.kinetic)
            np.multiply(p, state.c, out=p)
            if state.x.ndim == 1:
                state.kinetic = state.kinetic * state.c2
            else:
                np.multiply(state.kinetic, state.c2, out=state.kinetic)
        state.t = state.t + state.dt
