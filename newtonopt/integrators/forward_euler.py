"""Explicit (forward) Euler of Newton's equations: the cautionary tale."""

from __future__ import annotations

import numpy as np

from .base import NewtonianIntegrator, State, book_dissipation, kinetic_from, particle_parameter, particle_scalar


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

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        dt = np.asarray(particle_scalar(self.dt, shape, "dt"))
        mass = np.asarray(particle_scalar(self.mass, shape, "mass"))
        friction = np.asarray(particle_scalar(self.friction, shape, "friction"))
        state.dt = particle_scalar(self.dt, shape, "dt")
        state.dt_over_m = particle_parameter(dt / mass, shape, dtype, "dt")
        state.dt_b = particle_parameter(dt if dt.ndim else float(dt), shape, dtype, "dt")
        keep = 1.0 - dt * friction / mass
        state.keep = particle_parameter(keep if keep.ndim else float(keep), shape, dtype, "friction")
        # Friction work per step, dt·γ·|p|²/m², as a multiple of K = |p|²/2m.
        loss = 2.0 * dt * friction / mass
        state.friction_loss = loss if loss.ndim else float(loss)
        state.damped = bool(np.any(friction > 0))
        state.half_inv_m = 0.5 / mass if mass.ndim else 0.5 / float(mass)

    def step(self, potential, state: State) -> None:
        p, delta = state.p, state.delta
        if state.damped:
            book_dissipation(state, state.friction_loss, state.kinetic)
        np.multiply(p, state.dt_over_m, out=delta)
        np.add(state.x, delta, out=state.x)  # drift with the old momentum
        np.multiply(p, state.keep, out=p)
        np.multiply(state.grad, state.dt_b, out=delta)
        np.subtract(p, delta, out=p)  # kick with the old force
        state.value = potential.evaluate_into(state.x, state.grad)
        kinetic_from(state, p, state.half_inv_m)
        state.t = state.t + state.dt
