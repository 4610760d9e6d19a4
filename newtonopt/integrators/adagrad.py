"""Adagrad: a mobility that only ever decreases, as the accumulated squared force grows."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import nonnegative, positive
from ..core.expressions import per_particle_operand, sqrt
from ..potential import Potential
from ._adaptive import decayed_gradient, move_and_book
from .base import Fields, Integrator, State, per_particle


@dataclasses.dataclass
class AdagradMemory:
    sum: np.ndarray  # Σ g², per coordinate
    count: int       # steps taken


@dataclasses.dataclass(frozen=True)
class AdagradCoefficients:
    lr: float | np.ndarray
    lr_decay: float | np.ndarray
    eps: float | np.ndarray
    weight_decay: float | np.ndarray
    decays: bool  # weight_decay ≠ 0 somewhere
    dt: float | np.ndarray


class Adagrad(Integrator):
    r"""Adagrad with torch.optim's rule and defaults (Duchi, Hazan & Singer 2011).

    Machine learning (step k = 1, 2, …; g = ∇V(x) + weight_decay·x)::

        clr = lr / (1 + (k − 1)·lr_decay)
        S ← S + g²                      (S starts at initial_accumulator_value)
        x ← x − clr · g / (√S + eps)

    Physics: overdamped motion with a diagonal mobility clr/(√S + eps) that decreases as the
    squared force accumulates — a mass (or friction) that grows with the force history, so the
    particle cools down in the directions it has been pushed hardest. The ledger books the work
    −∇V·Δx of each step as dissipated.

    Parameters
    ----------
    lr : float, array or Schedule
        Learning rate (default 1e-2).
    lr_decay : float
        (default 0).
    weight_decay : float
        L2 penalty added to the gradient (default 0).
    initial_accumulator_value : float
        Starting value of S (default 0).
    eps : float
        (default 1e-10).

    References
    ----------
    Duchi, J., Hazan, E. & Singer, Y. (2011). Adaptive subgradient methods for online learning and
    stochastic optimization. JMLR 12, 2121-2159.
    """

    order = 1

    energy_bounded = False  # the step books the force's work, not a friction loss: V may rise

    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr = positive("lr", lr)
        self.lr_decay = nonnegative("lr_decay", lr_decay)
        self.weight_decay = nonnegative("weight_decay", weight_decay)
        self.initial_accumulator_value = nonnegative("initial_accumulator_value", initial_accumulator_value)
        self.eps = positive("eps", eps)

    @property
    def time_step(self):
        return self.lr

    def params(self) -> dict:
        return {"lr": self.lr, "lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}

    def init_memory(self, x: np.ndarray) -> AdagradMemory:
        start = per_particle("initial_accumulator_value", self.initial_accumulator_value, x.shape[:-1])
        total = np.zeros_like(x)
        total += per_particle_operand(start, total)
        return AdagradMemory(sum=total, count=0)

    def coefficients(self, particles: tuple, dtype) -> AdagradCoefficients:
        return AdagradCoefficients(lr=per_particle("lr", self.lr, particles),
                                   lr_decay=per_particle("lr_decay", self.lr_decay, particles),
                                   eps=per_particle("eps", self.eps, particles),
                                   weight_decay=per_particle("weight_decay", self.weight_decay, particles),
                                   decays=bool(np.any(self.weight_decay)), dt=per_particle("lr", self.lr, particles))

    def update(self, c: AdagradCoefficients, s: State, f: Fields, potential: Potential) -> None:
        g = decayed_gradient(f, c.weight_decay, c.decays)      # g = ∇V(x) + λ·x
        s.memory.count += 1
        clr = c.lr / (1.0 + (s.memory.count - 1) * c.lr_decay)  # lr/(1 + (k − 1)·decay)
        f.sum += g * g                                          # Σ ← Σ + g²
        move_and_book(s, f, -clr * (g / (sqrt(f.sum) + c.eps)))  # x ← x − clr·g/(√Σ + ε)
        s.evaluate(potential)
        s.t += c.dt
