"""Shared pieces of the adaptive (preconditioned) first-order methods."""

from __future__ import annotations

from .base import Fields, State


def move_and_book(s: State, f: Fields, step) -> None:
    """x ← x + Δx with Δx = ``step``, booking the work of the force along it, −∇V·Δx, as dissipated energy.

    In the overdamped reading every joule the force does is handed to the medium; what is left,
    ε = V + D − V₀ = Σ [V(x + Δx) − V(x) − ∇V(x)·Δx], is the discretization error (for gradient
    descent, −∇V·Δx = lr·|∇V|², what GradientDescent books).
    """
    dx = s.displacement(step)
    s.dissipated -= s.dot(f.grad, dx)
    f.x += dx


def decayed_gradient(f: Fields, weight_decay, decays: bool):
    """∇V + weight_decay·x (torch's L2 penalty added to the gradient), or ∇V itself."""
    return f.grad + weight_decay * f.x if decays else f.grad
