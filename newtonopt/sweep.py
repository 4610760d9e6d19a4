"""Parameter sweeps: thousands of runs as vectorized ensembles, on one machine or a cluster.

Every grid point is one particle with its own hyperparameters, so a whole grid
runs as a few vectorized ensembles ("chunks"). Chunks go to any
``concurrent.futures.Executor``: None runs them in this process, a
``ProcessPoolExecutor`` on the local cores, ``dask.distributed.Client(...).get_executor()``
on a dask cluster. Results do not depend on the executor: deterministic methods are
bitwise identical, and stochastic ones get each grid point's seed from the point
itself, never from the worker.
"""

from __future__ import annotations

import inspect
import itertools
import math
import time
from collections.abc import Callable
from concurrent.futures import as_completed

import numpy as np

from ._validation import _describe, as_int, positive
from .backends import check_backend
from .backends import select as select_backend
from .core.progress import progress_bar
from .noise import seed_keys
from .potential import Potential
from .simulate import prepare_start, simulate

# Chunks default to this many particles: large enough to amortize Python, small enough to bound memory.
DEFAULT_CHUNK = 20_000


def _run_chunk(potential, method, fixed: dict, params: dict, x0: np.ndarray, n_steps: int, gtol, backend="numpy",
               workers=None):
    """Run one chunk as an ensemble; return per-particle summaries (picklable, for any executor)."""
    integrator = method(**fixed, **params)
    traj = simulate(potential, integrator, x0, n_steps, gtol=gtol, record="final", progress=False, backend=backend,
                    workers=workers)
    g0, g1 = traj.grad_norm[0], traj.grad_norm_final
    steps = traj.converged_step.astype(np.int64)
    done = np.where(steps >= 0, steps, np.where(traj.diverged_step >= 0, traj.diverged_step, traj.n_steps))
    with np.errstate(all="ignore"):
        # Mean contraction of ‖∇V‖ per step: the measured convergence rate (< 1 converges).
        rate = np.where((g0 > 0) & (done > 0), (g1 / g0) ** (1.0 / np.maximum(done, 1)), np.nan)
    diverged = traj.diverged_step >= 0
    rate = np.where(diverged, np.inf, rate)
    if potential.minima:
        index, dist = potential.nearest_minimum(traj.x_final)
    else:
        index, dist = np.full(len(x0), -1), np.full(len(x0), np.nan)
    return {"status": traj.particle_status, "steps": steps, "final_value": traj.value_final,
            "grad_norm": g1, "rate": rate, "minimum": index, "distance": dist, "counts": traj.counts}


class SweepResult:
    """The outcome of :func:`sweep`, one value per grid point.

    Attributes
    ----------
    axes : dict
        Axis name → grid values, in grid order (``'x0'`` indexes the starts when several).
    status, steps, final_value, grad_norm, rate, minimum, distance : ndarray, shape = grid shape
        Per point: status; steps to tolerance (−1: not converged); final V and ‖∇V‖;
        the measured mean contraction of ‖∇V‖ per step (inf when diverged); the index of the
        nearest known minimum of the final state (−1 when none is known) and the distance to it.
    errors : list of dict
        Chunks that raised: ``{'chunk', 'points', 'error'}``; their points have status 'failed'.
    counts : dict
        Evaluations used by the whole sweep (``'value'``, ``'gradient'``, ``'hessian'``), summed
        over the chunks that finished, wherever they ran.
    seconds : float
        Wall time of the whole sweep.
    """

    def __init__(self, potential, method_name, axes, fields, errors, seconds, gtol, n_steps, fixed, counts=None):
        self.potential, self.method, self.axes = potential, method_name, axes
        self.errors, self.seconds, self.gtol, self.n_steps, self.fixed = errors, seconds, gtol, n_steps, fixed
        self.counts = dict(counts or {})
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def shape(self) -> tuple:
        return tuple(len(v) for v in self.axes.values())

    def converged(self) -> np.ndarray:
        return self.steps >= 0

    def best(self) -> dict:
        """The grid point that converged in the fewest steps (ties: the first), with its steps."""
        if not self.converged().any():
            raise ValueError("no grid point converged: nothing to choose from")
        steps = np.where(self.converged(), self.steps, np.iinfo(np.int64).max)
        idx = np.unravel_index(int(np.argmin(steps)), self.shape)
        point = {name: (values[i].item() if hasattr(values[i], "item") else values[i])
                 for (name, values), i in zip(self.axes.items(), idx)}
        point["steps"] = int(self.steps[idx])
        return point

    def to_records(self) -> list[dict]:
        names = list(self.axes)
        out = []
        for idx in itertools.product(*(range(n) for n in self.shape)):
            row = {name: self.axes[name][i].item() for name, i in zip(names, idx)}
            for field in ("status", "steps", "final_value", "grad_norm", "rate", "minimum", "distance"):
                v = getattr(self, field)[idx]
                row[field] = v.item() if hasattr(v, "item") else v
            out.append(row)
        return out

    def to_dataframe(self):
        """One row per grid point (pandas is optional)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("SweepResult.to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame(self.to_records())

    def plot(self, value: str = "steps", ax=None):
        """A heat map over two grid axes (or a line over one), with the analytic stability boundary
        of a quadratic overlaid for gradient descent, heavy ball and Nesterov."""
        from ._draw import sweep_map  # here, so that matplotlib loads only when a figure is asked for

        return sweep_map(self, value=value, ax=ax)

    def __repr__(self) -> str:
        grid = " × ".join(f"{k}[{len(v)}]" for k, v in self.axes.items())
        return (f"<SweepResult {self.method} on {self.potential.name}: {grid}, {int(self.converged().sum())} "
                f"converged, {len(self.errors)} failed chunks, {self.seconds:.2f} s>")


def _grid_axes(grids: dict) -> tuple[dict, dict]:
    axes, fixed = {}, {}
    for name, values in grids.items():
        if isinstance(values, (list, tuple, np.ndarray)):
            arr = np.asarray(values)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"grid {name} must be a non-empty 1-D array, got shape {arr.shape}")
            axes[name] = arr
        else:
            fixed[name] = values
    return axes, fixed


def sweep(potential: Potential, method: Callable, x0, *, n_steps: int = 1000, gtol: float | None = 1e-6,
          executor=None, chunk_size: int | None = None, progress: bool | None = None, backend: str = "numpy",
          workers: int | None = None, **grids) -> SweepResult:
    """Run ``method`` over a grid of hyperparameters (and starts) as vectorized ensembles.

    Parameters
    ----------
    potential : Potential
    method : Integrator class or factory
        Called as ``method(**fixed, **per_particle_arrays)``, e.g. ``HeavyBall``.
    x0 : array_like, shape (dim,) or (m, dim)
        One start for every grid point, or m starts: one more grid axis, ``'x0'``.
    n_steps, gtol
        The stopping rule of every run.
    executor : concurrent.futures.Executor, optional
        Where the chunks run (None: in this process).
    chunk_size : int, optional
        Particles per chunk (default 20,000).
    progress : bool or None
        A progress bar over the grid points, advanced as chunks finish: None (default) shows one in a
        terminal or notebook when the first chunks project the sweep past 2 s (so only a sweep of
        several chunks can show one), True always (needs the extra ``newtonopt[progress]``), False never.
        See :class:`newtonopt.core.progress.Progress`.
    backend : {'numpy', 'numba', 'auto'}
        Who takes each chunk's steps (see :func:`newtonopt.simulate`); the same bits either way on
        potentials built from + − × ÷ √. With 'numba' the method is checked before any chunk runs.
    workers : int, optional
        Threads over which the compiled backend splits each chunk's particles (within a process; an
        ``executor`` spreads chunks over processes or machines).
    **grids
        ``name=1-D array`` makes a grid axis (``lr=np.logspace(-4, -1, 60)``); a scalar is a
        fixed parameter. A scalar ``seed`` gives every grid point its own seed derived from
        the point's index, so stochastic sweeps are reproducible whatever the chunking or executor.

    Returns
    -------
    SweepResult
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    if not callable(method):
        raise TypeError(f"method must be an integrator class or factory, got {_describe(method)}")
    n_steps = as_int("n_steps", n_steps, low=0)
    gtol = None if gtol is None else positive("gtol", gtol)
    chunk_size = DEFAULT_CHUNK if chunk_size is None else as_int("chunk_size", chunk_size, low=1)
    backend, workers = check_backend(backend, workers)
    axes, fixed = _grid_axes(grids)
    starts = np.array(prepare_start(potential, x0), order="C")
    if starts.ndim > 2:
        raise ValueError(f"x0 must have shape ({potential.dim},) or (m, {potential.dim}), got {starts.shape}")
    if starts.ndim == 2:
        axes["x0"] = np.arange(len(starts))
    if not axes:
        raise ValueError("sweep needs at least one grid: pass name=array, e.g. lr=np.logspace(-4, -1, 20)")
    shape = tuple(len(v) for v in axes.values())
    n = math.prod(shape)
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    flat = {name: m.reshape(-1) for name, m in zip(axes, mesh)}
    start_index = flat.pop("x0", None)
    x_all = starts[start_index] if start_index is not None else np.broadcast_to(starts, (n, potential.dim))
    seed = fixed.pop("seed", None)
    if seed is not None:
        if "seed" in axes:
            raise ValueError("seed must be either a grid or a fixed value, not both")
        accepts = "seed" in inspect.signature(method).parameters if inspect.isclass(method) or callable(method) else 0
        if not accepts:
            raise ValueError(f"seed was given, but {getattr(method, '__name__', method)} takes no seed")
        # Grid point i gets a stream keyed by (seed, i): independent of chunks and workers.
        flat["seed"] = (seed_keys(seed, (n,)) >> np.uint64(1)).astype(np.int64)

    try:  # validate every grid value here, so that bad input raises instead of failing chunks
        probe = method(**fixed, **flat)
    except (ValueError, TypeError):
        raise
    except Exception:  # a factory that fails on some points: its chunks will report it
        probe = None
    if backend == "numba" and probe is not None:  # refuse what the compiled loop cannot run before any chunk
        select_backend(backend, workers, potential, probe, starts.dtype, min(n, chunk_size) * potential.dim, n_steps)
    chunks = [(lo, min(lo + chunk_size, n)) for lo in range(0, n, chunk_size)]

    def args(lo, hi):
        return (potential, method, fixed, {k: v[lo:hi] for k, v in flat.items()}, np.ascontiguousarray(x_all[lo:hi]),
                n_steps, gtol, backend, workers)

    t0 = time.perf_counter()
    results, errors = [None] * len(chunks), []
    with progress_bar(n, progress=progress, desc=f"sweep {getattr(method, '__name__', 'method')}",
                      unit="point") as bar:
        if executor is None:
            for i, (lo, hi) in enumerate(chunks):
                try:
                    results[i] = _run_chunk(*args(lo, hi))
                except Exception as exc:  # a failing chunk is reported; the others are kept
                    errors.append({"chunk": i, "points": (lo, hi), "error": f"{type(exc).__name__}: {exc}"})
                bar.update(hi - lo)
        else:
            futures = {executor.submit(_run_chunk, *args(lo, hi)): i for i, (lo, hi) in enumerate(chunks)}
            for fut in as_completed(futures):  # in the order they finish, so that the bar moves steadily
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:
                    errors.append({"chunk": i, "points": chunks[i], "error": f"{type(exc).__name__}: {exc}"})
                bar.update(chunks[i][1] - chunks[i][0])
            errors.sort(key=lambda e: e["chunk"])
    seconds = time.perf_counter() - t0

    fields = {"status": np.full(n, "failed", dtype="<U11"), "steps": np.full(n, -1, dtype=np.int64),
              "final_value": np.full(n, np.nan), "grad_norm": np.full(n, np.nan), "rate": np.full(n, np.nan),
              "minimum": np.full(n, -1, dtype=np.int64), "distance": np.full(n, np.nan)}
    counts: dict = {}
    for (lo, hi), res in zip(chunks, results):
        if res is None:
            continue
        for name in fields:
            fields[name][lo:hi] = res[name]
        for key, value in res["counts"].items():
            counts[key] = counts.get(key, 0) + value
    fields = {name: value.reshape(shape) for name, value in fields.items()}
    name = getattr(method, "__name__", type(method).__name__)
    return SweepResult(potential, name, axes, fields, errors, seconds, gtol, n_steps, fixed, counts)
