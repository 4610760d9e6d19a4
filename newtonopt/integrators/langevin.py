"""Underdamped Langevin dynamics with the BAOAB splitting: a heat bath at temperature T."""

from __future__ import annotations

import numpy as np

from .._validation import as_seed, nonnegative
from ..core.elementary import exp
from ..noise import CounterNormal, fixed_seed, seed_keys
from .base import (
    NewtonianIntegrator,
    State,
    book_dissipation,
    kinetic_from,
    particle_parameter,
    particle_scalar,
    verlet_stability_message,
)


class Langevin(NewtonianIntegrator):
    r"""Langevin dynamics m·ẍ = −∇V − γ·ẋ + √(2γT)·η(t), integrated by BAOAB.

    Physics (Leimkuhler & Matthews 2013; k_B = 1, T in energy units)::

        B: p ← p − (dt/2)·∇V(x)
        A: x ← x + (dt/2)·p/m
        O: p ← c·p + √((1 − c²)·m·T)·ξ,   c = exp(−γ·dt/m),  ξ ~ N(0, 1)
        A: x ← x + (dt/2)·p/m
        B: p ← p − (dt/2)·∇V(x)

    Machine learning: the heavy ball with noise injected into the momentum
    (stochastic gradient Hamiltonian Monte Carlo without the Metropolis test,
    Chen, Fox & Guestrin 2014): minibatch noise read as a temperature.

    Parameters
    ----------
    dt : float, array or Schedule
        Time step > 0.
    mass : float or array
        m > 0.
    friction : float or array
        γ ≥ 0 (γ = 0 is velocity Verlet).
    temperature : float, array or Schedule
        T ≥ 0; a Schedule gives annealing.
    seed : int, array of ints, numpy Generator or None
        Noise streams: particle i of an ensemble gets its own stream; an
        array of seeds (one per particle) makes each particle's noise that of
        a single run with that seed. The same seed gives bitwise the same run.

    Notes
    -----
    The O step is the exact solution of the Ornstein–Uhlenbeck part, so the
    stationary distribution is Boltzmann's ∝ exp(−V/T − |p|²/2mT) up to O(dt²)
    in configuration — and exactly in a harmonic well, where ⟨x²⟩ = T/k for every
    stable dt, while the momenta at the step boundaries have
    ⟨p²⟩ = mT·(1 − (ω·dt/2)²).

    Energy ledger: the O step is where the bath acts; the heat it takes,
    K_before − K_after (negative when the bath heats the particle), is booked
    in ``dissipated``. B and A are symplectic, so ``energy_error`` remains the
    O(dt²) discretization error.

    References
    ----------
    Leimkuhler, B. & Matthews, C. (2013). Rational construction of stochastic
    numerical methods for molecular sampling. Appl. Math. Res. Express 2013, 34-56.
    """

    def __init__(self, dt, mass=1.0, friction=1.0, temperature=1.0, seed=None):
        super().__init__(dt, mass, friction)
        self.temperature = nonnegative("temperature", temperature)
        self.seed = fixed_seed(as_seed("seed", seed))  # fixed now, so at_step() copies share the stream

    def params(self) -> dict:
        return {**super().params(), "temperature": self.temperature, "seed": self.seed}

    def physics(self) -> dict:
        return {**super().physics(), "temperature": self.temperature}

    stochastic = True
    stability_limit_label = "2·√(m/λ_max)"

    @classmethod
    def stability_limit(cls, L: float, mass=1.0):
        """The largest stable dt on a quadratic whose top Hessian eigenvalue is ``L``: 2·√(m/L), as for
        velocity Verlet (BAOAB's kicks and drifts are Verlet's; the exact O step only shrinks p)."""
        return 2.0 * np.sqrt(mass / L)

    def stability_message(self, lam_max):
        return verlet_stability_message(self.dt, self.mass, lam_max)

    def _setup(self, state: State) -> None:
        super()._setup(state)
        state.xi = np.empty_like(state.x, dtype=np.float64)
        state.noise = CounterNormal(seed_keys(self.seed, state.particle_shape), state.x.shape[-1])
        state.kinetic_before = np.zeros(state.particle_shape) if state.particle_shape else 0.0

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        dt = np.asarray(particle_scalar(self.dt, shape, "dt"))
        mass = np.asarray(particle_scalar(self.mass, shape, "mass"))
        friction = np.asarray(particle_scalar(self.friction, shape, "friction"))
        temperature = np.asarray(particle_scalar(self.temperature, shape, "temperature"))
        c = np.asarray(exp(-friction * dt / mass))  # the package's exp: numpy's differs in the last bit by CPU

        def as_param(a, name, dtype=dtype):
            return particle_parameter(a if a.ndim else float(a), shape, dtype, name)

        state.half_dt = as_param(0.5 * dt, "dt")
        state.half_dt_over_m = as_param(0.5 * dt / mass, "dt")
        state.c = as_param(c, "friction")
        # σ multiplies the float64 normals, so it stays float64 whatever the positions' dtype.
        state.sigma = as_param(np.sqrt((1.0 - c * c) * mass * temperature), "temperature", np.float64)
        state.half_inv_m = 0.5 / mass if mass.ndim else 0.5 / float(mass)
        state.dt = dt if dt.ndim else float(dt)

    def step(self, potential, state: State) -> None:
        p, x, delta = state.p, state.x, state.delta
        np.multiply(state.grad, state.half_dt, out=delta)  # B
        np.subtract(p, delta, out=p)
        np.multiply(p, state.half_dt_over_m, out=delta)  # A
        np.add(x, delta, out=x)
        # O: exact Ornstein–Uhlenbeck flow; the kinetic energy it changes is heat exchanged with the bath.
        kinetic_from(state, p, state.half_inv_m, out_attr="kinetic_before")
        state.noise.fill(state.step, state.xi)
        np.multiply(p, state.c, out=p)
        np.multiply(state.xi, state.sigma, out=delta)
        np.add(p, delta, out=p)
        kinetic_from(state, p, state.half_inv_m)
        book_dissipation(state, 1.0, state.kinetic_before)
        book_dissipation(state, -1.0, state.kinetic)
        np.multiply(p, state.half_dt_over_m, out=delta)  # A
        np.add(x, delta, out=x)
        state.value = potential.evaluate_into(x, state.grad)
        np.multiply(state.grad, state.half_dt, out=delta)  # B
        np.subtract(p, delta, out=p)
        kinetic_from(state, p, state.half_inv_m)
        state.t = state.t + state.dt

