"""Adam: a damped momentum with a per-coordinate, position-dependent mass."""

from __future__ import annotations

import numpy as np

from .._validation import fraction, nonnegative, positive
from ..core.elementary import integer_power
from ._adaptive import move_and_book, with_weight_decay
from .base import Integrator, State, particle_parameter, particle_scalar


class Adam(Integrator):
    r"""Adam with torch.optim's rule and defaults (Kingma & Ba 2015; AMSGrad, Reddi et al. 2018).

    Machine learning (step k = 1, 2, …; g = ∇V(x) + weight_decay·x)::

        m ← m + (1 − β₁)(g − m)                 (torch's lerp)
        v ← β₂·v + (1 − β₂)·g²
        v̂ ← max(v̂, v) if amsgrad else v
        x ← x − (lr / (1 − β₁ᵏ)) · m / (√v̂ / √(1 − β₂ᵏ) + eps)

    Physics: m is a low-pass filtered force — a momentum with friction (1 − β₁ per step) — and
    1/(√v̂ + eps) is a diagonal, position-dependent mobility: an inverse mass that is small where the
    force has been large. Read as overdamped motion through that medium, the work the force does
    along each step, −∇V·Δx, is what the ledger books as dissipated; ``energy_error`` then holds the
    discretization error (and the uphill work a momentum may do).

    Parameters
    ----------
    lr : float, array or Schedule
        Learning rate (default 1e-3).
    betas : (float, float)
        β₁, β₂ in [0, 1) (default (0.9, 0.999)).
    eps : float
        Added to √v̂ (default 1e-8).
    weight_decay : float
        L2 penalty added to the gradient (default 0).
    amsgrad : bool
        Use the running maximum of v (default False).

    References
    ----------
    Kingma, D. P. & Ba, J. (2015). Adam: a method for stochastic optimization. ICLR.
    Reddi, S. J., Kale, S. & Kumar, S. (2018). On the convergence of Adam and beyond. ICLR.
    """

    order = 1
    state_fields = ("m", "v", "vmax", "count")

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.lr = positive("lr", lr)
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (fraction("betas[0]", betas[0]), fraction("betas[1]", betas[1]))
        self.eps = positive("eps", eps)
        self.weight_decay = nonnegative("weight_decay", weight_decay)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise TypeError(f"amsgrad must be True or False, got {amsgrad!r}")
        self.amsgrad = bool(amsgrad)

    @property
    def time_step(self):
        return self.lr

    def params(self) -> dict:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay,
                "amsgrad": self.amsgrad}

    def _setup(self, state: State) -> None:
        state.m = np.zeros_like(state.x)
        state.v = np.zeros_like(state.x)
        state.vmax = np.zeros_like(state.x) if self.amsgrad else np.zeros(0)
        state.count = 0
        state.delta = np.empty_like(state.x)
        state.tmp = np.empty_like(state.x)
        state.decayed = np.empty_like(state.x)

    def _configure(self, state: State) -> None:
        shape, dtype = state.particle_shape, state.x.dtype
        b1, b2 = (np.asarray(particle_scalar(b, shape, "betas")) for b in self.betas)
        state.b1, state.b2 = b1, b2
        state.w1 = particle_parameter(1.0 - b1 if b1.ndim else 1.0 - float(b1), shape, dtype, "betas")
        state.b2_ = particle_parameter(b2 if b2.ndim else float(b2), shape, dtype, "betas")
        state.w2 = particle_parameter(1.0 - b2 if b2.ndim else 1.0 - float(b2), shape, dtype, "betas")
        state.lr_s = np.asarray(particle_scalar(self.lr, shape, "lr"))
        state.eps = particle_parameter(self.eps, shape, dtype, "eps")
        state.weight_decay = particle_parameter(self.weight_decay, shape, dtype, "weight_decay")
        state.dt = particle_scalar(self.lr, shape, "lr")

    def _bias(self, state: State, count: int):
        # βᵏ by exact products and √ (IEEE), not pow: the same bits on every CPU
        bc1 = 1.0 - integer_power(state.b1, count)
        bc2 = 1.0 - integer_power(state.b2, count)
        step_size = state.lr_s / bc1
        bc2_sqrt = np.sqrt(bc2)
        shape = state.particle_shape
        return (particle_parameter(-step_size if np.ndim(step_size) else -float(step_size), shape, state.x.dtype,
                                   "lr"),
                particle_parameter(bc2_sqrt if np.ndim(bc2_sqrt) else float(bc2_sqrt), shape, state.x.dtype,
                                   "betas"))

    def step(self, potential, state: State) -> None:
        g = with_weight_decay(state, self.weight_decay)
        m, v, tmp, delta = state.m, state.v, state.tmp, state.delta
        state.count += 1
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, state.w1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, state.b2_, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, state.w2, out=tmp)
        np.add(v, tmp, out=v)
        neg_step, bc2_sqrt = self._bias(state, state.count)
        if self.amsgrad:
            np.maximum(state.vmax, v, out=state.vmax)
            np.sqrt(state.vmax, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        np.divide(tmp, bc2_sqrt, out=tmp)
        np.add(tmp, state.eps, out=tmp)
        np.divide(m, tmp, out=delta)
        np.multiply(delta, neg_step, out=delta)
        move_and_book(state, delta)
        state.value = potential.evaluate_into(state.x, state.grad)
        state.t = state.t + state.dt
