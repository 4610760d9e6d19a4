"""Shared pieces of the adaptive (preconditioned) first-order methods."""

from __future__ import annotations

import numpy as np

from .._kernels import rowdot, vdot
from .base import State, book_dissipation


def move_and_book(state: State, delta: np.ndarray) -> None:
    """x ← x + Δx, booking the work of the force along the step, −∇V·Δx, as dissipated energy.

    In the overdamped reading every joule the force does is handed to the medium; what is left,
    ε = V + D − V₀ = Σ [V(x + Δx) − V(x) − ∇V(x)·Δx], is the discretization error (for gradient
    descent, −∇V·Δx = lr·|∇V|², what GradientDescent books).
    """
    if state.x.ndim == 1:
        state.dissipated += -float(vdot(state.grad, delta))
    else:
        work = state.__dict__.get("_work")
        if work is None:
            work = state._work = np.empty(state.particle_shape, dtype=state.x.dtype)
        rowdot(state.grad, delta, out=work)
        book_dissipation(state, -1.0, work)
    np.add(state.x, delta, out=state.x)


def with_weight_decay(state: State, weight_decay) -> np.ndarray:
    """∇V + weight_decay·x (torch's L2 penalty added to the gradient), or ∇V itself."""
    if not np.any(weight_decay):
        return state.grad
    np.multiply(state.x, state.weight_decay, out=state.decayed)
    np.add(state.decayed, state.grad, out=state.decayed)
    return state.decayed
