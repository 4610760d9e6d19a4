"""Overdamped Langevin dynamics (Euler–Maruyama): gradient descent plus thermal noise, i.e. SGLD."""

from __future__ import annotations

import numpy as np

from .._kernels import rowdot, vdot
from .._validation import as_seed, nonnegative, positive
from ..noise import CounterNormal, fixed_seed, seed_keys
from .base import Integrator, State, book_dissipation, particle_parameter, particle_scalar


class OverdampedLangevin(Integrator):
    r"""Overdamped Langevin dynamics γ·ẋ = −∇V + √(2γT)·η(t), by Euler–Maruyama.

    Machine learning (stochastic gradient Langevin dynamics, Welling & Teh 2011)::

        x⁺ = x − lr·∇V(x) + √(2·lr·T)·ξ,   ξ ~ N(0, 1)

    Physics: the Euler–Maruyama step of the overdamped (Smoluchowski) equation
    with time step dt and ``lr = dt/γ``; its stationary density is
    ∝ exp(−V/T) up to O(dt). With T = 0 it is gradient descent.

    Parameters
    ----------
    dt : float, array or Schedule
        Time step > 0.
    friction : float or array
        γ > 0.
    temperature : float, array or Schedule
        T ≥ 0 (k_B = 1).
    seed : int, array of ints, numpy Generator or None
        As for :class:`Langevin`.

    Notes
    -----
    Energy ledger (stochastic energetics, Sekimoto 1998): the heat given to
    the bath in a step is −∇V∘Δx, the Stratonovich (midpoint) product
    −½(∇V(x) + ∇V(x⁺))·Δx, which is booked in ``dissipated``. With it the first
    law holds exactly in continuous time, and ``energy_error`` is the trapezoid
    error O(|Δx|³) — zero on a quadratic. (The Itô product −∇V(x)·Δx would add
    the drift T·tr(∇²V)·lr per step, which is not a discretization error.)

    References
    ----------
    Welling, M. & Teh, Y. W. (2011). Bayesian learning via stochastic gradient
    Langevin dynamics. ICML. Sekimoto, K. (1998). Langevin equation and
    thermodynamics. Prog. Theor. Phys. Suppl. 130, 17-27.
    """

    order = 1
    stochastic = True
    step_parameter = "dt"
    stability_limit_label = "2γ/λ_max"

    def __init__(self, dt, friction=1.0, temperature=1.0, seed=None):
        self.dt = positive("dt", dt)
        self.friction = positive("friction", friction)
        self.temperature = nonnegative("temperature", temperature)
        self.seed = fixed_seed(as_seed("seed", seed))

    @classmethod
    def from_ml(cls, lr, temperature, seed=None) -> OverdampedLangevin:
        """SGLD with learning rate ``lr``: dt = lr with unit friction."""
        return cls(lr, 1.0, temperature, seed)

    @property
    def time_step(self):
        return self.dt

    def params(self) -> dict:
        return {"dt": self.dt, "friction": self.friction, "temperature": self.temperature, "seed": self.seed}

    @classmethod
    def stability_limit(cls, L: float, friction=1.0):
        """The largest stable dt on a quadratic whose top Hessian eigenvalue is ``L``: 2γ/L (the drift is
        gradient descent with lr = dt/γ)."""
        return 2.0 * friction / L

    def stability_message(self, lam_max):
        lr = float(np.max(np.asarray(self.dt) / np.asarray(self.friction)))
        if lr * lam_max >= 2.0:
            return (f"lr = dt/friction = {lr:.6g} is above the stability limit 2/λ_max = {2.0 / lam_max:.6g} "
                    f"(λ_max = {lam_max:.6g})")
        return None

    def _setup(self, state: State) -> None:
        shape = state.particle_shape
        state.delta = np.empty_like(state.x)
        state.grad_old = np.empty_like(state.x)
        state.xi = np.empty_like(state.x, dtype=np.float64)
        state.noise = CounterNormal(seed_keys(self.seed, shape), state.x.shape[-1])
        state.heat = np.empty(shape) if shape else 0.0

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        dt = np.asarray(particle_scalar(self.dt, shape, "dt"))
        friction = np.asarray(particle_scalar(self.friction, shape, "friction"))
        temperature = np.asarray(particle_scalar(self.temperature, shape, "temperature"))
        lr = dt / friction
        state.lr = particle_parameter(lr if lr.ndim else float(lr), shape, dtype, "dt")
        scale = np.sqrt(2.0 * lr * temperature)
        state.noise_scale = particle_parameter(scale if scale.ndim else float(scale), shape, np.float64,
                                              "temperature")  # multiplies the float64 normals
        state.dt = dt if dt.ndim else float(dt)

    def step(self, potential, state: State) -> None:
        x, g, delta = state.x, state.grad, state.delta
        np.copyto(state.grad_old, g)
        state.noise.fill(state.step, state.xi)
        np.multiply(state.xi, state.noise_scale, out=delta)
        np.multiply(g, state.lr, out=g)  # g is overwritten by the evaluation below, so use it as scratch
        np.subtract(delta, g, out=delta)  # Δx = −lr·∇V + √(2·lr·T)·ξ
        np.add(x, delta, out=x)
        state.value = potential.evaluate_into(x, g)
        # Heat to the bath: −½(∇V(x) + ∇V(x⁺))·Δx (Stratonovich).
        np.add(state.grad_old, g, out=state.grad_old)
        if x.ndim == 1:
            state.dissipated += -0.5 * float(vdot(state.grad_old, delta))
        else:
            rowdot(state.grad_old, delta, out=state.heat)
            book_dissipation(state, -0.5, state.heat)
        state.t = state.t + state.dt
