"""A tilted double well: the simplest landscape with a metastable state."""

from __future__ import annotations

import numpy as np

from .._validation import nonnegative, positive
from ._base import LibraryPotential


class DoubleWell(LibraryPotential):
    r"""A tilted double well, V(x, y) = h·(x² − 1)² + t·x + ½·k·y².

    For 0 < t < 8h/(3√3) there are two minima on the x-axis at the outer real roots of the cubic
    V'(x) = 4h·x(x² − 1) + t = 0 — a deep one at x < 0 and a shallow (metastable) one at x > 0 —
    separated by a barrier top (a saddle in 2-D) at the middle root. ``barriers()`` gives the heights
    ΔV a particle must climb to leave each well: by Kramers' law the escape rate from a well at
    temperature T scales as exp(−ΔV/T), and at equilibrium the wells' populations are in the
    ratio of their Boltzmann weights.

    Parameters
    ----------
    barrier : float
        h > 0, the height of the central barrier without tilt.
    tilt : float
        t ≥ 0, the linear tilt that makes the wells unequal.
    stiffness : float
        k > 0, the harmonic confinement across the valley.

    References
    ----------
    Kramers, H. A. (1940). Brownian motion in a field of force and the diffusion model of chemical
    reactions. Physica 7, 284-304.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    def __init__(self, barrier: float = 1.0, tilt: float = 0.25, stiffness: float = 1.0):
        self.barrier = positive("barrier", barrier)
        self.tilt = nonnegative("tilt", tilt)
        self.stiffness = positive("stiffness", stiffness)
        h, t = self.barrier, self.tilt
        if t >= 8 * h / (3 * np.sqrt(3)):
            raise ValueError(f"tilt must be below 8·barrier/(3√3) = {8 * h / (3 * np.sqrt(3)):.6g} for two wells, "
                             f"got {tilt!r}")
        roots = np.sort(np.roots([4 * h, 0.0, -4 * h, t]).real)
        self.x_deep, self.x_top, self.x_shallow = (float(r) for r in roots)

        def on_axis(x):
            return h * (x * x - 1) ** 2 + t * x

        self.saddle = (np.array([self.x_top, 0.0]), float(on_axis(self.x_top)))
        super().__init__(2, name="tilted double well", bounds=[[-2.0, 2.0], [-1.5, 1.5]],
                         minima=[([self.x_deep, 0.0], on_axis(self.x_deep)),
                                 ([self.x_shallow, 0.0], on_axis(self.x_shallow))])

    def barriers(self) -> dict:
        """ΔV from each minimum to the barrier top: ``{'deep': …, 'shallow': …}``."""
        top = self.saddle[1]
        return {"deep": top - self.minima[0].value, "shallow": top - self.minima[1].value}

    def _value_and_gradient(self, x, out):
        x0, x1 = x[..., 0], x[..., 1]
        s = x0 * x0 - 1.0
        out[..., 0] = (4.0 * self.barrier) * x0 * s + self.tilt
        np.multiply(x1, self.stiffness, out=out[..., 1])
        return self.barrier * s * s + self.tilt * x0 + (0.5 * self.stiffness) * x1 * x1

    def _value(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return self.barrier * (x0 * x0 - 1.0) ** 2 + self.tilt * x0 + 0.5 * self.stiffness * x1 * x1

    def _hessian(self, x):
        h = np.zeros(x.shape + (2,), dtype=x.dtype)
        h[..., 0, 0] = self.barrier * (12.0 * x[..., 0] ** 2 - 4.0)
        h[..., 1, 1] = self.stiffness
        return h
