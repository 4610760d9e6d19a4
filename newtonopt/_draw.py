"""Drawing what a run recorded, in the house style: landscapes, convergence, the energy ledger, sweeps.

The functions behind :mod:`newtonopt.plot` that only read results (a potential, Trajectories, a
SweepResult) and never run anything, so that the experiments' ``plot()`` methods and the explorer
can import them downward. Use them through :mod:`newtonopt.plot`; its docstring states the conventions.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import BoundaryNorm

from .integrators.registry import find_method
from .potential import Potential
from .trajectory import Trajectory

# Colour-blind-safe qualitative palette (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


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


def log_levels(z: np.ndarray, n: int = 24) -> np.ndarray:
    """Levels spaced logarithmically above the lowest value, so valleys stay readable."""
    zmin, zmax = np.nanmin(z), np.nanmax(z)
    span = max(zmax - zmin, 1e-12)
    return zmin + np.concatenate([[0.0], np.geomspace(span * 1e-4, span, n - 1)])


def contour(potential: Potential, trajectories=None, *, ax=None, bounds=None, resolution: int = 240,
            levels: int = 24, log: bool = True, cmap: str = "viridis", show_minima: bool = True,
            colorbar: bool = True, legend_loc: str = "best"):
    """Filled contours of a 2-D potential with trajectories drawn on top.

    Levels are log-spaced above the minimum (``log=True``), which makes long
    curved valleys such as Rosenbrock's visible. Known minima are white stars;
    each trajectory is a line from a circle (start) to a square (end).
    """
    if potential.dim != 2:
        raise ValueError(f"contour needs a 2-D potential, got dim = {potential.dim}")
    trajs = as_mapping(trajectories)
    box = _box(potential, trajs, bounds)
    X, Y = _mesh(box, resolution)
    Z = _uncounted_values(potential, np.stack([X, Y], axis=-1))
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    lv = log_levels(Z, levels) if log else np.linspace(np.nanmin(Z), np.nanmax(Z), levels)
    filled = ax.contourf(X, Y, Z, levels=lv, cmap=cmap, norm=BoundaryNorm(lv, plt.get_cmap(cmap).N), extend="max")
    ax.contour(X, Y, Z, levels=lv, colors="white", linewidths=0.35, alpha=0.5)
    if colorbar:
        cb = ax.figure.colorbar(filled, ax=ax, shrink=0.9)
        cb.set_label("V" + (" (log levels)" if log else ""))
        cb.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.3g}"))
        cb.set_ticks(lv[:: max(1, len(lv) // 6)])
    if show_minima and potential.minima:
        m = np.array([mm.x[:2] for mm in potential.minima])
        ax.plot(m[:, 0], m[:, 1], linestyle="none", marker="*", markersize=14, markerfacecolor="white",
                markeredgecolor="black", label="known minima", zorder=5)
    for i, (label, t) in enumerate(trajs.items()):
        if t.x is None:
            continue
        color = PALETTE[i % len(PALETTE)]
        xs = t.x.reshape(t.x.shape[0], -1, 2)
        for j in range(xs.shape[1]):
            ax.plot(xs[:, j, 0], xs[:, j, 1], color=color, lw=1.8 if xs.shape[1] == 1 else 0.8,
                    marker="." if xs.shape[0] <= 60 else None, markersize=4, label=label if j == 0 else None,
                    zorder=6)
            ax.plot(xs[0, j, 0], xs[0, j, 1], "o", color=color, markeredgecolor="black", markersize=7, zorder=7)
            ax.plot(xs[-1, j, 0], xs[-1, j, 1], "s", color=color, markeredgecolor="black", markersize=7, zorder=7)
    ax.set_xlim(box[0])
    ax.set_ylim(box[1])
    spans = box[:, 1] - box[:, 0]
    if 1 / 3 <= spans[0] / spans[1] <= 3:
        ax.set_aspect("equal")  # keep the landscape's shape: an ellipse must look like one
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(potential.name)
    if trajs or (show_minima and potential.minima):
        ax.legend(loc=legend_loc, fontsize=9, framealpha=0.85)
    return ax


def convergence(trajectories, *, x: str = "steps", y: str = "auto", ax=None, logx: bool = False):
    """V − V* (or ‖∇V‖) on a log axis against steps, gradient evaluations or physical time.

    ``y='auto'`` plots V − V* when every trajectory knows its minimum value and
    ‖∇V‖ otherwise. For an ensemble, the median over particles is drawn. ``logx`` puts the
    cost axis on a log scale, so that methods whose costs differ by orders of magnitude all show.
    """
    if x not in ("steps", "gradient_evaluations", "time"):
        raise ValueError(f"x must be 'steps', 'gradient_evaluations' or 'time', got {x!r}")
    if y not in ("auto", "gap", "grad_norm"):
        raise ValueError(f"y must be 'auto', 'gap' or 'grad_norm', got {y!r}")
    trajs = as_mapping(trajectories)
    if y == "auto":
        y = "gap" if trajs and all(t.minimum_value is not None for t in trajs.values()) else "grad_norm"
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    floor = 1e-16
    for i, (label, t) in enumerate(trajs.items()):
        values = t.gap if y == "gap" else t.grad_norm
        if values.ndim > 1:
            values = np.median(values.reshape(len(values), -1), axis=1)
        if x == "steps":
            xs = t.step
        elif x == "time":
            xs = t.t if t.t.ndim == 1 else np.median(t.t.reshape(len(t.t), -1), axis=1)
        else:
            xs = t.gradient_evaluations
        if logx:
            xs = np.maximum(xs, 1)  # the start sits at 1 on a log axis (cost 0 → 1 evaluation)
        style = ("-", "--", ":")[(i // len(PALETTE)) % 3]  # more methods than colours: vary the dash
        ax.semilogy(xs, np.maximum(np.abs(values), floor), color=PALETTE[i % len(PALETTE)], lw=1.8, ls=style,
                    label=label)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel({"steps": "steps", "gradient_evaluations": "gradient evaluations", "time": "physical time t"}[x])
    ax.set_ylabel("V − V*" if y == "gap" else "‖∇V‖")
    ax.grid(True, which="major", alpha=0.3)
    if len(trajs) > 1:
        ax.legend(fontsize=9)
    ax.set_title("convergence")
    return ax


def energy(trajectory: Trajectory, *, ax=None, particle: int = 0):
    """The energy ledger: V, K, E = V + K, E + D and the discretization error ε.

    With ``ax=None`` a two-panel figure is returned: the energies on top, ε
    below (E + D stays at E₀ + ε: flat for an exact ledger). With an ``ax``
    everything is drawn on it and the Axes is returned.
    """
    t = trajectory

    def pick(a):
        a = np.asarray(a)
        return a if a.ndim == 1 else a.reshape(len(a), -1)[:, particle]

    time = pick(t.t)
    V, K, D = pick(t.potential_energy), pick(t.kinetic_energy), pick(t.dissipated)
    E, err = V + K, pick(t.energy_error)
    if ax is None:
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.6), sharex=True, layout="constrained",
                                          gridspec_kw={"height_ratios": [3, 1.4]})
    else:
        fig, top, bottom = None, ax, ax
    top.plot(time, V, color=PALETTE[0], lw=1.6, label="potential V")
    top.plot(time, K, color=PALETTE[1], lw=1.6, label="kinetic K")
    top.plot(time, E, color="black", lw=2.0, label="total E = V + K")
    top.plot(time, D, color=PALETTE[2], lw=1.6, ls="--", label="dissipated D")
    top.plot(time, E + D, color=PALETTE[3], lw=1.4, ls=":", label="E + D (= E₀ + ε)")
    top.set_ylabel("energy")
    top.legend(fontsize=9, loc="best")
    top.grid(True, alpha=0.3)
    top.set_title(f"energy ledger: {t.method} on {t.potential}")
    bottom.plot(time, err, color=PALETTE[4] if fig is None else "black", lw=1.2, label="ε = E + D − E₀")
    bottom.set_xlabel("physical time t")
    if fig is not None:
        bottom.set_ylabel("ε (discretization)")
        bottom.axhline(0.0, color="gray", lw=0.8)
        bottom.grid(True, alpha=0.3)
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
        return fig
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
    points = ax.scatter(x, p, c=np.asarray(t.t if t.t.ndim == 1 else t.step), s=6, cmap="viridis", zorder=3)
    ax.plot(x, p, color="gray", lw=0.6, alpha=0.6, zorder=2)
    ax.plot(x[0], p[0], "o", color=PALETTE[1], markeredgecolor="black", markersize=8, label="start", zorder=4)
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_xlabel(f"position $x_{{{coordinate + 1}}}$")
    ax.set_ylabel(f"momentum $p_{{{coordinate + 1}}}$")
    ax.set_title(f"phase portrait: {t.method}")
    ax.figure.colorbar(points, ax=ax, label="time t")
    ax.legend(loc="upper right", fontsize=9)
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
        ax.plot(xs, ys, "o-", color=PALETTE[0], label=value)
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
        ax.legend(fontsize=9)
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
        _plain_log_ticks(colorbar.ax.yaxis)
    if bounds is not None and cls is not None and xn == cls.step_parameter:
        mu, L = bounds
        ys = np.linspace(min(yv), max(yv), 200)
        edge = None if cls.stability_limit is None else _formula_at(cls.stability_limit, (L,), {**fixed, yn: ys})
        if edge is not None:  # the limit on the step along the other axis (a vertical line if it does not enter)
            edge = np.broadcast_to(edge, ys.shape)
            ax.plot(edge, ys, color="white", lw=2.5)
            ax.plot(edge, ys, color="black", lw=1.3, ls="--", label="analytic stability limit")
        tuned = cls.tuned_params(mu, L) if cls.tuned_params is not None and mu > 0 else {}
        if set(tuned) == {xn, yn}:
            ax.plot(tuned[xn], tuned[yn], "*", color="white", markeredgecolor="black", markersize=16,
                    label=cls.tuned_params_label)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="#8b1a1a", label="diverged"),
                Patch(color="#bdbdbd", label=f"not converged in {result.n_steps} steps")]
    ax.legend(handles=handles, loc="lower left", fontsize=9, framealpha=0.9)
    if _is_log_spaced(xv):
        ax.set_xscale("log")
    ax.set_xlim(min(xv), max(xv))
    ax.set_ylim(min(yv), max(yv))
    ax.set_xlabel(xn)
    ax.set_ylabel(yn)
    ax.set_title(f"{result.method} on {result.potential.name}")
    return ax


def _plain_log_ticks(axis) -> None:
    """Plain numbers (30, 100, 600) instead of 3 × 10¹ on a log axis: easier to read on a slide."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def surface(potential: Potential, trajectories=None, *, ax=None, bounds=None, resolution: int = 120,
            cmap: str = "viridis", clip_quantile: float = 0.9):
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
    for i, (label, t) in enumerate(trajs.items()):
        if t.x is None:
            continue
        xs = t.x.reshape(t.x.shape[0], -1, 2)[:, 0]
        zs = np.minimum(_uncounted_values(potential, xs), top)
        color = PALETTE[i % len(PALETTE)]
        ax.plot(xs[:, 0], xs[:, 1], zs + 0.01 * (top - np.nanmin(Z)), color=color, lw=2.2, label=label, zorder=10)
        ax.scatter([xs[0, 0]], [xs[0, 1]], [zs[0]], color=color, edgecolor="black", s=40, zorder=11)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("V")
    ax.set_title(potential.name)
    if trajs:
        ax.legend(fontsize=9)
    return ax


def animate(potential: Potential, trajectories, path, *, fps: int = 20, max_frames: int = 120, bounds=None,
            dpi: int = 90):
    """Write a GIF (Pillow, no ffmpeg needed) — or an MP4 when ``path`` ends in .mp4 and ffmpeg is
    present — of particles rolling down the landscape. Returns the path."""
    from pathlib import Path

    from matplotlib import animation

    path = Path(path)
    trajs = {k: v for k, v in as_mapping(trajectories).items() if v.x is not None}
    if not trajs:
        raise ValueError("animate needs trajectories recorded with positions (record='all')")
    n = max(t.x.shape[0] for t in trajs.values())
    frames = np.unique(np.linspace(0, n - 1, min(n, max_frames)).astype(int))
    ax = contour(potential, None, bounds=bounds, colorbar=False)
    fig = ax.figure
    lines, heads = [], []
    for i, label in enumerate(trajs):
        color = PALETTE[i % len(PALETTE)]
        (line,) = ax.plot([], [], color=color, lw=1.8, label=label, zorder=6)
        (head,) = ax.plot([], [], "o", color=color, markeredgecolor="black", markersize=8, zorder=7)
        lines.append(line)
        heads.append(head)
    ax.legend(fontsize=9, loc="best")

    def draw(frame):
        for (t, line, head) in zip(trajs.values(), lines, heads):
            xs = t.x.reshape(t.x.shape[0], -1, 2)
            k = min(frame, len(xs) - 1)
            line.set_data(xs[: k + 1, 0, 0], xs[: k + 1, 0, 1])
            head.set_data(xs[k, :, 0], xs[k, :, 1])
        ax.set_title(f"{potential.name}: step {frame}")
        return lines + heads

    anim = animation.FuncAnimation(fig, draw, frames=frames, blit=False)
    if path.suffix.lower() == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise RuntimeError("writing MP4 needs ffmpeg on the PATH; use a .gif path for the Pillow writer")
        anim.save(path, writer="ffmpeg", fps=fps, dpi=dpi)
    else:
        anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)
    plt.close(fig)
    return path
