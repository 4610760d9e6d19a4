"""Small array kernels used on hot paths.

Every per-particle reduction goes through :mod:`newtonopt.core.reductions`, whose summation order
is written in the package (no BLAS, no einsum): the same bits on every CPU, for one particle alone
or in any ensemble.
"""

from __future__ import annotations

import numpy as np

from .core.reductions import rowdot

FLOAT64 = np.dtype(np.float64)

__all__ = ["FLOAT64", "rowdot", "vdot", "particle_shape", "n_particles"]


def vdot(a: np.ndarray, b: np.ndarray) -> float:
    """``a·b`` of two 1-D arrays (one particle), in the fixed order of :func:`rowdot`."""
    return rowdot(a, b)


def particle_shape(x: np.ndarray) -> tuple:
    """The ensemble's leading shape: ``x.shape[:-1]``."""
    return x.shape[:-1]


def n_particles(x: np.ndarray) -> int:
    """The number of particles in ``x`` of shape ``(..., dim)``."""
    n = 1
    for s in x.shape[:-1]:
        n *= s
    return n
