"""Sharpness along a run: the top Hessian eigenvalues every k steps (the edge-of-stability diagnostic)."""

from __future__ import annotations

import numpy as np

from .._validation import as_int
from ..curvature import top_eigenvalues
from ..integrators.base import State
from ..potential import Potential


class SharpnessTracker:
    """Measures the ``top`` largest Hessian eigenvalues of each particle at steps that are multiples of
    ``every`` (and at the start), with :func:`newtonopt.curvature.top_eigenvalues` (uncounted)."""

    def __init__(self, potential: Potential, every, top=1):
        self.potential = potential
        self.every = as_int("sharpness_every", every, low=1)
        self.top = as_int("sharpness_top", top, low=1)
        if self.top > potential.dim:
            raise ValueError(f"sharpness_top must be at most the dimension {potential.dim}, got {top!r}")
        self.steps: list[int] = []
        self.values: list[np.ndarray] = []

    def due(self, step: int) -> bool:
        return step % self.every == 0 and (not self.steps or self.steps[-1] != step)

    def measure(self, state: State) -> None:
        """Record the sharpness at the state's step (once per step)."""
        if not self.due(state.step):
            return
        x = np.asarray(state.x, dtype=np.float64)
        points = x.reshape(-1, x.shape[-1])
        values = np.array([top_eigenvalues(self.potential, point, self.top) for point in points])
        self.values.append(values.reshape(x.shape[:-1] + (self.top,)))
        self.steps.append(int(state.step))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sharpness, sharpness_step)``: shape (m, *particles) for one eigenvalue, (m, *particles, top) else."""
        values = np.array(self.values, dtype=np.float64)
        if self.top == 1:
            values = values[..., 0]
        return values, np.array(self.steps, dtype=np.int64)
