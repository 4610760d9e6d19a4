"""RMSprop: gradient descent through a medium whose mobility adapts to the recent force."""

from __future__ import annotations

import numpy as np

from .._validation import fraction, nonnegative, positive
from ._adaptive import move_and_book, with_weight_decay
from .base import Integrator, State, particle_parameter, particle_scalar


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
    state_fields = ("square_avg", "grad_avg", "buffer")

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

    def _setup(self, state: State) -> None:
        state.square_avg = np.zeros_like(state.x)
        state.grad_avg = np.zeros_like(state.x) if self.centered else np.zeros(0)
        state.buffer = np.zeros_like(state.x) if np.any(self.momentum) else np.zeros(0)
        state.delta = np.empty_like(state.x)
        state.tmp = np.empty_like(state.x)
        state.decayed = np.empty_like(state.x)

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        alpha = np.asarray(particle_scalar(self.alpha, shape, "alpha"))
        state.alpha = particle_parameter(alpha if alpha.ndim else float(alpha), shape, dtype, "alpha")
        state.one_minus_alpha = particle_parameter(1.0 - alpha if alpha.ndim else 1.0 - float(alpha), shape, dtype,
                                                   "alpha")
        state.eps = particle_parameter(self.eps, shape, dtype, "eps")
        state.mu = particle_parameter(self.momentum, shape, dtype, "momentum")
        lr = np.asarray(particle_scalar(self.lr, shape, "lr"))
        state.neg_lr = particle_parameter(-lr if lr.ndim else -float(lr), shape, dtype, "lr")
        state.weight_decay = particle_parameter(self.weight_decay, shape, dtype, "weight_decay")
        state.dt = particle_scalar(self.lr, shape, "lr")

    def step(self, potential, state: State) -> None:
        g = with_weight_decay(state, self.weight_decay)
        s, tmp, delta = state.square_avg, state.tmp, state.delta
        np.multiply(s, state.alpha, out=s)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, state.one_minus_alpha, out=tmp)
        np.add(s, tmp, out=s)
        if self.centered:
            ga = state.grad_avg
            np.subtract(g, ga, out=tmp)
            np.multiply(tmp, state.one_minus_alpha, out=tmp)
            np.add(ga, tmp, out=ga)
            np.multiply(ga, ga, out=tmp)
            np.subtract(s, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(s, out=tmp)
        np.add(tmp, state.eps, out=tmp)
        if state.buffer.size:
            b = state.buffer
            np.multiply(b, state.mu, out=b)
            np.divide(g, tmp, out=delta)
            np.add(b, delta, out=b)
            np.multiply(b, state.neg_lr, out=delta)
        else:
            np.divide(g, tmp, out=delta)
            np.multiply(delta, state.neg_lr, out=delta)
        move_and_book(state, delta)
        state.value = potential.evaluate_into(state.x, state.grad)
        state.t = state.t + state.dt
