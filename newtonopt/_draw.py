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

from ._validation import as_int
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
            dpi: int = 90, ledger: bool | str = True, progress: bool | None = None):
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
                      ledger=next(iter(trajs)) if ledger is True else ledger or None)
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
                 ledger: str | None = None):
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
        for i, (label, t) in enumerate(trajs.items()):
            color = PALETTE[i % len(PALETTE)]
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
