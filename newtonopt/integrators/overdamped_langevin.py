"""Overdamped Langevin dynamics (Euler–Maruyama): gradient descent plus thermal noise, i.e. SGLD."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import as_seed, nonnegative, positive
from ..noise import CounterNormal, fixed_seed, seed_keys
from ..potential import Potential
from .base import Fields, Integrator, State, per_particle, working


@dataclasses.dataclass
class Bath:
    """What overdamped Langevin carries: the bath's normals ξ (a counter-based stream, rebuilt from the
    seed) and the force at the start of the step, for the heat; nothing that must be saved."""

    noise: CounterNormal = working()
    xi: np.ndarray = working()
    grad_old: np.ndarray = working()


@dataclasses.dataclass(frozen=True)
class OverdampedLangevinCoefficients:
    lr: float | np.ndarray           # dt/γ
    noise_scale: float | np.ndarray  # √(2·lr·T)
    dt: float | np.ndarray


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
    energy_bounded = False  # the bath heats the particle
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

    def init_memory(self, x: np.ndarray) -> Bath:
        return Bath(noise=CounterNormal(seed_keys(self.seed, x.shape[:-1]), x.shape[-1]),
                    xi=np.empty_like(x, dtype=np.float64), grad_old=np.empty_like(x))

    def coefficients(self, particles: tuple, dtype) -> OverdampedLangevinCoefficients:
        dt = np.asarray(per_particle("dt", self.dt, particles))
        friction = np.asarray(per_particle("friction", self.friction, particles))
        temperature = np.asarray(per_particle("temperature", self.temperature, particles))
        lr = dt / friction
        scale = np.sqrt(2.0 * lr * temperature)
        return OverdampedLangevinCoefficients(lr=lr if lr.ndim else float(lr),
                                              noise_scale=scale if scale.ndim else float(scale),
                                              dt=dt if dt.ndim else float(dt))

    def update(self, c: OverdampedLangevinCoefficients, s: State, f: Fields, potential: Potential) -> None:
        f.grad_old[...] = f.grad
        s.memory.noise.fill(s.step, s.memory.xi)             # ξ ~ N(0, 1), drawn for this step
        dx = s.displacement(c.noise_scale * f.xi - c.lr * f.grad)  # Δx = −lr·∇V(x) + √(2·lr·T)·ξ
        f.x += dx
        s.evaluate(potential)
        # Heat handed to the bath: −½(∇V(x) + ∇V(x⁺))·Δx (the Stratonovich midpoint).
        f.grad_old += f.grad
        s.dissipated += -0.5 * s.dot(f.grad_old, dx)
        s.t += c.dt
