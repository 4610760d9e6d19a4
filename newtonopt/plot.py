"""Figures for slides: landscapes with trajectories, convergence, the energy ledger.

Every function takes ``ax=None`` (a new figure is made when None) and returns
the Axes (or the Figure for multi-panel plots). Wherever trajectories are taken,
one Trajectory, a list, or a mapping label → Trajectory is accepted; labels make
the legend. Nothing outside the figures and the command line imports this module, and
evaluations made for drawing are not billed to the potential's counts.

The figures that only draw recorded results are defined in :mod:`newtonopt._draw` (below the
experiments, whose ``plot()`` methods use them) and collected here; the ones defined here run
something first: an ensemble (:func:`basins`), a sweep (:func:`stability_diagram`) or the
explorer (:func:`explore`); :func:`performance_profile` reads a suite's result through the profile
computation of :mod:`newtonopt.tuning`.

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
from .suite import SuiteResult
from .sweep import sweep
from .tuning import performance_profile as _profile

__all__ = ["PALETTE", "STYLES", "style", "method_colors", "method_dashes", "legend_below", "as_mapping", "log_levels",
           "contour", "surface", "convergence", "energy", "phase_portrait", "boltzmann_histogram", "sweep_map",
           "animate", "basins", "stability_diagram", "explore", "sharpness", "performance_profile"]


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


def performance_profile(results, *, measure: str = "evaluations", labels=None, ax=None, tau_max: float | None = None,
                        title: str | None = None):
    """Dolan & Moré's performance profiles: ρ_s(τ) against τ on a log₂ axis, one step curve per method.

    ρ_s(τ) is the fraction of problems on which method s is within a factor τ of the best method
    (:func:`newtonopt.tuning.performance_profile`): its height at τ = 1 is how often s is the fastest,
    its height at the right edge how often it solves the problem at all.

    Parameters
    ----------
    results : SuiteResult or array_like, shape (n_problems, n_methods)
        What :func:`newtonopt.suite.run_suite` returned, or a cost table (``inf``/``nan``: failed).
    measure : {'evaluations', 'steps'}
        Which cost of a SuiteResult to profile.
    labels : sequence of str, optional
        The methods' names for a cost table (a SuiteResult knows its own).
    ax : matplotlib Axes, optional
    tau_max : float, optional
        The right edge (default: 1.25 × the largest finite ratio, at least 2).
    title : str, optional

    Returns
    -------
    matplotlib Axes

    References
    ----------
    Dolan, E. D. & Moré, J. J. (2002). Benchmarking optimization software with performance profiles.
    Math. Program. 91, 201-213.
    """
    from collections import Counter

    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if isinstance(results, SuiteResult):
        times = results.times(measure)
        names = list(results.methods) if labels is None else list(labels)
        per_problem = Counter(name for name, _ in results.instances)
        starts = set(per_problem.values())
        runs = (f"{len(per_problem)} problems × {starts.pop()} starts" if len(starts) == 1
                else f"{len(per_problem)} problems") + f" = {len(results.instances)} runs, " + (
            f"each method tuned with {results.budget} trials per problem" if results.budget else "no tuning")
        what = "gradient evaluations" if measure == "evaluations" else "steps"
        gtol = f"{results.gtol:.0e}".replace("e-0", "e-").replace("e+0", "e")
        default_title = f"performance profile: {what} to ‖∇V‖ ≤ {gtol}\n{runs}"
    else:
        times = np.asarray(results, dtype=np.float64)
        if times.ndim != 2:
            raise ValueError(f"results must be a SuiteResult or a 2-D cost table, got shape {times.shape}")
        names = [f"method {j}" for j in range(times.shape[1])] if labels is None else list(labels)
        default_title = f"performance profile: {times.shape[0]} problems"
    if len(names) != times.shape[1]:
        raise ValueError(f"labels must name the {times.shape[1]} methods, got {len(names)} labels")
    taus, rho = _profile(times)
    if tau_max is None:
        tau_max = max(2.0, 1.25 * float(taus[-1]))
    elif not (np.isfinite(tau_max) and tau_max > 1):
        raise ValueError(f"tau_max must be a finite factor > 1, got {tau_max!r}")
    keep = taus <= tau_max
    x = np.append(np.log2(taus[keep]), np.log2(tau_max))
    if ax is None:
        _, ax = plt.subplots(figsize=(7.6, 4.4), layout="constrained")
    # The house palette with grey for its yellow: thin yellow steps are hard to see on white.
    colours = [c for c in PALETTE if c != "#F0E442"] + ["#8C8C8C"]
    for j, name in enumerate(names):
        y = np.append(rho[keep, j], rho[keep, j][-1])
        style = ("-", "--", "-.")[j % 3]  # curves that coincide stay visible as dashes over a wider solid line
        ax.step(x, y, where="post", color=colours[j % len(colours)], lw=max(1.8, 3.4 - 0.4 * j), ls=style,
                label=f"{name} (fastest on {100 * rho[0, j]:.0f}%)", clip_on=False, zorder=3 + len(names) - j)
    ax.set_xlim(0.0, np.log2(tau_max))
    ax.set_ylim(-0.03, 1.03)  # a little room, so that curves at 0 and 1 do not hide under the frame
    ax.set_yticks(np.linspace(0.0, 1.0, 5))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{2.0 ** v:g}"))
    ax.set_xlabel("τ (log₂ scale): within a factor τ of the best method")
    ax.set_ylabel("ρ(τ): fraction of problems")
    ax.grid(True, alpha=0.3)
    ax.set_title(default_title if title is None else title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    return ax
