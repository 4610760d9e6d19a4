"""Adagrad: a mobility that only ever decreases, as the accumulated squared force grows."""

from __future__ import annotations

import numpy as np

from .._validation import nonnegative, positive
from ._adaptive import move_and_book, with_weight_decay
from .base import Integrator, State, particle_parameter, particle_scalar


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
    state_fields = ("sum", "count")

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

    def _setup(self, state: State) -> None:
        shape = state.particle_shape
        init = particle_parameter(self.initial_accumulator_value, shape, state.x.dtype, "initial_accumulator_value")
        state.sum = np.zeros_like(state.x)
        np.add(state.sum, init, out=state.sum)
        state.count = 0
        state.delta = np.empty_like(state.x)
        state.tmp = np.empty_like(state.x)
        state.decayed = np.empty_like(state.x)

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        state.lr_s = np.asarray(particle_scalar(self.lr, shape, "lr"))
        state.decay_s = np.asarray(particle_scalar(self.lr_decay, shape, "lr_decay"))
        state.eps = particle_parameter(self.eps, shape, dtype, "eps")
        state.weight_decay = particle_parameter(self.weight_decay, shape, dtype, "weight_decay")
        state.dt = particle_scalar(self.lr, shape, "lr")

    def step(self, potential, state: State) -> None:
        g = with_weight_decay(state, self.weight_decay)
        state.count += 1
        clr = state.lr_s / (1.0 + (state.count - 1) * state.decay_s)
        neg_clr = particle_parameter(-clr if clr.ndim else -float(clr), state.particle_shape, state.x.dtype, "lr")
        s, tmp, delta = state.sum, state.tmp, state.delta
        np.multiply(g, g, out=tmp)
        np.add(s, tmp, out=s)
        np.sqrt(s, out=tmp)
        np.add(tmp, state.eps, out=tmp)
        np.divide(g, tmp, out=delta)
        np.multiply(delta, neg_clr, out=delta)
        move_and_book(state, delta)
        state.value = potential.evaluate_into(state.x, state.grad)
        state.t = state.t + state.dt
