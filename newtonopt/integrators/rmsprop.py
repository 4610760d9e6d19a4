"""RMSprop: gradient descent through a medium whose mobility adapts to the recent force."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import fraction, nonnegative, positive
from ..core.expressions import sqrt
from ..potential import Potential
from ._adaptive import decayed_gradient, move_and_book
from .base import Fields, Integrator, State, per_particle


@dataclasses.dataclass
class RMSpropMemory:
    square_avg: np.ndarray  # the running mean of g², per coordinate
    grad_avg: np.ndarray    # the running mean of g (centred RMSprop; empty otherwise)
    buffer: np.ndarray      # the momentum buffer (with momentum; empty otherwise)


@dataclasses.dataclass(frozen=True)
class RMSpropCoefficients:
    lr: float | np.ndarray
    alpha: float | np.ndarray
    one_minus_alpha: float | np.ndarray
    eps: float | np.ndarray
    momentum: float | np.ndarray
    weight_decay: float | np.ndarray
    decays: bool
    dt: float | np.ndarray


class RMSprop(Integrator):
    r"""RMSprop with torch.optim's rule and defaults (Tieleman & Hinton 2012; centered: Graves 2013).

    Machine learning (g = ∇V(x) + weight_decay·x)::

        s ← α·s + (1 − α)·g²
        ḡ ← ḡ + (1 − α)(g − ḡ)            (centered only)
        d = √(s − ḡ²) + eps  if centered else  √s + eps
        b ← μ·b + g/d,  x ← x − lr·b       (momentum μ > 0)
        x ← x − lr·g/d                      (otherwise)

    Physics: 1/d is a diagonal, position-dependent mobility (an inverse mass), normalizing each
    coordinate's force by its recent root mean square; with momentum, b is a damped velocity in
    that rescaled metric. The ledger books the work −∇V·Δx of each step as dissipated.

    Parameters
    ----------
    lr : float, array or Schedule
        Learning rate (default 1e-2).
    alpha : float
        Smoothing constant in [0, 1) (default 0.99).
    eps : float
        Added to the root mean square (default 1e-8).
    weight_decay : float
        L2 penalty added to the gradient (default 0).
    momentum : float
        μ in [0, 1) (default 0).
    centered : bool
        Normalize by the estimated variance instead of the second moment (default False).

    References
    ----------
    Tieleman, T. & Hinton, G. (2012). Lecture 6.5 — RMSprop. COURSERA: Neural Networks for Machine
    Learning. Graves, A. (2013). Generating sequences with recurrent neural networks. arXiv:1308.0850.
    """

    order = 1

    energy_bounded = False  # the step books the force's work, not a friction loss: V may rise

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr = positive("lr", lr)
        self.alpha = fraction("alpha", alpha)
        self.eps = positive("eps", eps)
        self.weight_decay = nonnegative("weight_decay", weight_decay)
        self.momentum = fraction("momentum", momentum)
        if not isinstance(centered, (bool, np.bool_)):
            raise TypeError(f"centered must be True or False, got {centered!r}")
        self.centered = bool(centered)

    @property
    def time_step(self):
        return self.lr

    def params(self) -> dict:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered}

    def init_memory(self, x: np.ndarray) -> RMSpropMemory:
        return RMSpropMemory(square_avg=np.zeros_like(x),
                             grad_avg=np.zeros_like(x) if self.centered else np.zeros(0),
                             buffer=np.zeros_like(x) if np.any(self.momentum) else np.zeros(0))

    def coefficients(self, particles: tuple, dtype) -> RMSpropCoefficients:
        alpha = per_particle("alpha", self.alpha, particles)
        return RMSpropCoefficients(lr=per_particle("lr", self.lr, particles), alpha=alpha, one_minus_alpha=1.0 - alpha,
                                   eps=per_particle("eps", self.eps, particles),
                                   momentum=per_particle("momentum", self.momentum, particles),
                                   weight_decay=per_particle("weight_decay", self.weight_decay, particles),
                                   decays=bool(np.any(self.weight_decay)), dt=per_particle("lr", self.lr, particles))

    def update(self, c: RMSpropCoefficients, s: State, f: Fields, potential: Potential) -> None:
        g = decayed_gradient(f, c.weight_decay, c.decays)                        # g = ∇V(x) + λ·x
        f.square_avg[...] = c.alpha * f.square_avg + c.one_minus_alpha * (g * g)  # v ← α·v + (1 − α)·g²
        if self.centered:
            f.grad_avg += c.one_minus_alpha * (g - f.grad_avg)                   # ḡ ← α·ḡ + (1 − α)·g
            denominator = sqrt(f.square_avg - f.grad_avg * f.grad_avg) + c.eps   # √(v − ḡ²) + ε
        else:
            denominator = sqrt(f.square_avg) + c.eps                             # √v + ε
        if s.memory.buffer.size:
            f.buffer[...] = c.momentum * f.buffer + g / denominator              # b ← μ·b + g/(√v + ε)
            move_and_book(s, f, -c.lr * f.buffer)                                # x ← x − lr·b
        else:
            move_and_book(s, f, -c.lr * (g / denominator))                       # x ← x − lr·g/(√v + ε)
        s.evaluate(potential)
        s.t += c.dt
