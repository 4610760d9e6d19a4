"""Drawing what a run recorded, in the house style: landscapes, convergence, the energy ledger, sweeps.

The functions behind :mod:`newtonopt.plot` that only read results (a potential, Trajectories, a
SweepResult) and never run anything, so that the experiments' ``plot()`` methods and the explorer
can import them downward. Use them through :mod:`newtonopt.plot`; its docstring states the conventions.
"""
from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm

from ._validation import as_int
from .integrators.registry import find_method
from .potential import Potential
from .trajectory import Trajectory

# Colour-blind-safe qualitative palette: Okabe & Ito (2008), yellow moved last (it vanishes on white
# and on viridis' top), then four of Paul Tol's "muted" colours (wine, indigo, purple) and a brown so
# that twelve methods get twelve colours. Measured minimum distance between any two of the twelve in
# CAM02-UCS (colorspacious, Machado et al. 2009 simulation at full severity): 17 for normal vision,
# 11 deuteranopia, 7.7 protanopia, 11 tritanopia; past twelve, dashes tell methods apart.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#882255", "#332288", "#661100", "#AA4499", "#F0E442")
DASHES = ("-", "--", ":", "-.")


def method_colors(n: int) -> list[str]:
    """``n`` colours for ``n`` methods, distinct up to 12 (:data:`PALETTE`); past that they repeat.

    Every figure of the package takes its method colours from here, so the same position gets the same
    colour in every panel. Pair with :func:`method_dashes` when ``n`` may exceed 12.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return [PALETTE[i % len(PALETTE)] for i in range(int(n))]


def method_dashes(n: int) -> list[str]:
    """Line styles to go with :func:`method_colors`: solid for the first 12, then dashed, dotted, …"""
    return [DASHES[(i // len(PALETTE)) % len(DASHES)] for i in range(int(n))]


def _colors_for(labels, colors) -> dict:
    """label → colour: the caller's mapping where it names the label, else the palette by position."""
    labels = list(labels)
    default = dict(zip(labels, method_colors(len(labels))))
    if colors is None:
        return default
    if not isinstance(colors, Mapping):
        colors = dict(zip(labels, colors))
    return {k: colors.get(k, default[k]) for k in labels}


# rcParams of the three house styles. "talk" is for a projector at the back of a lecture hall: fonts
# that stay readable when a 13-inch figure fills a slide, lines thick enough to survive a washed-out beamer.
STYLES: dict[str, dict] = {
    "paper": {"font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
              "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.2, "lines.markersize": 4,
              "axes.linewidth": 0.6, "savefig.dpi": 300},
    "default": {"font.size": 10, "axes.titlesize": 12, "axes.labelsize": 10, "legend.fontsize": 9,
                "xtick.labelsize": 9, "ytick.labelsize": 9, "lines.linewidth": 1.6, "lines.markersize": 6,
                "axes.linewidth": 0.8, "savefig.dpi": 130},
    "talk": {"font.size": 15, "axes.titlesize": 17, "axes.labelsize": 16, "legend.fontsize": 13,
             "xtick.labelsize": 14, "ytick.labelsize": 14, "lines.linewidth": 2.8, "lines.markersize": 9,
             "axes.linewidth": 1.4, "xtick.major.width": 1.3, "ytick.major.width": 1.3, "xtick.major.size": 6,
             "ytick.major.size": 6, "grid.linewidth": 1.0, "savefig.dpi": 150},
}


@contextmanager
def style(name: str = "default") -> Iterator[None]:
    """The house style for the figures made inside the ``with`` block: 'talk', 'paper' or 'default'.

    Sets font sizes, line widths and the colour cycle (:data:`PALETTE`) through matplotlib's
    ``rc_context``; the package's figures size their lines and legends from these settings.

    Examples
    --------
    >>> with plot.style("talk"):                                   # doctest: +SKIP
    ...     ax = plot.convergence(result.trajectories)
    ...     ax.figure.savefig("slide.png")
    """
    if name not in STYLES:
        raise ValueError(f"name must be one of {sorted(STYLES)}, got {name!r}")
    from cycler import cycler

    with mpl.rc_context({**STYLES[name], "axes.prop_cycle": cycler(color=list(PALETTE))}):
        yield


def _lw(factor: float = 1.0) -> float:
    """A line width relative to the current style's ``lines.linewidth``."""
    return factor * float(mpl.rcParams["lines.linewidth"])


def _ms(factor: float = 1.0) -> float:
    """A marker size relative to the current style's ``lines.markersize``."""
    return factor * float(mpl.rcParams["lines.markersize"])


def _points(size) -> float:
    """A font size from rcParams (a number or 'small', 'medium', ...) in points."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=size).get_size_in_points()


def legend_below(ax, handles=None, *, ncol: int | None = None):
    """A legend under the Axes, below its tick labels and x label: it covers no data.

    Constrained layout makes room for it. Returns the Legend.
    """
    from matplotlib.transforms import offset_copy

    if handles is None:
        handles, _ = ax.get_legend_handles_labels()
    rc = mpl.rcParams
    drop = (rc["xtick.major.size"] + rc["xtick.major.pad"] + _points(rc["xtick.labelsize"]) * 1.2
            + rc["axes.labelpad"] + _points(rc["axes.labelsize"]) * 1.3 + 2)
    where = offset_copy(ax.transAxes, fig=ax.figure, y=-drop, units="points")
    ncol = ncol or min(3, max(1, len(handles)))
    return ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=where,
                     ncol=ncol, frameon=False, handlelength=1.8, columnspacing=1.2)


def _legend(ax, loc: str, handles=None, **kwargs):
    """``loc='below'`` puts the legend under the Axes, 'right' beside it; any matplotlib location keeps it
    inside, above the data."""
    if loc == "below":
        return legend_below(ax, handles, **kwargs)
    if handles is not None:
        kwargs["handles"] = handles
    if loc == "right":
        return ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, **kwargs)
    leg = ax.legend(loc=loc, framealpha=0.9, **kwargs)
    leg.set_zorder(20)  # above paths and markers: nothing runs over its text
    return leg


def as_mapping(trajectories) -> dict:
    """Normalize one Trajectory, a list, or a mapping into an ordered label → Trajectory dict."""
    if trajectories is None:
        return {}
    if isinstance(trajectories, Trajectory):
        return {trajectories.method or "trajectory": trajectories}
    if isinstance(trajectories, Mapping):
        return dict(trajectories)
    out = {}
    for i, t in enumerate(trajectories):
        if not isinstance(t, Trajectory):
            raise TypeError(f"trajectories must be Trajectory objects, got {type(t).__name__} at position {i}")
        label = t.method or f"trajectory {i}"
        out[label if label not in out else f"{label} ({i})"] = t
    return out


def _uncounted_values(potential: Potential, points: np.ndarray) -> np.ndarray:
    saved = dict(potential.counts)
    try:
        with np.errstate(all="ignore"):
            return np.asarray(potential.value(points), dtype=np.float64)
    finally:
        potential.counts.update(saved)


def _box(potential: Potential, trajs: dict, bounds):
    if bounds is not None:
        return np.asarray(bounds, dtype=np.float64)
    if potential.bounds is not None:
        return potential.bounds[:2]
    pts = [t.x.reshape(-1, potential.dim)[:, :2] for t in trajs.values() if t.x is not None]
    pts += [m.x[:2][None] for m in potential.minima]
    if not pts:
        return np.array([[-2.0, 2.0], [-2.0, 2.0]])
    allp = np.concatenate(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 1e-3)
    return np.stack([lo - pad, hi + pad], axis=1)


def _mesh(box: np.ndarray, resolution: int):
    """A resolution × resolution grid over the plotting box."""
    return np.meshgrid(np.linspace(box[0, 0], box[0, 1], resolution), np.linspace(box[1, 0], box[1, 1], resolution))


def log_levels(z: np.ndarray, n: int = 24, reference: float | None = None) -> np.ndarray:
    """Levels spaced logarithmically above ``reference`` (default: the lowest value), so valleys stay readable.

    The first level is ``reference`` itself, the others ``reference + span·10^(−4 … 0)``, with span the
    distance from ``reference`` to the highest value.
    """
    zmin, zmax = np.nanmin(z), np.nanmax(z)
    ref = zmin if reference is None else min(float(reference), zmin)
    span = max(zmax - ref, 1e-12)
    return ref + np.concatenate([[0.0], np.geomspace(span * 1e-4, span, n - 1)])


def _power_label(k: int) -> str:
    """10^k as a slide would write it: 0.01 … 1000 in plain digits, 10⁻⁵ and 10⁴ with an exponent."""
    return f"{10.0 ** k:g}" if -2 <= k <= 3 else f"$10^{{{k}}}$"


def _log_level_ticks(levels: np.ndarray, reference: float) -> tuple[np.ndarray, list[str]]:
    """Colour-bar ticks for :func:`log_levels`: ``reference`` (labelled 0) and reference + 10^k.

    The labels are the round offsets V − reference (0, 0.01, 0.1, 1, …), not the values V themselves,
    which below zero read as −8.44, −8.44, −8.43 for levels a decade apart in V − V*.
    """
    offsets = levels - reference
    top = offsets[-1]
    low = offsets[1] if len(offsets) > 1 else top
    ks = np.arange(int(np.ceil(np.log10(low) - 1e-9)), int(np.floor(np.log10(top) + 1e-9)) + 1)
    if len(ks) > 6:  # keep about five labels: every second or third decade
        ks = ks[(ks - ks[-1]) % int(np.ceil(len(ks) / 5)) == 0]
    ticks, labels = reference + 10.0 ** ks, [_power_label(int(k)) for k in ks]
    # The bar spaces levels evenly: label its bottom (V = reference) only where the first decade is not beside it.
    if len(ks) == 0 or np.interp(10.0 ** ks[0], offsets, np.arange(len(offsets))) >= 2:
        ticks, labels = np.concatenate([[reference], ticks]), ["0"] + labels
    return ticks, labels


def contour(potential: Potential, trajectories=None, *, ax=None, bounds=None, resolution: int = 240,
            levels: int = 24, log: bool = True, cmap: str = "viridis", show_minima: bool = True,
            colorbar: bool = True, legend_loc: str = "below", colors=None):
    """Filled contours of a 2-D potential with trajectories drawn on top.

    Levels are log-spaced above the minimum (``log=True``), which makes long curved valleys such as
    Rosenbrock's visible; the colour bar then reads V − V* (V* the potential's known minimum value, else
    the lowest value on the grid) at round decades, labelled on its left so it cannot run into a
    neighbouring panel's axis label. Known minima are white stars; each trajectory is a line from a
    circle (start) to a square (end), in the colours of :func:`method_colors` (or ``colors``: a list or
    a mapping label → colour, to match another panel). The legend goes below the axes by default
    (``legend_loc='below'``), where it covers neither minima nor paths; a matplotlib location such as
    'upper left' puts it inside, above the paths.
    """
    if potential.dim != 2:
        raise ValueError(f"contour needs a 2-D potential, got dim = {potential.dim}")
    trajs = as_mapping(trajectories)
    box = _box(potential, trajs, bounds)
    X, Y = _mesh(box, resolution)
    Z = _uncounted_values(potential, np.stack([X, Y], axis=-1))
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    vstar = potential.minimum_value
    reference = float(np.nanmin(Z)) if vstar is None or not vstar <= np.nanmin(Z) else float(vstar)
    lv = log_levels(Z, levels, reference) if log else np.linspace(np.nanmin(Z), np.nanmax(Z), levels)
    filled = ax.contourf(X, Y, Z, levels=lv, cmap=cmap, norm=BoundaryNorm(lv, plt.get_cmap(cmap).N), extend="max")
    ax.contour(X, Y, Z, levels=lv, colors="white", linewidths=0.35, alpha=0.5)
    if colorbar:
        cb = ax.figure.colorbar(filled, ax=ax, shrink=0.85, extendfrac=0.04)
        if log:
            ticks, labels = _log_level_ticks(lv, reference)
            cb.set_ticks(ticks, labels=labels)
            cb.set_label("V − V* (log-spaced levels)" if vstar is not None and reference == vstar
                         else f"V − min V = V − ({reference:.4g}), log-spaced levels")
        else:
            from matplotlib.ticker import MaxNLocator

            cb.locator = MaxNLocator(6)
            cb.update_ticks()
            cb.set_label("V")
        cb.ax.yaxis.set_label_position("left")  # between map and bar: never beside the next panel's label
        cb.ax.minorticks_off()
    if show_minima and potential.minima:
        m = np.array([mm.x[:2] for mm in potential.minima])
        ax.plot(m[:, 0], m[:, 1], linestyle="none", marker="*", markersize=_ms(2.3), markerfacecolor="white",
                markeredgecolor="black", label="known minimum" if len(m) == 1 else "known minima", zorder=5)
    palette = _colors_for(trajs, colors)
    from matplotlib import patheffects

    for label, t in trajs.items():
        if t.x is None:
            continue
        color = palette[label]
        xs = t.x.reshape(t.x.shape[0], -1, 2)
        for j in range(xs.shape[1]):
            lw = _lw(1.1) if xs.shape[1] == 1 else _lw(0.5)
            # A thin light halo: dark colours (indigo, wine, black) stay visible on the dark valleys of viridis.
            halo = [patheffects.Stroke(linewidth=lw + 1.5, foreground="white", alpha=0.6), patheffects.Normal()]
            ax.plot(xs[:, j, 0], xs[:, j, 1], color=color, lw=lw, path_effects=halo,
                    marker="." if xs.shape[0] <= 60 else None, markersize=_ms(0.7), label=label if j == 0 else None,
                    zorder=6)
            ax.plot(xs[0, j, 0], xs[0, j, 1], "o", color=color, markeredgecolor="black", markersize=_ms(1.1),
                    zorder=7)
            ax.plot(xs[-1, j, 0], xs[-1, j, 1], "s", color=color, markeredgecolor="black", markersize=_ms(1.1),
                    zorder=7)
    ax.set_xlim(box[0])
    ax.set_ylim(box[1])
    spans = box[:, 1] - box[:, 0]
    if 1 / 3 <= spans[0] / spans[1] <= 3:
        ax.set_aspect("equal")  # keep the landscape's shape: an ellipse must look like one
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(potential.name)
    if trajs or (show_minima and potential.minima):
        _legend(ax, legend_loc)
    return ax


def convergence(trajectories, *, x: str = "steps", y: str = "auto", ax=None, logx: bool = False, colors=None,
                max_particles: int = 8, band: tuple[float, float] = (0.1, 0.9), legend_loc: str = "best"):
    """V − V* (or ‖∇V‖) on a log axis against steps, gradient evaluations or physical time.

    ``y='auto'`` plots V − V* when every trajectory knows its minimum value and ‖∇V‖ otherwise.
    The values drawn are the recorded ones, however small (no clamp). Values ≤ 0 — a run that hit V*
    exactly or went below a rounded V* — have no place on a log axis: they are drawn on a dashed
    floor line at the bottom, labelled as such. An ensemble of at most ``max_particles`` particles
    is drawn particle by particle; a larger one as its median with the ``band`` quantiles shaded,
    both named in the legend. ``logx`` puts the cost axis on a log scale, so that methods whose costs
    differ by orders of magnitude all show. ``colors`` (a list, or a mapping label → colour) matches
    another panel's colours; by default they come from :func:`method_colors`.
    """
    if x not in ("steps", "gradient_evaluations", "time"):
        raise ValueError(f"x must be 'steps', 'gradient_evaluations' or 'time', got {x!r}")
    if y not in ("auto", "gap", "grad_norm"):
        raise ValueError(f"y must be 'auto', 'gap' or 'grad_norm', got {y!r}")
    lo_q, hi_q = band
    if not 0 <= lo_q < hi_q <= 1:
        raise ValueError(f"band must be two quantiles 0 ≤ low < high ≤ 1, got {band!r}")
    trajs = as_mapping(trajectories)
    if y == "auto":
        y = "gap" if trajs and all(t.minimum_value is not None for t in trajs.values()) else "grad_norm"
    if y == "gap" and any(t.minimum_value is None for t in trajs.values()):
        missing = [k for k, t in trajs.items() if t.minimum_value is None]
        raise ValueError(f"y='gap' needs every trajectory's minimum value; unknown for {missing}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    palette = _colors_for(trajs, colors)
    dashes = dict(zip(trajs, method_dashes(len(trajs))))
    curves = []  # (label, xs (n,) or (n, P), values (n, P), colour, dash)
    for label, t in trajs.items():
        values = np.asarray(t.gap if y == "gap" else t.grad_norm, dtype=np.float64)
        values = values.reshape(len(values), -1)
        if x == "steps":
            xs = np.asarray(t.step, dtype=np.float64)
        elif x == "time":
            xs = np.asarray(t.t, dtype=np.float64)
            xs = xs.reshape(len(xs), -1) if xs.ndim > 1 else xs
        else:
            xs = np.asarray(t.gradient_evaluations, dtype=np.float64)
        if logx:
            xs = np.maximum(xs, 1)  # the start sits at 1 on a log axis (cost 0 → 1 evaluation)
        curves.append((label, xs, values, palette[label], dashes[label]))
    positive = np.concatenate([v[np.isfinite(v) & (v > 0)] for *_, v, _, _ in curves] or [np.zeros(0)])
    any_floor = any(np.any(np.isfinite(v) & (v <= 0)) for *_, v, _, _ in curves)
    # The floor: a decade below the smallest positive value drawn, so it never hides a real value.
    floor = 10.0 ** (np.floor(np.log10(positive.min())) - 1) if positive.size else 1e-16
    what = "V − V*" if y == "gap" else "‖∇V‖"

    def draw(xs, v, **kw):
        shown = np.where(v > 0, v, np.nan)
        line = ax.plot(xs, shown, **kw)[0]
        if np.any(v <= 0):  # the same curve continued on the floor, where it is ≤ 0
            on_floor = np.where(v <= 0, floor, np.nan)
            down = np.nonzero((v[1:] <= 0) & (v[:-1] > 0))[0]  # v[i] > 0 ≥ v[i + 1]: drop to the floor
            up = np.nonzero((v[1:] > 0) & (v[:-1] <= 0))[0] + 1  # v[i − 1] ≤ 0 < v[i]: rise from it
            on_floor[down], on_floor[up] = v[down], v[up]
            ax.plot(xs, on_floor, **{**kw, "label": None, "ls": ":", "marker": None})
        return line

    for label, xs, values, color, dash in curves:
        n_particles = values.shape[1]
        xcols = xs.reshape(len(xs), -1) if xs.ndim > 1 else np.repeat(xs[:, None], n_particles, axis=1)
        if n_particles == 1:
            draw(xcols[:, 0], values[:, 0], color=color, lw=_lw(1.1), ls=dash, label=label)
        elif n_particles <= max_particles:
            for j in range(n_particles):
                draw(xcols[:, j], values[:, j], color=color, lw=_lw(0.6), ls=dash, alpha=0.8,
                     label=f"{label} ({n_particles} particles)" if j == 0 else None)
        else:
            xm = xs if xs.ndim == 1 else np.median(xs, axis=1)
            with np.errstate(all="ignore"):
                med = np.nanmedian(values, axis=1)
                lo, hi = np.nanquantile(values, [lo_q, hi_q], axis=1)
            draw(xm, med, color=color, lw=_lw(1.1), ls=dash, label=f"{label}: median of {n_particles}")
            ax.fill_between(xm, np.maximum(lo, floor), np.maximum(hi, floor), color=color, alpha=0.2, lw=0,
                            label=f"{label}: {100 * lo_q:g}–{100 * hi_q:g} % of particles")
    ax.set_yscale("log")
    if any_floor:
        ax.axhline(floor, color="gray", lw=_lw(0.5), ls="--", zorder=1)
        ax.annotate(f"{what} ≤ 0 drawn here (no place on a log axis)", (0.0, floor), xycoords=("axes fraction",
                    "data"), xytext=(4, 3), textcoords="offset points", ha="left", va="bottom", color="dimgray",
                    fontsize="small")  # on the left, where the curves are still high
        ax.set_ylim(bottom=floor / 3)
    if logx:
        ax.set_xscale("log")
    if positive.size and np.log10(positive.max() / (floor if any_floor else positive.min())) < 2.5:
        _plain_log_ticks(ax.yaxis, subs=(1.0, 2.0, 3.0, 5.0))  # a short log axis would get one labelled tick
    ax.set_xlabel({"steps": "steps", "gradient_evaluations": "gradient evaluations", "time": "physical time t"}[x])
    ax.set_ylabel(what)
    ax.grid(True, which="major", alpha=0.3)
    if len(ax.get_legend_handles_labels()[1]) > 1:
        _legend(ax, legend_loc)
    ax.set_title("convergence")
    return ax


def energy(trajectory: Trajectory, *, ax=None, particle: int = 0, logx: bool = False, caption: str | None = None):
    """The energy ledger: V, K, E = V + K, E + D and the discretization error ε.

    With ``ax=None`` a two-panel figure is returned: the energies on top, ε
    below (E + D stays at E₀ + ε: flat for an exact ledger). With an ``ax``
    everything is drawn on it and the Axes is returned.

    Parameters
    ----------
    logx : bool
        Physical time on a log axis, so that a fast first phase and a long tail both show (the record
        at t = 0 has no place on it and is left out).
    caption : str, optional
        A sentence under the figure, e.g. why ε is large (the time step against the stiffest
        mode's period): a ledger that does not close must say why on the figure itself.
    """
    t = trajectory

    def pick(a):
        a = np.asarray(a)
        return a if a.ndim == 1 else a.reshape(len(a), -1)[:, particle]

    time = pick(t.t)
    V, K, D = pick(t.potential_energy), pick(t.kinetic_energy), pick(t.dissipated)
    E, err = V + K, pick(t.energy_error)
    if logx:
        keep = time > 0
        time, V, K, D, E, err = (a[keep] for a in (time, V, K, D, E, err))
    if ax is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.0, 5.8), sharex=True, layout="constrained",
                                          gridspec_kw={"height_ratios": [3, 1.4]})
    else:
        fig, top, bottom = None, ax, ax
    top.plot(time, V, color=PALETTE[0], lw=_lw(1.0), label="potential V")
    top.plot(time, K, color=PALETTE[1], lw=_lw(1.0), label="kinetic K")
    top.plot(time, E, color="black", lw=_lw(1.25), label="total E = V + K")
    top.plot(time, D, color=PALETTE[2], lw=_lw(1.0), ls="--", label="dissipated D")
    top.plot(time, E + D, color=PALETTE[3], lw=_lw(0.9), ls=":", label="E + D (= E₀ + ε)")
    top.set_ylabel("energy")
    top.grid(True, alpha=0.3)
    top.set_title(f"energy ledger: {t.method} on {t.potential}")
    bottom.plot(time, err, color=PALETTE[4] if fig is None else "black", lw=_lw(0.75), label="ε = E + D − E₀")
    bottom.set_xlabel("physical time t" + (" (log scale)" if logx else ""))
    if logx:
        top.set_xscale("log")
    _legend(top, "right")  # beside the data, never on it; after ε, so that on one Axes its line is named too
    if fig is not None:
        bottom.set_ylabel("ε (discretization)")
        bottom.axhline(0.0, color="gray", lw=_lw(0.5))
        bottom.grid(True, alpha=0.3)
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        if caption:
            text = _wrap(caption, fig.get_figwidth())
            fig.text(0.5, 0.01, text, ha="center", va="bottom", fontsize="small")
            room = (text.count("\n") + 1.6) * _points("small") * 1.25 / 72 / fig.get_figheight()
            fig.get_layout_engine().set(rect=(0, room, 1, 1 - room))  # the caption's room under the panels
        return fig
    if caption:
        width = ax.get_position().width * ax.figure.get_figwidth()
        ax.annotate(_wrap(caption, width), (0.5, 0.0), xycoords="axes fraction", xytext=(0, -2.6 * _points(
            mpl.rcParams["axes.labelsize"]) - 8), textcoords="offset points", ha="center", va="top", fontsize="small")
    return ax


def _wrap(text: str, inches: float) -> str:
    """``text`` broken into lines that fit ``inches`` at the 'small' font size (about half an em a character)."""
    import textwrap

    return textwrap.fill(text, width=max(20, int(inches * 72 / (0.52 * _points("small")))))


def boltzmann_histogram(trajectory: Trajectory, temperature: float, potential: Potential, *, coordinate: int = 0,
                        bins: int = 40, burn_in: float = 0.5, ax=None, color=None, resolution: int = 401):
    """Histogram of sampled positions against the Boltzmann density exp(−V/T)/Z they should follow.

    The samples are every particle's recorded positions after the first ``burn_in`` fraction of the
    records (the equilibration, half of them by default); with ``record='final'``, the final positions.
    For a 1-D potential the curve is :func:`newtonopt.analysis.boltzmann`'s density; for 2-D and 3-D
    potentials it is the marginal along ``coordinate``, the density integrated over the other
    coordinates on the potential's bounds (or a box around the samples). The histogram is a density
    (area 1), so heights and curve compare directly; the standard error of each bar,
    √(p(1 − p)/N)/width, is drawn as an error bar.

    Returns the Axes; ``ax.boltzmann`` holds (bin edges, heights, standard errors, the density averaged
    over each bin) for tests and tables.
    """
    from scipy.integrate import trapezoid

    from .analysis import boltzmann

    T = float(temperature)
    if not T > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    dim = potential.dim
    if not 1 <= dim <= 3:
        raise ValueError(f"boltzmann_histogram draws 1-D potentials and marginals of 2-D and 3-D ones, got dim = {dim}")
    if not 0 <= coordinate < dim:
        raise ValueError(f"coordinate must be in [0, {dim}), got {coordinate!r}")
    if not 0 <= burn_in < 1:
        raise ValueError(f"burn_in must be a fraction in [0, 1), got {burn_in!r}")
    if trajectory.x is not None and trajectory.record != "final" and trajectory.x.shape[0] > 1:
        xs = trajectory.x[max(1, int(burn_in * trajectory.x.shape[0])):]  # x[0] is the start, never a sample
    else:
        xs = trajectory.x_final[None]
    samples = np.asarray(xs, dtype=np.float64).reshape(-1, dim)
    samples = samples[np.all(np.isfinite(samples), axis=1)]
    if len(samples) < 10:
        raise ValueError(f"boltzmann_histogram needs at least 10 finite samples, got {len(samples)}")
    if potential.bounds is not None:
        box = np.asarray(potential.bounds, dtype=np.float64)[:dim]
    else:
        lo, hi = samples.min(axis=0), samples.max(axis=0)
        pad = 0.5 * (hi - lo) + 1e-9
        box = np.stack([lo - pad, hi + pad], axis=1)
    # The density's own grid: fine along the drawn coordinate, coarser across (a 2-D or 3-D quadrature).
    n_other = 201 if dim == 2 else 61
    axes = [np.linspace(b[0], b[1], resolution if i == coordinate else n_other) for i, b in enumerate(box)]
    density, _ = boltzmann(potential, T, axes)
    for i in reversed(range(dim)):
        if i != coordinate:
            density = trapezoid(density, axes[i], axis=i)
    grid = axes[coordinate]
    values = samples[:, coordinate]
    edges = np.histogram_bin_edges(values, bins=bins, range=(max(values.min(), grid[0]), min(values.max(), grid[-1])))
    counts, _ = np.histogram(values, bins=edges)
    n, width = len(values), np.diff(edges)
    heights = counts / (n * width)
    p = counts / n
    stderr = np.sqrt(p * (1 - p) / n) / width
    # The density averaged over each bin (what a bar's height estimates), by the trapezoidal rule on a fine grid.
    fine = np.linspace(edges[0], edges[-1], 20 * len(width) + 1)
    dens_fine = np.interp(fine, grid, density)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens_fine[1:] + dens_fine[:-1]) * np.diff(fine))])
    expected = np.diff(np.interp(edges, fine, cum)) / width
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    color = color or PALETTE[0]
    ax.bar(edges[:-1], heights, width=width, align="edge", color=color, alpha=0.45, edgecolor=color,
           label=f"samples ({n:,}), histogram")
    ax.errorbar(0.5 * (edges[1:] + edges[:-1]), heights, yerr=stderr, fmt="none", ecolor=color, elinewidth=_lw(0.5),
                capsize=0)
    name = f"x_{{{coordinate + 1}}}"
    ax.plot(grid, density, color="black", lw=_lw(1.0),
            label="exp(−V/T)/Z" if dim == 1 else f"exp(−V/T)/Z, marginal along ${name}$")
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel(f"${name}$")
    ax.set_ylabel("probability density")
    ax.set_title(f"Boltzmann distribution at T = {T:g}: {potential.name}")
    _legend(ax, "best")
    ax.boltzmann = (edges, heights, stderr, expected)
    return ax


def phase_portrait(trajectory: Trajectory, *, ax=None, coordinate: int = 0, particle: int = 0):
    """Position against momentum for one coordinate: a spiral for damped motion, a closed orbit for Verlet."""
    t = trajectory
    if t.x is None or t.p is None:
        raise ValueError("phase_portrait needs positions and momenta: record='all' with a second-order method, got "
                         f"method {t.method!r} with record={t.record!r}")
    x = t.x.reshape(t.x.shape[0], -1, t.x.shape[-1])[:, particle, coordinate]
    p = t.p.reshape(t.p.shape[0], -1, t.p.shape[-1])[:, particle, coordinate]
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 5.0), layout="constrained")
    points = ax.scatter(x, p, c=np.asarray(t.t if t.t.ndim == 1 else t.step), s=_ms(1.0), cmap="viridis", zorder=3)
    ax.plot(x, p, color="gray", lw=_lw(0.4), alpha=0.6, zorder=2)
    ax.plot(x[0], p[0], "o", color=PALETTE[1], markeredgecolor="black", markersize=_ms(1.3), label="start", zorder=4)
    ax.axhline(0, color="gray", lw=_lw(0.4))
    ax.set_xlabel(f"position $x_{{{coordinate + 1}}}$")
    ax.set_ylabel(f"momentum $p_{{{coordinate + 1}}}$")
    ax.set_title(f"phase portrait: {t.method}")
    ax.figure.colorbar(points, ax=ax, label="time t")
    _legend(ax, "upper right")
    return ax


def _method_class(name: str):
    """The integrator class a sweep's method name stands for, or None (a user's factory the registry does not know)."""
    try:
        return find_method(name).cls
    except (TypeError, ValueError):
        return None


def _formula_at(formula, first, known: dict):
    """``formula(*first, **known)`` with the parameters it names, or None when it needs one not in ``known``."""
    args = {}
    for name, param in list(inspect.signature(formula).parameters.items())[len(first):]:
        if name in known:
            args[name] = known[name]
        elif param.default is inspect.Parameter.empty:
            return None  # the sweep does not fix what the formula needs (e.g. a heavy ball's momentum)
    return formula(*first, **args)


def _is_log_spaced(values: np.ndarray) -> bool:
    v = np.asarray(values, dtype=float)
    if len(v) < 3 or np.any(v <= 0):
        return False
    r = v[1:] / v[:-1]
    return np.allclose(r, r[0], rtol=1e-6) and not np.allclose(np.diff(v), np.diff(v)[0], rtol=1e-6)


def sweep_map(result, *, value: str = "steps", ax=None):
    """Heat map of a sweep over two parameters — or a line over one — with the analytic stability
    limit of a quadratic and the tuned parameters overlaid where the method's class has those
    formulas (gradient descent's 2/λ_max, the heavy ball's (2 + 2μ)/λ_max and Polyak's optimum, ...).

    ``value`` is 'steps' (steps to tolerance, log colour), 'rate' (measured contraction of ‖∇V‖ per
    step) or 'final_value'. Diverged points are drawn in dark red, points that ran out of steps in gray.
    """
    from matplotlib.colors import ListedColormap, LogNorm
    from matplotlib.patches import Patch

    if value not in ("steps", "rate", "final_value"):
        raise ValueError(f"value must be 'steps', 'rate' or 'final_value', got {value!r}")
    names = [k for k, v in result.axes.items() if len(v) > 1]
    data = getattr(result, value).astype(float)
    diverged = result.status == "diverged"
    if value == "steps":
        data = np.where(result.steps >= 0, data, np.nan)
    data = np.where(diverged, np.nan, data)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 5.2), layout="constrained")
    bounds = result.potential.curvature_bounds()
    # The method's own formulas (its class's stability_limit and tuned_params), at what the sweep held fixed.
    cls = _method_class(result.method)
    fixed = {k: v for k, v in {**result.fixed, **{k: v[0] for k, v in result.axes.items() if len(v) == 1}}.items()
             if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}  # not a Schedule, not a seed array
    if len(names) == 1:
        name = names[0]
        xs = result.axes[name]
        ys = data.reshape(-1)
        ax.plot(xs, ys, "o-", color=PALETTE[0], lw=_lw(1.0), label=value)
        ax.plot(xs[diverged.reshape(-1)], np.full(diverged.sum(), np.nanmax(ys) if np.isfinite(ys).any() else 1.0),
                "x", color="darkred", label="diverged")
        if bounds is not None and cls is not None and name == cls.step_parameter:
            mu, L = bounds
            limit = None if cls.stability_limit is None else _formula_at(cls.stability_limit, (L,), fixed)
            if limit is not None:
                ax.axvline(limit, color="black", ls="--", label=f"stability limit {cls.stability_limit_label}")
            tuned = cls.tuned_params(mu, L) if cls.tuned_params is not None and mu > 0 else {}
            if set(tuned) == {name}:  # the tuned point lies on this line only when it sets nothing else
                ax.axvline(tuned[name], color="black", ls=":", label=cls.tuned_params_label)
        ax.set_xlabel(name)
        ax.set_ylabel({"steps": "steps to tolerance"}.get(value, value.replace("_", " ")))
        if value == "steps":
            ax.set_yscale("log")
            _plain_log_ticks(ax.yaxis)
        if _is_log_spaced(xs):
            ax.set_xscale("log")
            _plain_log_ticks(ax.xaxis)
        _legend(ax, "best")
        ax.set_title(f"{result.method} on {result.potential.name}")
        return ax
    if len(names) != 2:
        raise ValueError(f"sweep_map draws one or two grid axes with more than one value, got {names}")
    (xn, xv), (yn, yv) = ((n, result.axes[n]) for n in names[:2])
    order = [list(result.axes).index(n) for n in names[:2]]
    grid = np.moveaxis(data.reshape([len(v) for v in result.axes.values()]), order, [0, 1])
    grid = grid.reshape(len(xv), len(yv), -1)[:, :, 0].T
    div = np.moveaxis(diverged, order, [0, 1]).reshape(len(xv), len(yv), -1)[:, :, 0].T
    positive_data = grid[np.isfinite(grid) & (grid > 0)]
    norm = LogNorm(positive_data.min(), positive_data.max()) if value == "steps" and positive_data.size else None
    ax.set_facecolor("#bdbdbd")  # ran out of steps
    mesh = ax.pcolormesh(xv, yv, grid, shading="nearest", cmap="viridis_r" if value != "rate" else "viridis",
                         norm=norm)
    ax.pcolormesh(xv, yv, np.where(div, 1.0, np.nan), shading="nearest", cmap=ListedColormap(["#8b1a1a"]))
    label = {"steps": "steps to tolerance", "rate": "measured contraction of ‖∇V‖ per step",
             "final_value": "final V"}[value]
    colorbar = ax.figure.colorbar(mesh, ax=ax, label=label)
    if norm is not None:
        _plain_log_ticks(colorbar.ax.yaxis, subs=(1.0, 2.0, 3.0, 5.0))  # a bar often spans less than a decade
    if bounds is not None and cls is not None and xn == cls.step_parameter:
        mu, L = bounds
        ys = np.linspace(min(yv), max(yv), 200)
        edge = None if cls.stability_limit is None else _formula_at(cls.stability_limit, (L,), {**fixed, yn: ys})
        if edge is not None:  # the limit on the step along the other axis (a vertical line if it does not enter)
            edge = np.broadcast_to(edge, ys.shape)
            ax.plot(edge, ys, color="white", lw=_lw(1.6))
            ax.plot(edge, ys, color="black", lw=_lw(0.8), ls="--", label="analytic stability limit")
        tuned = cls.tuned_params(mu, L) if cls.tuned_params is not None and mu > 0 else {}
        if set(tuned) == {xn, yn}:
            ax.plot(tuned[xn], tuned[yn], "*", color="white", markeredgecolor="black", markersize=_ms(2.6),
                    label=cls.tuned_params_label)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="#8b1a1a", label="diverged"),
                Patch(color="#bdbdbd", label=f"not converged in {result.n_steps} steps")]
    legend_below(ax, handles, ncol=2)
    if _is_log_spaced(xv):
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)  # 1.5 decades would get labelled minor ticks that overlap
    ax.set_xlim(min(xv), max(xv))
    ax.set_ylim(min(yv), max(yv))
    ax.set_xlabel(xn)
    ax.set_ylabel(yn)
    ax.set_title(f"{result.method} on {result.potential.name}")
    return ax


def _plain_log_ticks(axis, subs=(1.0, 2.0, 5.0)) -> None:
    """Plain numbers (30, 100, 600; 0.0002, 0.0005, 0.001) instead of 3 × 10¹ on a log axis, at 1, 2 and 5
    times each power of ten and none between: easier to read on a slide, and no minor labels to overlap."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10)))
    axis.set_minor_formatter(NullFormatter())


def surface(potential: Potential, trajectories=None, *, ax=None, bounds=None, resolution: int = 120,
            cmap: str = "viridis", clip_quantile: float = 0.9, colors=None):
    """The landscape V(x₁, x₂) as a 3-D surface with trajectories lifted onto it.

    Values above the ``clip_quantile`` of the grid are clipped so that a steep rim does not
    flatten the valleys.
    """
    if potential.dim != 2:
        raise ValueError(f"surface needs a 2-D potential, got dim = {potential.dim}")
    trajs = as_mapping(trajectories)
    box = _box(potential, trajs, bounds)
    X, Y = _mesh(box, resolution)
    Z = _uncounted_values(potential, np.stack([X, Y], axis=-1))
    top = np.nanquantile(Z, clip_quantile)
    Zc = np.minimum(Z, top)
    if ax is None:
        fig = plt.figure(figsize=(7.2, 5.6), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    ax.plot_surface(X, Y, Zc, cmap=cmap, linewidth=0, antialiased=True, alpha=0.85, rcount=80, ccount=80)
    palette = _colors_for(trajs, colors)
    for label, t in trajs.items():
        if t.x is None:
            continue
        xs = t.x.reshape(t.x.shape[0], -1, 2)[:, 0]
        zs = np.minimum(_uncounted_values(potential, xs), top)
        color = palette[label]
        ax.plot(xs[:, 0], xs[:, 1], zs + 0.01 * (top - np.nanmin(Z)), color=color, lw=_lw(1.4), label=label,
                zorder=10)
        ax.scatter([xs[0, 0]], [xs[0, 1]], [zs[0]], color=color, edgecolor="black", s=_ms(1.1) ** 2, zorder=11)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("V")
    ax.set_title(potential.name)
    if trajs:
        _legend(ax, "upper left")
    return ax


def _ffmpeg_exe() -> str:
    """The ffmpeg to encode MP4 with: imageio-ffmpeg's (the extra ``newtonopt[video]``), else matplotlib's
    configured one (``animation.ffmpeg_path``, a system ffmpeg on the PATH by default)."""
    import shutil

    try:
        import imageio_ffmpeg
    except ImportError:
        exe = shutil.which(plt.rcParams["animation.ffmpeg_path"])
        if exe is None:
            raise ImportError("writing MP4 needs ffmpeg: pip install 'newtonopt[video]' (imageio-ffmpeg, which "
                              "brings its own ffmpeg), or use a .gif path (Pillow, no ffmpeg)") from None
        return exe
    return imageio_ffmpeg.get_ffmpeg_exe()


class _Mp4Sink:
    """Frames piped to ffmpeg as raw RGB (H.264, yuv420p: plays in browsers and slide software)."""

    def __init__(self, path, fps: int, shape: tuple):
        import subprocess

        # yuv420p needs even sides: frames are cropped by at most one pixel row and column.
        self.h, self.w = shape[0] // 2 * 2, shape[1] // 2 * 2
        cmd = [_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{self.w}x{self.h}", "-r", str(fps), "-i", "-", "-an", "-vcodec", "libx264",
               "-pix_fmt", "yuv420p", str(path)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def add(self, frame: np.ndarray) -> None:
        self.proc.stdin.write(np.ascontiguousarray(frame[: self.h, : self.w]).tobytes())

    def finish(self) -> None:
        _, err = self.proc.communicate()
        if self.proc.returncode:
            raise RuntimeError(f"ffmpeg failed (exit {self.proc.returncode}): {err.decode(errors='replace')[-500:]}")


class _PillowSink:
    """Frames kept as palette images and saved at the end by Pillow (GIF; WebP or APNG by the suffix).

    For a GIF every frame is mapped, without dithering, onto one palette made once from ``colours``
    (an image holding every colour the animation shows): far cheaper than a palette per frame, and
    the still background keeps the same indices, so Pillow stores only the region that changed.
    """

    def __init__(self, path, fps: int, colours: np.ndarray):
        from PIL import Image

        self.path, self.duration = path, 1000.0 / fps
        self.gif = str(path).lower().endswith(".gif")
        self.frames = []
        self.palette = None
        if self.gif:
            self.palette = Image.fromarray(colours).quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                             dither=Image.Dither.NONE)

    def add(self, frame: np.ndarray) -> None:
        from PIL import Image

        image = Image.fromarray(frame)
        if self.palette is not None:
            image = image.quantize(palette=self.palette, dither=Image.Dither.NONE)
        self.frames.append(image)

    def finish(self) -> None:
        first, *rest = self.frames
        # loop=0: repeat forever; disposal 1 leaves each frame under the next, which patches only what moved.
        first.save(self.path, save_all=True, append_images=rest, duration=self.duration, loop=0,
                   **({"disposal": 1} if self.gif else {}))


def _frame_steps(trajs: dict, max_frames: int) -> np.ndarray:
    """The steps the frames show: every recorded step when there are at most max_frames, else max_frames
    of them evenly spread (first and last included)."""
    steps = np.unique(np.concatenate([np.asarray(t.step, dtype=np.int64) for t in trajs.values()]))
    if len(steps) <= max_frames:
        return steps
    return steps[np.unique(np.linspace(0, len(steps) - 1, max_frames).round().astype(np.int64))]


def animate(potential: Potential, trajectories, path, *, fps: int = 20, max_frames: int = 120, bounds=None,
            dpi: int = 90, ledger: bool | str = True, progress: bool | None = None, colors=None):
    """Write an animation of particles rolling down the landscape, with their energy ledger beside them.

    Parameters
    ----------
    potential : Potential
        A 2-D potential.
    trajectories : Trajectory, list or mapping label → Trajectory
        Runs recorded with positions (``record='all'``); an ensemble's particles all move, the
        first one draws its path.
    path : str or Path
        ``.gif`` (Pillow, no ffmpeg needed), ``.mp4`` (ffmpeg: the extra ``newtonopt[video]``
        brings one; a system ffmpeg also works), or another suffix Pillow animates (``.webp``).
    fps : int
        Frames per second.
    max_frames : int
        At most this many frames, spread evenly over the recorded steps (fewer when fewer steps were
        recorded).
    bounds : array_like, shape (2, 2), optional
        The landscape's box (default: the potential's bounds, else the paths and known minima).
    dpi : int
        Pixels per inch of the frames.
    ledger : bool or str
        A second panel with the energy ledger (V, K, E = V + K and the dissipated D against steps)
        drawn up to the current frame: True for the first trajectory, a label for another (its
        first particle), False for the landscape alone.
    progress : bool or None
        A progress bar over the frames (see :class:`newtonopt.core.progress.Progress`): None shows one
        in a terminal or notebook when the animation is projected past 2 s, True always (the extra
        ``newtonopt[progress]``), False never.
    colors : list or mapping label → colour, optional
        The paths' colours (default: :func:`method_colors`), to match another figure's.

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    The static parts (contours, axes, legends) are drawn once; each frame restores them and redraws
    only the moving lines and markers (blitting), and the frames go straight to the encoder.
    """
    from pathlib import Path

    from .core.progress import progress_bar

    path = Path(path)
    fps = as_int("fps", fps, low=1)
    max_frames = as_int("max_frames", max_frames, low=1)
    dpi = as_int("dpi", dpi, low=1)
    if potential.dim != 2:
        raise ValueError(f"animate needs a 2-D potential, got dim = {potential.dim}")
    trajs = {k: v for k, v in as_mapping(trajectories).items() if v.x is not None}
    if not trajs:
        raise ValueError("animate needs trajectories recorded with positions (record='all')")
    if not isinstance(ledger, (bool, str)):
        raise TypeError(f"ledger must be True, False or a trajectory's label, got {type(ledger).__name__}")
    if isinstance(ledger, str) and ledger not in trajs:
        raise ValueError(f"ledger must name one of the trajectories {list(trajs)}, got {ledger!r}")
    steps = _frame_steps(trajs, max_frames)
    movie = _Animator(potential, trajs, steps[-1], bounds=bounds, dpi=dpi,
                      ledger=next(iter(trajs)) if ledger is True else ledger or None, colors=colors)
    if path.suffix.lower() == ".mp4":
        sink = _Mp4Sink(path, fps, movie.still.shape)
    else:
        sink = _PillowSink(path, fps, movie.colours())
    try:
        with progress_bar(len(steps), progress=progress, desc="animate", unit="frame") as bar:
            for step in steps:
                sink.add(movie.frame(step))
                bar.update()
    except BaseException:
        if isinstance(sink, _Mp4Sink):
            sink.proc.kill()
        raise
    sink.finish()
    return path


class _Animator:
    """The frames of :func:`animate`: a figure whose still parts are drawn once, and the moving ones per frame.

    ``frame(step)`` restores the saved still picture, sets every moving artist to the recorded state at
    ``step`` (each trajectory's last record at or before it), draws only those (blitting) and returns
    the RGB pixels.
    """

    def __init__(self, potential: Potential, trajs: dict, last_step: int, *, bounds=None, dpi: int = 90,
                 ledger: str | None = None, colors=None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.name = potential.name
        # A figure of its own on the Agg canvas, whatever pyplot's backend: blitting needs Agg's buffers.
        fig = Figure(figsize=(11.0, 4.8) if ledger else (6.4, 5.2), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        if ledger:
            ax, lax = fig.subplots(1, 2, width_ratios=[1.0, 1.05])
        else:
            ax, lax = fig.subplots(), None
        self.fig, self.ax, self.ledger_ax = fig, ax, lax
        contour(potential, None, ax=ax, bounds=_box(potential, trajs, bounds), colorbar=False)
        self.moving, self.paths = [], []
        palette = _colors_for(trajs, colors)
        for label, t in trajs.items():
            color = palette[label]
            xs = t.x.reshape(t.x.shape[0], -1, 2)
            # The whole path now, so that the legend's 'best' place avoids it; each frame cuts it back.
            (line,) = ax.plot(xs[:, 0, 0], xs[:, 0, 1], color=color, lw=1.8, label=label, zorder=6, animated=True)
            (head,) = ax.plot(xs[-1, :, 0], xs[-1, :, 1], "o", color=color, markeredgecolor="black", markersize=8,
                              zorder=7, animated=True)
            self.moving += [line, head]
            self.paths.append((np.asarray(t.step), xs, line, head))
        ax.legend(fontsize=9, loc="best", framealpha=0.85)
        self.ledger_lines = [] if lax is None else _ledger_panel(lax, ledger, trajs[ledger], last_step)
        self.moving += [line for line, _, _ in self.ledger_lines]
        self.title = ax.set_title(f"{self.name}: step {last_step}")  # the widest text, for the layout
        self.title.set_animated(True)
        self.moving.append(self.title)
        fig.canvas.draw()  # the layout and everything that stays still, once
        self.background = fig.canvas.copy_from_bbox(fig.bbox)
        fig.set_layout_engine("none")  # frozen: nothing below may move the axes
        self.still = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()

    def _draw_moving(self) -> np.ndarray:
        self.fig.canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()

    def colours(self) -> np.ndarray:
        """The still picture above the one with every moving part drawn whole: each colour the frames use."""
        return np.concatenate([self.still, self._draw_moving()])

    def frame(self, step: int) -> np.ndarray:
        """The RGB pixels, shape (height, width, 3), of the frame at ``step``."""
        for t_steps, xs, line, head in self.paths:
            k = max(int(np.searchsorted(t_steps, step, side="right")) - 1, 0)
            line.set_data(xs[: k + 1, 0, 0], xs[: k + 1, 0, 1])
            head.set_data(xs[k, :, 0], xs[k, :, 1])
        for line, t_steps, values in self.ledger_lines:
            k = max(int(np.searchsorted(t_steps, step, side="right")) - 1, 0)
            line.set_data(t_steps[: k + 1], values[: k + 1])
        self.title.set_text(f"{self.name}: step {step}")
        return self._draw_moving()


def _ledger_panel(ax, label: str, t: Trajectory, last_step: int) -> list:
    """The ledger's axes drawn with fixed limits; returns (line, steps, values) for V, K, E = V + K, D."""

    def pick(a):
        a = np.asarray(a, dtype=np.float64)
        return a if a.ndim == 1 else a.reshape(len(a), -1)[:, 0]

    V, K, D = pick(t.potential_energy), pick(t.kinetic_energy), pick(t.dissipated)
    # E first: the frames draw in this order, and V must stay visible on E when K = 0 (first-order methods).
    series = [("total E = V + K", V + K, "black", "-", 2.6), ("potential V", V, PALETTE[0], "-", 1.4),
              ("kinetic K", K, PALETTE[1], "-", 1.4), ("dissipated D", D, PALETTE[2], "--", 1.6)]
    t_steps = np.asarray(t.step)
    out = []
    for name, values, color, style, width in series:
        # The whole curve now, so that the legend's 'best' place avoids it; each frame cuts it back.
        (line,) = ax.plot(t_steps, values, color=color, ls=style, lw=width, label=name, animated=True)
        out.append((line, t_steps, values))
    handles = [line for line, _, _ in out]
    finite = np.concatenate([v[np.isfinite(v)] for _, v, _, _, _ in series])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.05 * max(hi - lo, 1e-12)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0, max(int(last_step), 1))
    ax.set_xlabel("steps")
    ax.set_ylabel("energy")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=[handles[i] for i in (1, 2, 0, 3)], fontsize=9, loc="best", framealpha=0.85)  # V, K, E, D
    ax.set_title(f"energy ledger: {label}")
    return out
