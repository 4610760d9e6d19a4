"""The compiled backend's compile and cache-load times, one (method, potential) pair at a time.

The compiled loop is one kernel per pair (numba specializes it on the classes of the method's rule
tuple and of the potential's parameter tuple, see newtonopt/backends/numba_loops.py). For each pair
below, in a fresh process with an empty ``NUMBA_CACHE_DIR`` (nothing compiled, not even the shared
helpers), the CPU time (``time.process_time``) of the first ``simulate(..., backend="numba")`` call,
then in another fresh process the same call loading the kernel from that disk cache; and, apart, the
first compile on a cache where another method already ran on the same potential (what a second pair
costs on a machine). All count the import of the compiled backend (newtonopt.backends.numba_backend:
registering the kernels, loading the small eagerly compiled helpers); numba's and newtonopt's own
imports are timed apart and not counted.
Targets: first compile ≤ 3 s, cached load ≤ 0.5 s.

Run: python benchmarks/bench_compile.py [--quick]   (--quick: two pairs, one thread)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh process: argv = method, potential, workers. Prints the CPU seconds as JSON.
_CHILD = r"""
import json, sys, time
t0 = time.process_time()
import numba
t1 = time.process_time()
import numpy as np
import newtonopt as no
from newtonopt.potentials import LennardJones, Quadratic, Rosenbrock
t2 = time.process_time()
from newtonopt.backends import numba_backend  # noqa: F401  (the compiled backend's own import)
t2b = time.process_time()
method, potential, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
V = {"Quadratic": lambda: Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0), "Rosenbrock": lambda: Rosenbrock(2),
     "LennardJones": lambda: LennardJones(4),
     "formula": lambda: no.Potential.from_expression("x**2 + 3*y**2 - x*y + sqrt(1 + x*x)")}[potential]()
M = {"GradientDescent": lambda: no.GradientDescent(1e-3), "HeavyBall": lambda: no.HeavyBall(1e-3, 0.9),
     "Adam": lambda: no.Adam(1e-3), "FIRE": lambda: no.FIRE(dt=0.01)}[method]()
x0 = np.zeros(V.dim) if potential != "LennardJones" else np.array(
    [0, 0, 0, 1.1, 0, 0, 0, 1.1, 0, 0, 0, 1.1], dtype=float)
x0 = x0 + 0.05 * np.cos(np.arange(V.dim))
if workers > 1:
    x0 = np.stack([x0, x0 + 0.01, x0 - 0.01, x0 + 0.02])
t3 = time.process_time()
no.simulate(V, M, x0, 10, backend="numba", workers=workers)
t4 = time.process_time()
print(json.dumps({"numba_import": t1 - t0, "newtonopt_import": t2 - t1, "backend_import": t2b - t2,
                  "first_call": t4 - t3}))
"""

# (workers=2 runs the same kernel on two chunks of particles: its first call compiles nothing more.)
PAIRS = [("GradientDescent", "Quadratic", 1), ("HeavyBall", "Rosenbrock", 1), ("Adam", "LennardJones", 1),
         ("FIRE", "formula", 1), ("HeavyBall", "Rosenbrock", 2)]


def child(cache: str, method: str, potential: str, workers: int) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _CHILD, method, potential, str(workers)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        import numba  # noqa: F401
    except ImportError:
        print("numba is not installed (pip install 'newtonopt[fast]'): nothing to compile, 0 x")
        return
    pairs = PAIRS[:2] if args.quick else PAIRS
    for method, potential, workers in pairs:
        with tempfile.TemporaryDirectory() as cache:
            cold = child(cache, method, potential, workers)
            warm = child(cache, method, potential, workers)
        # The same pair on a machine that has run another method on this potential: the helpers they share
        # (the fold, the potential's evaluator, a formula's tape interpreter) are on disk, this pair's kernel
        # and its method's rule are compiled.
        other = "HeavyBall" if method == "GradientDescent" else "GradientDescent"
        with tempfile.TemporaryDirectory() as cache:
            child(cache, other, potential, 1)
            after = child(cache, method, potential, workers)
        first = cold["backend_import"] + cold["first_call"]
        cached = warm["backend_import"] + warm["first_call"]
        second = after["backend_import"] + after["first_call"]
        print(f"{method} × {potential} (workers={workers}): first compile {first:.2f} s CPU "
              f"(target ≤ 3 s; {second:.2f} s after {other} on {potential}), cached load {cached:.2f} s "
              f"(target ≤ 0.5 s; of which the backend's import {warm['backend_import']:.2f} s), cached/first "
              f"{cached / first:.3f}x; not counted: numba's import {warm['numba_import']:.2f} s, newtonopt's "
              f"{warm['newtonopt_import']:.2f} s")


if __name__ == "__main__":
    main()
