"""Execution backends: who takes the steps of a run.

``numpy`` is the readable reference (the methods' own ``step``); ``numba`` compiles the whole step
loop (:mod:`newtonopt.backends.numba_loops`) for the methods and potentials it knows, and splits an
ensemble's particles over ``workers`` threads. Both give the same bits on potentials built from
+ − × ÷ √; where exp, log, sin… enter (Müller–Brown, Rastrigin, formulas that call them) numba's
are the C library's and numpy's its own SIMD kernels, which can differ in the last bit.

numba is optional (``pip install 'newtonopt[fast]'``): nothing here imports it until the compiled
backend is asked for.
"""

from __future__ import annotations

from .._validation import _describe, as_int

BACKENDS = ("auto", "numpy", "numba")
INSTALL = "pip install 'newtonopt[fast]'"

#: ``auto`` compiles from scratch only when numpy would take longer than this (seconds, a rough estimate):
#: a first compile of a (method, potential) pair's loop costs a few seconds, a load from the disk cache well
#: under one (``python benchmarks/bench_compile.py``).
COLD_COMPILE_SECONDS = 10.0
WARM_LOAD_SECONDS = 1.0
#: ``auto`` picks the compiled loop at any size for the library potentials built from + − × ÷ √
#: (``numba_backend.EXACT``: the same bits as numpy), and for the others only for runs this small
#: (coordinates of all particles). Measured by ``python benchmarks/bench_auto.py`` (whole simulate calls
#: against backend="numpy", one thread; ranges over two runs): for the former 0.03–0.04x (one 1000-dim
#: quadratic), 0.05–0.06x (LJ38, FIRE), 0.09–0.18x (100 Rosenbrock-10 particles), 0.24–0.27x (one
#: 10⁶-dim Rosenbrock), 0.33–0.34x (a dense 500-dim quadratic), 0.36–0.38x (10⁴ Beale particles),
#: 0.46–0.54x (5000 2-D quadratic particles recording everything), 0.50x (10⁵ double-well Langevin
#: particles), 0.61–0.66x (10⁴ Himmelblau particles, Adam); for the others 0.54–0.59x for 10⁴
#: Müller–Brown particles but 1.24–1.41x for 10⁴ particles of a formula with exp under Adam (the
#: formula's tape and the C library's exp against numpy's SIMD loops).
AUTO_MAX_COORDINATES = 64


def check_backend(backend, workers):
    """Validate ``backend`` and ``workers``; returns ``(backend, workers)`` with workers an int ≥ 1."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {_describe(backend)}")
    workers = 1 if workers is None else as_int("workers", workers, low=1)
    if backend == "numpy" and workers > 1:
        raise ValueError(f"workers={workers} needs backend='numba' (or 'auto'): the numpy backend runs on one "
                         "thread")
    return backend, workers


def _numba_backend():
    """The compiled backend's module, or None when numba cannot be imported."""
    try:
        import numba  # noqa: F401  (a failing import, even after a first success, means no numba)
    except ImportError:
        return None
    from . import numba_backend
    return numba_backend


def _numpy_seconds(n_coordinates: int, n_steps: int) -> float:
    """A rough lower bound of the numpy backend's time: ~1.5 µs a step plus ~2 ns a coordinate-step."""
    return n_steps * (1.5e-6 + 2e-9 * n_coordinates)


def select(backend: str, workers: int, potential, integrator, x_dtype, n_coordinates: int, n_steps: int):
    """The compiled backend's module when it should run this pair, else None (numpy).

    ``numba`` insists: a missing numba is an ImportError naming the extra, a pair it cannot compile a
    ValueError saying why. ``auto`` quietly uses numpy then, for a large run of a potential that calls
    exp, sin… (``AUTO_MAX_COORDINATES``), and when the loop is not compiled yet and the run is too
    short to repay the compile (see ``COLD_COMPILE_SECONDS``).
    """
    if backend == "numpy":
        return None
    module = _numba_backend()
    if module is None:
        if backend == "numba":
            raise ImportError(f"backend='numba' needs numba, which is not installed: {INSTALL}")
        return None
    why = module.unsupported(potential, integrator, x_dtype)
    if why is not None:
        if backend == "numba":
            raise ValueError(f"backend='numba' cannot run this: {why}; use backend='numpy' or 'auto'")
        return None
    if backend == "auto":
        if n_coordinates > AUTO_MAX_COORDINATES and type(potential) not in module.EXACT:
            return None
        seconds = _numpy_seconds(n_coordinates, n_steps)
        if not module.kernel_compiled(integrator, potential, workers):
            cached = module.kernel_cached(integrator, potential, workers)
            limit = WARM_LOAD_SECONDS if cached else COLD_COMPILE_SECONDS
            if seconds < limit:
                return None
    return module
