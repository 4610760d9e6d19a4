"""Adam: a damped momentum with a per-coordinate, position-dependent mass."""

from __future__ import annotations

import dataclasses

import numpy as np

from .._validation import fraction, nonnegative, positive
from ..core.elementary import integer_power
from ..core.expressions import maximum, sqrt
from ..potential import Potential
from ._adaptive import decayed_gradient, move_and_book
from .base import Fields, Integrator, State, per_particle


@dataclasses.dataclass
class AdamMemory:
    m: np.ndarray     # first moment (the momentum), per coordinate
    v: np.ndarray     # second moment (the diagonal mass), per coordinate
    vmax: np.ndarray  # the largest v so far (AMSGrad; empty otherwise)
    count: int        # steps taken: k in the bias corrections


@dataclasses.dataclass(frozen=True)
class AdamCoefficients:
    lr: float | np.ndarray
    beta1: float | np.ndarray
    beta2: float | np.ndarray
    eps: float | np.ndarray
    weight_decay: float | np.ndarray
    decays: bool
    dt: float | np.ndarray


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

    energy_bounded = False  # the step books the force's work, not a friction loss: V may rise

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

    def init_memory(self, x: np.ndarray) -> AdamMemory:
        return AdamMemory(m=np.zeros_like(x), v=np.zeros_like(x),
                          vmax=np.zeros_like(x) if self.amsgrad else np.zeros(0), count=0)

    def coefficients(self, particles: tuple, dtype) -> AdamCoefficients:
        return AdamCoefficients(lr=per_particle("lr", self.lr, particles),
                                beta1=per_particle("betas", self.betas[0], particles),
                                beta2=per_particle("betas", self.betas[1], particles),
                                eps=per_particle("eps", self.eps, particles),
                                weight_decay=per_particle("weight_decay", self.weight_decay, particles),
                                decays=bool(np.any(self.weight_decay)), dt=per_particle("lr", self.lr, particles))

    def update(self, c: AdamCoefficients, s: State, f: Fields, potential: Potential) -> None:
        g = decayed_gradient(f, c.weight_decay, c.decays)          # g = ∇V(x) + λ·x
        s.memory.count += 1
        k = s.memory.count
        f.m += (1.0 - c.beta1) * (g - f.m)                          # m ← β₁·m + (1 − β₁)·g
        f.v[...] = c.beta2 * f.v + (1.0 - c.beta2) * (g * g)        # v ← β₂·v + (1 − β₂)·g²
        # bias corrections 1 − βᵏ by exact products (not pow): the same bits on every CPU
        step_size = c.lr / (1.0 - integer_power(c.beta1, k))        # lr/(1 − β₁ᵏ)
        root_correction = np.sqrt(1.0 - integer_power(c.beta2, k))  # √(1 − β₂ᵏ)
        if self.amsgrad:
            f.vmax[...] = maximum(f.vmax, f.v)
            second = f.vmax
        else:
            second = f.v
        # x ← x − lr/(1 − β₁ᵏ) · m / (√v/√(1 − β₂ᵏ) + ε)
        move_and_book(s, f, -step_size * (f.m / (sqrt(second) / root_correction + c.eps)))
        s.evaluate(potential)
        s.t += c.dt
