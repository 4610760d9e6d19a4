"""Newton refinement of stationary points from literature starting values (construction time only)."""

from __future__ import annotations

import numpy as np


def newton_stationary(gradient, hessian, x0, *, iterations: int = 50, tol: float = 1e-15) -> np.ndarray:
    """Refine ``x0`` to a stationary point by Newton's method on ∇V = 0 (minima and saddles alike)."""
    x = np.array(x0, dtype=np.float64)
    for _ in range(iterations):
        step = np.linalg.solve(hessian(x), gradient(x))
        x = x - step
        if np.max(np.abs(step)) <= tol * (1.0 + np.max(np.abs(x))):
            break
    return x
