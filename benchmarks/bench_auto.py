"""Where ``backend="auto"`` should take the compiled loop: whole ``simulate`` calls, numba against numpy.

For each run below, the median time of ``simulate(..., backend="numba")`` (one thread, the kernel
already compiled) over ``simulate(..., backend="numpy")``, the two run in turn; and which backend
``auto`` picks for it once the kernel is ready. These are the measurements behind
``newtonopt.backends.AUTO_MAX_COORDINATES``: on the library potentials built from + − × ÷ √ (the same
bits on both backends) auto compiles at any size; where exp, sin… enter it keeps numpy beyond that
many coordinates, because there a compiled thread is not faster throughout.

Run: python benchmarks/bench_auto.py [--quick]   (--quick: three small runs)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure the checkout this script lives in

import newtonopt as no  # noqa: E402
from newtonopt import backends  # noqa: E402
from newtonopt.potentials import (  # noqa: E402
    Beale,
    DoubleWell,
    Himmelblau,
    LennardJones,
    MullerBrown,
    Quadratic,
    Rosenbrock,
)


def runs(quick: bool) -> list:
    """(label, potential, method, x0, steps, record) of each run measured."""
    rng = np.random.default_rng(0)
    gaussian_well = no.Potential.from_expression("exp(-x**2 - y**2) * -3 + 0.1*(x**2 + y**2)")
    if quick:
        return [("200 2-D quadratic particles, heavy ball", Quadratic([1.0, 4.0]), no.HeavyBall(0.02, 0.8),
                 rng.uniform(-1, 1, (200, 2)), 50, "all"),
                ("one 10⁴-dim Rosenbrock, GD", Rosenbrock(10**4), no.GradientDescent(1e-4),
                 np.full(10**4, 0.5), 20, "scalars"),
                ("10³ particles of a formula with exp, Adam", gaussian_well, no.Adam(1e-2),
                 rng.uniform(-1, 1, (1000, 2)), 20, "final")]
    dense = rng.standard_normal((500, 500))
    dense = dense @ dense.T / 500 + np.eye(500)
    lj = LennardJones(38)
    return [
        ("one 1000-dim diagonal quadratic, heavy ball", Quadratic(np.linspace(1, 10, 1000)),
         no.HeavyBall(0.05, 0.9), np.ones(1000), 2000, "scalars"),
        ("a 38-atom Lennard-Jones cluster, FIRE", lj, no.FIRE(), lj.initial_positions(seed=0), 300, "all"),
        ("100 Rosenbrock-10 particles, heavy ball", Rosenbrock(10), no.HeavyBall(1e-4, 0.8),
         rng.uniform(-1, 1, (100, 10)), 500, "all"),
        ("one 10⁶-dim Rosenbrock, GD", Rosenbrock(10**6), no.GradientDescent(1e-4), np.full(10**6, 0.5), 20,
         "scalars"),
        ("one dense 500-dim quadratic, heavy ball", Quadratic(dense), no.HeavyBall(0.01, 0.9), np.ones(500), 300,
         "all"),
        ("10⁴ Beale particles, Nesterov", Beale(), no.Nesterov(1e-3, 0.9), rng.uniform(-1, 1, (10**4, 2)), 200,
         "final"),
        ("5000 2-D quadratic particles, heavy ball", Quadratic([1.0, 4.0]), no.HeavyBall(0.02, 0.8),
         rng.uniform(-1, 1, (5000, 2)), 200, "all"),
        ("10⁵ double-well particles, Langevin", DoubleWell(),
         no.Langevin(dt=0.01, friction=1.0, temperature=0.3, seed=0), rng.uniform(-1, 1, (10**5, DoubleWell().dim)),
         50, "scalars"),
        ("10⁴ Himmelblau particles, Adam", Himmelblau(), no.Adam(1e-2), rng.uniform(-4, 4, (10**4, 2)), 200, "all"),
        ("10⁴ Müller–Brown particles, GD", MullerBrown(), no.GradientDescent(1e-4),
         np.column_stack([rng.uniform(-1, 0.5, 10**4), rng.uniform(0, 1.5, 10**4)]), 100, "all"),
        ("10⁴ particles of a formula with exp, Adam", gaussian_well, no.Adam(1e-2), rng.uniform(-1, 1, (10**4, 2)),
         100, "final"),
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        from newtonopt.backends import numba_backend
    except ImportError:
        print("numba is not installed (pip install 'newtonopt[fast]'): nothing to compare, 0 x")
        return
    rounds = 3 if args.quick else 5
    for label, V, method, x0, steps, record in runs(args.quick):
        def run(backend, V=V, method=method, x0=x0, steps=steps, record=record):
            return no.simulate(V, method, x0, steps, record=record, backend=backend)

        run("numba")  # compile or load the kernel
        times = {"numba": [], "numpy": []}
        for _ in range(rounds):
            for backend in times:
                t0 = time.perf_counter()
                run(backend)
                times[backend].append(time.perf_counter() - t0)
        ratio = statistics.median(times["numba"]) / statistics.median(times["numpy"])
        picked = backends.select("auto", 1, V, method, np.float64, int(np.size(x0)), steps)
        print(f"{label}: numba/numpy {ratio:.2f}x ({1e3 * statistics.median(times['numpy']):.0f} ms on numpy); "
              f"auto picks {'numba' if picked is numba_backend else 'numpy'}")


if __name__ == "__main__":
    main()
