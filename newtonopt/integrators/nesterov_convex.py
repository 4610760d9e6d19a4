"""Nesterov's method for convex functions, with the momentum (k − 1)/(k + 2) of Su, Boyd & Candès."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import positive
from ..core.limits import ContinuousLimit
from ..potential import Potential
from .base import Fields, Integrator, State, _scalar, per_particle


@dataclasses.dataclass
class StepCountAndVelocity:
    """The memory of the convex Nesterov scheme: the velocity p = (x_k − x_{k−1})/√s per coordinate and
    the number k of steps taken (the momentum (k − 1)/(k + 2) depends on it)."""

    p: np.ndarray
    k: int = 0


@dataclasses.dataclass(frozen=True)
class NesterovConvexCoefficients:
    lr: float | np.ndarray  # s
    dt: float | np.ndarray  # √s, the time per step


def momentum(k: int) -> float:
    """β_k = (k − 1)/(k + 2) for k ≥ 1 (and 0 at k = 0, where the velocity is 0 anyway)."""
    return max(k - 1, 0) / (k + 2)


class NesterovConvex(Integrator):
    r"""Nesterov's accelerated gradient for convex functions (Su, Boyd & Candès's form).

    Machine learning (Nesterov 1983; Su, Boyd & Candès 2016, eq. (3)), from x₀ = y₀::

        x_k = y_{k−1} − s·∇V(y_{k−1})
        y_k = x_k + (k − 1)/(k + 2)·(x_k − x_{k−1})

    The run's position is y_k, where the gradient is taken (as for :class:`~newtonopt.Nesterov`,
    whose x is the look-ahead point); x_k = y_k − β_k·√s·p_k with the recorded momentum p.

    Physics: with velocity v_k = (x_k − x_{k−1})/√s (unit mass, time step √s) one step is a
    friction step, a kick at the look-ahead point and a drift::

        v ← β_k·v,                     β_k = (k − 1)/(k + 2) ≈ 1 − 3/k = 1 − (3/t)·√s
        v ← v − √s·∇V(y_k)
        x_{k+1} = x_k + √s·v,          y_{k+1} = x_{k+1} + β_{k+1}·√s·v

    As s → 0 the iterates follow Su, Boyd & Candès's ODE Ẍ + (3/t)·Ẋ + ∇V(X) = 0, X(0) = x₀,
    Ẋ(0) = 0, at t = k·√s (:meth:`continuous_limit`, :func:`newtonopt.flows.nesterov_flow`).

    Parameters
    ----------
    lr : float or array
        The step s > 0 (s ≤ 1/L for the O(1/(s·k²)) guarantee on an L-smooth convex V).

    Notes
    -----
    Energy ledger: E = V(y) + |v|²/2. The friction step v ← β_k·v removes (1 − β_k²)·|v|²/2,
    booked in ``dissipated`` (the discrete counterpart of ∫ (3/t)·|Ẋ|² dt); the rest of the
    step is a kick and a drift evaluated at the look-ahead point, whose error shows in
    ``energy_error`` and shrinks with √s.

    Convergence: V(x_k) − V* ≤ 2|x₀ − x*|²/(s·(k + 1)²) for convex L-smooth V and s ≤ 1/L
    (Su, Boyd & Candès 2016, Theorem 6 after Nesterov 1983). The momentum grows towards 1, so on a
    strongly convex V the iterates oscillate (the ODE's damping 3/t fades) rather than converge
    linearly.

    The memory holds k, so a resumed run continues with the right momentum, bit for bit.

    References
    ----------
    Nesterov, Y. (1983). A method for solving the convex programming problem with convergence
    rate O(1/k²). Soviet Math. Dokl. 27, 372-376.
    Su, W., Boyd, S. & Candès, E. J. (2016). A differential equation for modeling Nesterov's
    accelerated gradient method: theory and insights. J. Mach. Learn. Res. 17(153), 1-43.
    """

    order = 2

    def __init__(self, lr):
        self.lr = positive("lr", lr)

    @property
    def time_step(self):
        lr = np.sqrt(np.asarray(self.lr))
        return float(lr) if lr.ndim == 0 else lr

    def params(self) -> dict:
        return {"lr": self.lr}

    def continuous_limit(self) -> ContinuousLimit:
        """Ẍ + (3/t)·Ẋ + ∇V = 0 from rest, step k at t = k·√s (:func:`newtonopt.flows.nesterov_flow`, r = 3)."""
        return ContinuousLimit("nesterov_flow", {"r": 3.0}, float(np.sqrt(_scalar("lr", self.lr))))

    def init_memory(self, x: np.ndarray) -> StepCountAndVelocity:
        return StepCountAndVelocity(p=np.zeros_like(x), k=0)

    def physical_momentum(self, state: State):
        return state.memory.p.copy()

    def coefficients(self, particles: tuple, dtype) -> NesterovConvexCoefficients:
        return NesterovConvexCoefficients(lr=per_particle("lr", self.lr, particles),
                                          dt=per_particle("lr", self.time_step, particles))

    def update(self, c: NesterovConvexCoefficients, s: State, f: Fields, potential: Potential) -> None:
        k = int(s.memory.k)
        beta, beta_next = momentum(k), momentum(k + 1)
        f.x -= (beta * c.dt) * f.p                                    # y_k → x_k = y_k − β_k·√s·v_k
        s.dissipated += (1.0 - beta * beta) * s.kinetic               # the friction step removes (1 − β²)·K
        f.p *= beta                                                   # v ← β_k·v
        f.p -= c.dt * f.grad                                          # v ← v − √s·∇V(y_k)
        f.x += ((1.0 + beta_next) * c.dt) * f.p                       # x_{k+1} + β_{k+1}·(x_{k+1} − x_k) = y_{k+1}
        s.kinetic = 0.5 * s.sq_norm(f.p)                              # K = |v|²/2
        s.memory.k = k + 1
        s.evaluate(potential)
        s.t += c.dt
