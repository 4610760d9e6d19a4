"""Figures for slides: landscapes with trajectories, convergence, the energy ledger.

Every function takes ``ax=None`` (a new figure is made when None) and returns
the Axes (or the Figure for multi-panel plots). Wherever trajectories are taken,
one Trajectory, a list, or a mapping label → Trajectory is accepted; labels make
the legend. Nothing outside the figures and the command line imports this module, and
evaluations made for drawing are not billed to the potential's counts.

The figures that only draw recorded results are defined in :mod:`newtonopt._draw` (below the
experiments, whose ``plot()`` methods use them) and collected here; the ones defined here run
something first: an ensemble (:func:`basins`), a sweep (:func:`stability_diagram`) or the
explorer (:func:`explore`).

House style: ``with plot.style("talk"):`` (or "paper", or "default") sets fonts, line widths and the
colour cycle for the figures made inside; line widths and legends follow it. Method colours come from
one palette (:func:`method_colors`: Okabe–Ito's eight, then four more, twelve distinct), so the same
method keeps its colour across panels when the same ``colors`` are passed. Legends sit below a map or
where the data leave room, never under paths; colour bars of log-spaced levels read V − V* at round
decades.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._draw import (
    PALETTE,
    STYLES,
    _box,
    _legend,
    _mesh,
    _ms,
    _uncounted_values,
    animate,
    as_mapping,
    boltzmann_histogram,
    contour,
    convergence,
    energy,
    legend_below,
    log_levels,
    method_colors,
    method_dashes,
    phase_portrait,
    style,
    surface,
    sweep_map,
)
from ._draw_sharpness import sharpness
from .explorer import explore as _explore
from .integrators import HeavyBall
from .potential import Potential
from .simulate import simulate
from .sweep import sweep

__all__ = ["PALETTE", "STYLES", "style", "method_colors", "method_dashes", "legend_below", "as_mapping", "log_levels",
           "contour", "surface", "convergence", "energy", "phase_portrait", "boltzmann_histogram", "sweep_map",
           "animate", "basins", "stability_diagram", "explore", "sharpness"]


def basins(potential: Potential, integrator, *, ax=None, bounds=None, resolution: int = 120, n_steps: int = 2000,
           gtol: float = 1e-6, legend_loc: str = "below"):
    """Colour each start of a grid by the known minimum it reaches: "it depends where you start".

    The whole grid runs as one vectorized ensemble. Starts that diverge or end far from every known
    minimum are white. The legend (each minimum's share of the starts) goes below the map by default.
    """
    from matplotlib.colors import ListedColormap

    if potential.dim != 2:
        raise ValueError(f"basins needs a 2-D potential, got dim = {potential.dim}")
    if not potential.minima:
        raise ValueError(f"basins needs a potential with known minima, {potential.name!r} has none")
    box = _box(potential, {}, bounds)
    X, Y = _mesh(box, resolution)
    starts = np.stack([X.ravel(), Y.ravel()], axis=-1)
    saved = dict(potential.counts)
    try:
        traj = simulate(potential, integrator, starts, n_steps, gtol=gtol, record="final")
    finally:
        potential.counts.update(saved)
    index, dist = potential.nearest_minimum(traj.x_final)
    scale = 1e-2 * float(np.max(box[:, 1] - box[:, 0]))
    label = np.where((dist < scale) & (traj.particle_status != "diverged"), index, -1).reshape(X.shape)
    k = len(potential.minima)
    colors = method_colors(k)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    ax.set_facecolor("white")
    ax.pcolormesh(X, Y, np.where(label >= 0, label, np.nan), cmap=ListedColormap(colors), vmin=-0.5, vmax=k - 0.5,
                  shading="nearest", alpha=0.75)
    Z = _uncounted_values(potential, np.stack([X, Y], axis=-1))
    ax.contour(X, Y, Z, levels=log_levels(Z, 16), colors="black", linewidths=0.4, alpha=0.5)
    for i, m in enumerate(potential.minima):
        share = float(np.mean(label == i))
        ax.plot(m.x[0], m.x[1], "*", markersize=_ms(2.6), color=colors[i], markeredgecolor="black",
                label=f"V = {m.value:.4g} ({100 * share:.0f}% of starts)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"basins of attraction: {integrator!r}", fontsize="medium")
    _legend(ax, legend_loc)
    return ax


def stability_diagram(potential: Potential, *, method=None, ax=None, lr=None, momentum=None, n_steps: int = 400,
                      gtol: float = 1e-8):
    """The (lr, momentum) plane of a quadratic coloured by the measured convergence rate (a sweep,
    one particle per grid point), with the analytic boundary 0 < lr·λ < 2 + 2·momentum and Polyak's
    optimum drawn on it."""
    bounds = potential.curvature_bounds()
    if bounds is None:
        raise ValueError(f"stability_diagram needs a potential with known curvature (a Quadratic), got {potential!r}")
    L = bounds[1]
    lr = np.linspace(0.02, 4.4, 80) / L if lr is None else np.asarray(lr)
    momentum = np.linspace(0.0, 0.98, 60) if momentum is None else np.asarray(momentum)
    x0 = np.ones(potential.dim)
    if potential.global_minimum is not None:
        x0 = potential.global_minimum.x + 1.0
    saved = dict(potential.counts)
    try:
        result = sweep(potential, method or HeavyBall, x0, n_steps=n_steps, gtol=gtol, lr=lr, momentum=momentum)
    finally:
        potential.counts.update(saved)
    return sweep_map(result, value="rate", ax=ax)


def explore(potential: Potential, x0=None, **kwargs):
    """The interactive explorer (sliders, method buttons, click to start); see :mod:`newtonopt.explorer`."""
    return _explore(potential, x0, **kwargs)
