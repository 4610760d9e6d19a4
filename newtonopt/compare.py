"""compare(): several methods, one start, one stopping rule, one table.

Fairness is the point: every method starts from the same x0, stops by the same
rule ‖∇V‖₂ ≤ gtol (enforced for scipy's methods by their callback) or after the
same number of steps, and is charged for every evaluation it made.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np

from ._validation import _describe, as_int, positive
from .backends import check_backend
from .backends import select as select_backend
from .conjugate_gradient import linear_cg
from .core.progress import progress_bar
from .integrators.base import Integrator
from .integrators.registry import find_method
from .potential import Potential
from .scipy_bridge import scipy_minimize
from .simulate import prepare_start, simulate
from .trajectory import Trajectory
from .tuning import tune as tune_method

# A particle "reached" a known minimizer when it ends within this distance of it, relative to 1 + ‖x*‖.
REACHED_TOLERANCE = 1e-3

#: The names under which compare runs linear conjugate gradient (quadratics only).
LINEAR_CG_NAMES = ("linear-cg", "linear cg", "linear_cg")

COLUMNS = ("method", "status", "steps", "grad_evals", "value_evals", "final_V", "V_minus_Vstar", "distance",
           "grad_norm", "seconds", "params", "tuned", "tuning_grad_evals")


def _label_of(method) -> str:
    if isinstance(method, tuple):
        return method[0]
    return method if isinstance(method, str) else type(method).__name__


def _normalise(methods) -> dict:
    if isinstance(methods, Mapping):
        items = dict(methods)
    elif isinstance(methods, Sequence) and not isinstance(methods, str):
        items = {}
        for m in methods:
            label = _label_of(m)
            k = 2
            while label in items:
                label = f"{_label_of(m)} ({k})"
                k += 1
            items[label] = m
    else:
        raise TypeError(f"methods must be a mapping label → method or a list of methods, got {_describe(methods)}")
    if not items:
        raise ValueError("methods must name at least one method, got an empty collection")
    for label, m in items.items():
        scipy_with_options = (isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str)
                              and isinstance(m[1], Mapping))
        if not (isinstance(m, (Integrator, str)) or scipy_with_options):
            raise TypeError(f"method {label!r} must be a newtonopt Integrator, a scipy method name such as 'CG' "
                            f"(or a pair ('CG', {{'c2': 0.01}}) with scipy options), or 'linear-cg', "
                            f"got {_describe(m)}")
    return items


class Comparison:
    """The result of :func:`compare`: one row per method and the trajectories behind them.

    Attributes
    ----------
    rows : list of dict
        One dict per method with the keys of :data:`COLUMNS` (and, for an
        ensemble, ``n_particles``, ``fraction_converged``, ``fraction_global``).
    trajectories : dict
        Label → Trajectory (for an ensemble run by scipy: label → list of Trajectories).
    potential : Potential
    x0 : ndarray
    gtol, n_steps
        The shared stopping rule.
    """

    def __init__(self, potential, x0, gtol, n_steps, rows, trajectories):
        self.potential, self.x0, self.gtol, self.n_steps = potential, x0, gtol, n_steps
        self.rows, self.trajectories = rows, trajectories

    def to_records(self) -> list[dict]:
        """The rows as a list of plain dicts (JSON-serializable)."""
        return [dict(row) for row in self.rows]

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("Comparison.to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame(self.to_records()).set_index("method")

    def table(self, params: bool | None = None) -> str:
        """An aligned text table, one line per method.

        Parameters
        ----------
        params : bool, optional
            Add a column with the parameters each method ran with (its ``params()``, or the scipy
            options given). By default the column is shown only when some method was tuned.
        """
        ensemble = self.x0.ndim > 1
        headers = ["method", "status", "steps", "∇ evals", "V evals", "final V", "V − V*", "dist. to min",
                   "‖∇V‖", "time [ms]"]
        keys = ["method", "status", "steps", "grad_evals", "value_evals", "final_V", "V_minus_Vstar", "distance",
                "grad_norm", "seconds"]
        if ensemble:
            headers[1:3] = ["converged", "at global", "median steps"]
            keys[1:3] = ["fraction_converged", "fraction_global", "steps"]
        tuned = any(row.get("tuned") for row in self.rows)
        if tuned:
            headers += ["tuned parameters", "tuning ∇ evals"]
            keys += ["params", "tuning_grad_evals"]
        elif params:
            headers.append("parameters")
            keys.append("params")
        lines = [[_fmt(row.get(k), k) for k in keys] for row in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
        left = {0} | {i for i, k in enumerate(keys) if k == "params"}  # text columns; numbers align right

        def join(cells):
            return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

        out = [join(headers), "  ".join("-" * w for w in widths), *(join(line) for line in lines)]
        out = [line.rstrip() for line in out]
        rule = f"gtol = {self.gtol:g}" if self.gtol is not None else "no gradient tolerance"
        start = (f"start {np.array2string(self.x0, precision=4, threshold=6)}" if self.x0.ndim == 1 else
                 f"{self.x0.shape[0]} starts (medians over particles)")
        out.append(f"{self.potential.name}, {start}, {rule}, at most {self.n_steps} steps")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def plot(self, kind: str = "convergence", **kwargs):
        """Draw the comparison: ``'convergence'`` (default) or ``'contour'`` (2-D potentials)."""
        from . import _draw as _plot  # here, so that matplotlib loads only when a figure is asked for

        trajs = {k: v for k, v in self.trajectories.items() if isinstance(v, Trajectory)}
        if kind == "convergence":
            return _plot.convergence(trajs, **kwargs)
        if kind == "contour":
            return _plot.contour(self.potential, trajs, **kwargs)
        raise ValueError(f"kind must be 'convergence' or 'contour', got {kind!r}")


def _number(value) -> str:
    """A parameter for the table: floats to 3 digits, tuples (Adam's betas) element by element."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_number(v) for v in value) + ")"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _fmt(value, key) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if key == "params":
        return ", ".join(f"{k}={_number(v)}" for k, v in value.items()) or "—"
    if key == "seconds":
        return f"{1e3 * value:.1f}"
    if key in ("fraction_converged", "fraction_global"):
        return f"{100 * value:.0f}%"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, float):
        if key == "steps":
            return f"{value:g}"
        return f"{value:.4g}" if key in ("final_V",) else f"{value:.2e}"
    return str(value)


def _run(potential, method, x0, n_steps, gtol, record, every, backend="numpy", workers=None):
    if isinstance(method, str) and method.strip().lower() in LINEAR_CG_NAMES:
        return linear_cg(potential, x0, gtol=gtol, maxiter=n_steps)
    if isinstance(method, tuple):  # a scipy method with its options
        return scipy_minimize(potential, x0, method[0], gtol=gtol, maxiter=n_steps, **dict(method[1]))
    if isinstance(method, str):
        return scipy_minimize(potential, x0, method, gtol=gtol, maxiter=n_steps)
    return simulate(potential, method, x0, n_steps, gtol=gtol, record=record, every=every, backend=backend,
                    workers=workers, progress=False)


def _distance_row(potential, x_final, values):
    vstar = potential.minimum_value
    gap = None if vstar is None else values - vstar
    if potential.minima:
        index, dist = potential.nearest_minimum(x_final)
        scale = 1.0 + np.linalg.norm(potential.global_minimum.x)
        at_global = (index == 0) & (dist <= REACHED_TOLERANCE * scale)
    else:
        dist, at_global = None, None
    return gap, dist, at_global


def _plain(value):
    """A parameter as plain Python (JSON-serializable): numpy scalars to float or int, tuples element-wise."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _tuning_columns(method, result) -> dict:
    """The parameters a method ran with and, when it was tuned, the gradient evaluations its tuning spent."""
    if isinstance(method, (str, tuple)):
        params = dict(method[1]) if isinstance(method, tuple) else {}
    else:
        # Scalars and small tuples (Adam's betas); per-particle arrays would not fit a table cell.
        params = {k: v for k, v in method.params().items() if np.ndim(v) == 0 or isinstance(v, tuple)}
    return {"params": {k: _plain(v) for k, v in params.items()},
            "tuned": result is not None, "tuning_grad_evals": None if result is None else result.counts["gradient"]}


def compare(potential: Potential, methods, x0, *, n_steps: int = 10_000, gtol: float | None = 1e-6,
            record: str = "all", every: int = 1, tune: int | None = None, seed: int = 0, backend: str = "numpy",
            workers: int | None = None, progress: bool | None = None) -> Comparison:
    """Run several methods from one start with one stopping rule and tabulate the result.

    Parameters
    ----------
    potential : Potential
    methods : mapping label → method, or list of methods
        Each method is a newtonopt integrator (``HeavyBall(1e-3, 0.9)``), the
        name of a ``scipy.optimize.minimize`` method (``"CG"``, ``"BFGS"``,
        ``"L-BFGS-B"``, ``"Newton-CG"``), such a name with scipy options
        (``("CG", {"c2": 0.01})``), or ``"linear-cg"``: linear conjugate gradient,
        the reference on a Quadratic (:func:`newtonopt.conjugate_gradient.linear_cg`).
    x0 : array_like, shape (dim,) or (n, dim)
        The common start; with an ensemble each row aggregates over particles
        (median steps to tolerance among converged particles, fraction
        converged, fraction that ended at the global minimum).
    n_steps : int
        The step (iteration) budget shared by every method.
    gtol : float or None
        The shared stopping rule ‖∇V‖₂ ≤ gtol.
    tune : int, optional
        A tuning budget: each newtonopt method is first tuned by :func:`newtonopt.tune` with ``tune``
        Sobol trials over its registry's default space (the same budget, starts and stopping rule for
        every method), then run with its best trial's parameters. A method without a default space
        (the thermostats) and scipy's methods run as given. The table then shows the parameters each
        method ended with and the evaluations its tuning spent.
    seed : int
        Scrambles the Sobol points of the tuning, so a tuned comparison is reproducible bit for bit.
    backend : {'numpy', 'numba', 'auto'}
        Who takes the newtonopt methods' steps (see :func:`newtonopt.simulate`); scipy's methods and
        linear CG run as they always do. With 'numba' every newtonopt method is checked before any
        run starts, so a method the compiled loop cannot run is refused up front, not half-way.
        Tuning trials run on numpy.
    workers : int, optional
        Threads over which the compiled backend splits an ensemble's particles.
    progress : bool or None
        A progress bar over the runs (and tunings), advanced as each finishes: None (default) shows one
        in a terminal or notebook when the first runs project the comparison past 2 s, True always
        (needs the extra ``newtonopt[progress]``), False never. See :class:`newtonopt.core.progress.Progress`.

    Returns
    -------
    Comparison
        ``.table()``, ``.to_records()``, ``.to_dataframe()``, ``.trajectories``, ``.plot()``.

    Notes
    -----
    Steps are integrator steps or scipy iterations (``nit``); the honest cost
    is in the evaluation columns, since one scipy iteration may evaluate the
    potential several times (line searches). Every count includes the
    evaluation at x0.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    items = _normalise(methods)
    n_steps = as_int("n_steps", n_steps, low=0)
    gtol = None if gtol is None else positive("gtol", gtol)
    start = np.array(prepare_start(potential, x0), order="C")
    backend, workers = check_backend(backend, workers)
    if backend == "numba":  # refuse what the compiled loop cannot run before any run starts
        for method in items.values():
            if isinstance(method, Integrator):
                select_backend(backend, workers, potential, method, start.dtype, start.size, n_steps)
    tuning = {}
    budget = None if tune is None else as_int("tune", tune, low=1)
    spaces = {label: None if budget is None or isinstance(method, (str, tuple)) else find_method(method).space
              for label, method in items.items()}
    bar = progress_bar(len(items) + sum(space is not None for space in spaces.values()), progress=progress,
                       desc="compare", unit="run")
    with bar:
        rows, trajectories = _compare_all(potential, items, spaces, start, n_steps, gtol, record, every, budget,
                                          seed, tuning, bar, backend, workers)
    return Comparison(potential, start, gtol, n_steps, rows, trajectories)


def _compare_all(potential, items, spaces, start, n_steps, gtol, record, every, budget, seed, tuning, bar, backend,
                 workers):
    """compare's work: tune the methods that have a space (when asked), then run each; one bar unit per task."""
    for label, method in items.items():
        if spaces[label] is None:
            continue
        result = tune_method(type(method), potential, start, spaces[label], budget=budget, seed=seed,
                             n_steps=max(n_steps, 1), gtol=gtol if gtol is not None else 1e-6)
        items[label] = type(method)(**result.best_params)
        tuning[label] = result
        bar.update()
    rows, trajectories = [], {}
    for label, method in items.items():
        if start.ndim == 1:
            t0 = time.perf_counter()
            traj = _run(potential, method, start, n_steps, gtol, record, every, backend, workers)
            seconds = time.perf_counter() - t0
            trajectories[label] = traj
            gap, dist, _ = _distance_row(potential, traj.x_final, float(traj.value_final))
            rows.append({
                "method": label, "status": traj.status, "steps": traj.n_steps,
                "grad_evals": traj.counts["gradient"], "value_evals": traj.counts["value"],
                "final_V": float(traj.value_final), "V_minus_Vstar": None if gap is None else float(gap),
                "distance": None if dist is None else float(dist), "grad_norm": float(traj.grad_norm_final),
                "seconds": seconds, **_tuning_columns(method, tuning.get(label)),
            })
            bar.update()
            continue
        t0 = time.perf_counter()
        flat = start.reshape(-1, potential.dim)
        if isinstance(method, (str, tuple)):
            runs = [_run(potential, method, xi, n_steps, gtol, record, every) for xi in flat]
            trajectories[label] = runs
            steps = np.array([r.n_steps for r in runs])
            converged = np.array([r.status == "converged" for r in runs])
            finals = np.array([r.x_final for r in runs])
            values = np.array([float(r.value_final) for r in runs])
            gnorm = np.array([float(r.grad_norm_final) for r in runs])
            grad_evals = sum(r.counts["gradient"] for r in runs)
            value_evals = sum(r.counts["value"] for r in runs)
        else:
            traj = _run(potential, method, start, n_steps, gtol, record, every, backend, workers)
            trajectories[label] = traj
            steps = traj.converged_step.reshape(-1)
            converged = steps >= 0
            finals = traj.x_final.reshape(-1, potential.dim)
            values = np.asarray(traj.value_final).reshape(-1)
            gnorm = np.asarray(traj.grad_norm_final).reshape(-1)
            grad_evals, value_evals = traj.counts["gradient"], traj.counts["value"]
        seconds = time.perf_counter() - t0
        gap, dist, at_global = _distance_row(potential, finals, values)
        rows.append({
            "method": label, "n_particles": len(flat),
            "fraction_converged": float(np.mean(converged)),
            "fraction_global": None if at_global is None else float(np.mean(at_global)),
            "status": "converged" if converged.all() else "mixed" if converged.any() else "not converged",
            "steps": float(np.median(steps[converged])) if converged.any() else None,
            "grad_evals": int(grad_evals), "value_evals": int(value_evals),
            "final_V": float(np.median(values)),
            "V_minus_Vstar": None if gap is None else float(np.median(gap)),
            "distance": None if dist is None else float(np.median(dist)),
            "grad_norm": float(np.median(gnorm)), "seconds": seconds, **_tuning_columns(method, tuning.get(label)),
        })
        bar.update()
    return rows, trajectories
