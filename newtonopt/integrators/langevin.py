"""Underdamped Langevin dynamics with the BAOAB splitting: a heat bath at temperature T."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import as_seed, nonnegative
from ..core.elementary import exp
from ..noise import CounterNormal, fixed_seed, seed_keys
from ..potential import Potential
from .base import Fields, NewtonianIntegrator, State, per_particle, verlet_stability_message, working


@dataclasses.dataclass
class ThermalMomentum:
    """The memory of Langevin dynamics: p, and the bath's normals ξ (a counter-based stream: rebuilt
    from the seed, so not saved)."""

    p: np.ndarray
    noise: CounterNormal = working()
    xi: np.ndarray = working()


@dataclasses.dataclass(frozen=True)
class LangevinCoefficients:
    half_dt: float | np.ndarray         # dt/2
    half_dt_over_m: float | np.ndarray  # dt/(2m)
    damping: float | np.ndarray         # c = exp(−γ·dt/m), the exact O step
    sigma: float | np.ndarray           # σ = √((1 − c²)·m·T)
    half_inv_m: float | np.ndarray      # 1/(2m)
    dt: float | np.ndarray


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
    energy_bounded = False  # the bath heats the particle
    stability_limit_label = "2·√(m/λ_max)"

    @classmethod
    def stability_limit(cls, L: float, mass=1.0):
        """The largest stable dt on a quadratic whose top Hessian eigenvalue is ``L``: 2·√(m/L), as for
        velocity Verlet (BAOAB's kicks and drifts are Verlet's; the exact O step only shrinks p)."""
        return 2.0 * np.sqrt(mass / L)

    def stability_message(self, lam_max):
        return verlet_stability_message(self.dt, self.mass, lam_max)

    def init_memory(self, x: np.ndarray) -> ThermalMomentum:
        return ThermalMomentum(p=np.zeros_like(x), noise=CounterNormal(seed_keys(self.seed, x.shape[:-1]), x.shape[-1]),
                               xi=np.empty_like(x, dtype=np.float64))

    def coefficients(self, particles: tuple, dtype) -> LangevinCoefficients:
        dt = np.asarray(per_particle("dt", self.dt, particles))
        mass = np.asarray(per_particle("mass", self.mass, particles))
        friction = np.asarray(per_particle("friction", self.friction, particles))
        temperature = np.asarray(per_particle("temperature", self.temperature, particles))
        c = np.asarray(exp(-friction * dt / mass))  # the package's exp: numpy's differs in the last bit by CPU

        def number(a):
            return a if a.ndim else float(a)

        return LangevinCoefficients(half_dt=number(0.5 * dt), half_dt_over_m=number(0.5 * dt / mass),
                                    damping=number(c), sigma=number(np.sqrt((1.0 - c * c) * mass * temperature)),
                                    half_inv_m=number(0.5 / mass), dt=number(dt))

    def update(self, c: LangevinCoefficients, s: State, f: Fields, potential: Potential) -> None:
        f.p -= c.half_dt * f.grad                      # B: p ← p − (dt/2)·∇V(x)
        f.x += c.half_dt_over_m * f.p                  # A: x ← x + (dt/2)·p/m
        # O: the exact Ornstein–Uhlenbeck flow p ← c·p + σ·ξ; the kinetic energy it changes is heat
        # exchanged with the bath, booked as K_before − K_after.
        kinetic_before = c.half_inv_m * s.sq_norm(f.p)
        s.memory.noise.fill(s.step, s.memory.xi)       # ξ ~ N(0, 1), drawn for this step
        f.p *= c.damping
        f.p += c.sigma * f.xi
        s.kinetic = c.half_inv_m * s.sq_norm(f.p)
        s.dissipated += kinetic_before
        s.dissipated -= s.kinetic
        f.x += c.half_dt_over_m * f.p                  # A
        s.evaluate(potential)
        f.p -= c.half_dt * f.grad                      # B
        s.kinetic = c.half_inv_m * s.sq_norm(f.p)
        s.t += c.dt
