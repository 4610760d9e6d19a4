"""Hamiltonian descent: damped motion with a kinetic energy chosen to match the potential."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import as_parameter, nonnegative, positive
from ..core.elementary import exp, ln
from ..potential import Potential
from .base import Fields, Integrator, Momentum, State, per_particle

#: The kinetic energies k(p) on offer, by name.
KINETIC = ("quadratic", "relativistic", "power")


@dataclasses.dataclass(frozen=True)
class HamiltonianDescentCoefficients:
    dt: float | np.ndarray          # ε, the step
    damping: float | np.ndarray     # δ = 1/(1 + γ·ε), the implicit friction factor
    kinetic: str                    # which k(p)
    power: float                    # a, for k(p) = |p|^a/a


def _power_of_sq(p_sq, exponent: float):
    """(|p|²)^exponent per particle, by the package's own ln and exp (the same bits on every CPU; C's pow is
    not), and 0 where |p| = 0 (for exponent > 0: k(0) = 0; for the gradient's |p|^(a−2)·p, whose limit is 0)."""
    if np.ndim(p_sq) == 0:
        return exp(exponent * ln(float(p_sq))) if p_sq > 0 else 0.0
    flat = np.asarray(p_sq, dtype=np.float64).reshape(-1)
    logs = np.array([ln(float(v)) if v > 0 else 0.0 for v in flat])
    return np.where(flat > 0, exp(exponent * logs), 0.0).reshape(np.shape(p_sq))


def kinetic_energy(kind: str, p_sq, power: float = 2.0):
    """k(p) per particle from |p|²: |p|²/2, √(|p|² + 1) − 1, or |p|^a/a (a = ``power``)."""
    if kind == "quadratic":
        return 0.5 * p_sq
    if kind == "relativistic":
        return p_sq / (np.sqrt(p_sq + 1.0) + 1.0)  # √(|p|² + 1) − 1 without cancellation
    return _power_of_sq(p_sq, 0.5 * power) / power


def kinetic_slope(kind: str, p_sq, power: float = 2.0):
    """The factor s with ∇k(p) = s·p, per particle: 1, 1/√(|p|² + 1), or |p|^(a−2)."""
    if kind == "quadratic":
        return 1.0
    if kind == "relativistic":
        return 1.0 / np.sqrt(p_sq + 1.0)
    return _power_of_sq(p_sq, 0.5 * (power - 2.0))


def _number(value):
    return float(value) if np.ndim(value) == 0 else value


class HamiltonianDescent(Integrator):
    r"""Hamiltonian descent with a chosen kinetic energy (Maddison et al.'s first explicit method).

    Machine learning: a momentum method whose step is ∇k of the momentum rather than the
    momentum itself::

        p⁺ = δ·(p − ε·∇V(x)),        δ = 1/(1 + γ·ε)
        x⁺ = x + ε·∇k(p⁺)

    With k(p) = |p|²/2 this is the heavy ball (lr = ε², momentum δ, gradient scaled by δ); with
    k(p) = √(|p|² + 1) − 1 the step is at most ε long (a normalized momentum); with
    k(p) = |p|^a/a it is ε·|p|^(a−1) in the direction of p.

    Physics: the semi-implicit (symplectic) Euler step of the conformal Hamiltonian system
    H(x, p) = k(p) + V(x) with friction γ,

        ẋ = ∇k(p),        ṗ = −∇V(x) − γ·p,

    the friction taken implicitly (δ = 1/(1 + γ·ε)).

    Parameters
    ----------
    dt : float or array
        The step ε > 0.
    friction : float or array
        γ ≥ 0.
    kinetic : {"quadratic", "relativistic", "power"}
        k(p) = |p|²/2, √(|p|² + 1) − 1, or |p|^a/a.
    power : float
        a > 1 for ``kinetic="power"`` (ignored otherwise). On V(x) = |x|^b/b the matched choice
        is the conjugate exponent a = b/(b − 1) (4/3 for b = 4), with which the rate is linear.

    Notes
    -----
    Energy ledger: E = V + k(p). The friction step p ← δ·p removes k(p) − k(δ·p), which is
    booked in ``dissipated``; ``energy_error`` is the symplectic Euler error, O(ε) without drift.

    Convergence (Maddison et al. 2018): when k is matched to the convex conjugate of V (k
    grows like V*), the continuous system and the explicit methods converge linearly even
    where V is not strongly convex; on V = |x|⁴/4 the quadratic k converges only sublinearly
    (V_{k+1}/V_k → 1), the power k with a = 4/3 at a constant ratio < 1.

    The explicit methods need the step small compared with the curvature of k at the
    momenta reached: for k(p) = |p|^a/a with a < 2, ∇k is not Lipschitz at p = 0, which the
    theory handles by the matched V; the relativistic k has ∇k 1-Lipschitz and |∇k| < 1.

    References
    ----------
    Maddison, C. J., Paulin, D., Teh, Y. W., O'Donoghue, B. & Doucet, A. (2018). Hamiltonian
    descent methods. arXiv:1809.05042 (first explicit method, eq. for x_{i+1}, p_{i+1}; §3).
    """

    order = 2
    step_parameter = "dt"

    def __init__(self, dt, friction=1.0, kinetic: str = "relativistic", power: float = 2.0):
        self.dt = positive("dt", dt)
        self.friction = nonnegative("friction", friction)
        if not isinstance(kinetic, str):
            raise TypeError(f"kinetic must be one of {KINETIC}, got {type(kinetic).__name__}")
        if kinetic not in KINETIC:
            raise ValueError(f"kinetic must be one of {KINETIC}, got {kinetic!r}")
        self.kinetic = kinetic
        self.power = as_parameter("power", power, low=1.0, low_open=True, scalar=True)

    @property
    def time_step(self):
        return self.dt

    def params(self) -> dict:
        return {"dt": self.dt, "friction": self.friction, "kinetic": self.kinetic, "power": self.power}

    def init_memory(self, x: np.ndarray) -> Momentum:
        return Momentum(p=np.zeros_like(x))  # from rest

    def physical_momentum(self, state: State):
        return state.memory.p.copy()

    def coefficients(self, particles: tuple, dtype) -> HamiltonianDescentCoefficients:
        dt = per_particle("dt", self.dt, particles)
        gamma = per_particle("friction", self.friction, particles)
        delta = 1.0 / (1.0 + np.asarray(gamma) * np.asarray(dt))
        return HamiltonianDescentCoefficients(dt=dt, damping=_number(delta), kinetic=self.kinetic,
                                              power=float(self.power))

    def update(self, c: HamiltonianDescentCoefficients, s: State, f: Fields, potential: Potential) -> None:
        f.p -= c.dt * f.grad                                        # p ← p − ε·∇V(x)
        p_sq = s.sq_norm(f.p)
        after = kinetic_energy(c.kinetic, c.damping * c.damping * p_sq, c.power)
        s.dissipated += kinetic_energy(c.kinetic, p_sq, c.power) - after  # friction removes k(p) − k(δ·p)
        f.p *= c.damping                                           # p ← δ·p
        s.kinetic = after
        slope = kinetic_slope(c.kinetic, c.damping * c.damping * p_sq, c.power)
        f.x += _number(c.dt * slope) * f.p                          # x ← x + ε·∇k(p)
        s.evaluate(potential)
        s.t += c.dt
