"""Scale benchmarks: a 60 × 60 (lr, momentum) sweep in-process against a 2-process pool, and float32.

(a) heavy ball on a 100-dimensional quadratic (κ = 100), 60 × 60 grid, 1,500 steps, gtol 1e-6: wall time
    in this process against concurrent.futures.ProcessPoolExecutor(2) (the speed-up on 2 cores).
(b) heavy ball on a 10⁷-dimensional diagonal quadratic, record="scalars": float32 against float64.
(c) the issue's sweep: heavy ball on the 2-D quadratic 6x² + 9y² − 12x − 14y + 3, a 60 × 60 (lr, momentum)
    grid, 1,000 steps each (no tolerance), in this process: backend="numba" (one thread, then two)
    against backend="numpy" (each grid a vectorized ensemble either way); medians over rounds in which
    the contenders run back to back, after one untimed compile.
The run-loop ratios against hand-written numpy are in bench_foundation.py.

Run: python benchmarks/bench_scale.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import newtonopt as no
from newtonopt.potentials import Quadratic


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    q = args.quick
    n_grid, dim = (12, 20) if q else (60, 100)
    V = Quadratic(np.logspace(0, 2, dim))
    grid = {"lr": np.logspace(-3.5, np.log10(4.4 / 100), n_grid), "momentum": np.linspace(0, 0.98, n_grid)}
    t0 = time.perf_counter()
    inproc = no.sweep(V, no.HeavyBall, np.ones(dim), n_steps=1500, gtol=1e-6, **grid)
    t_in = time.perf_counter() - t0
    with ProcessPoolExecutor(max_workers=2) as pool:
        pool.submit(int).result()  # start the workers before timing
        t0 = time.perf_counter()
        pooled = no.sweep(V, no.HeavyBall, np.ones(dim), n_steps=1500, gtol=1e-6, executor=pool,
                          chunk_size=n_grid * n_grid // 2, **grid)
        t_pool = time.perf_counter() - t0
    same = np.array_equal(inproc.steps, pooled.steps) and np.array_equal(inproc.final_value, pooled.final_value)
    print(f"(a) {n_grid}×{n_grid} heavy-ball sweep, dim {dim}: in-process {t_in:.2f} s, ProcessPoolExecutor(2) "
          f"{t_pool:.2f} s, speed-up {t_in / t_pool:.2f}x, identical results: {same}")
    d = 10_000 if q else 10_000_000
    a = np.random.default_rng(0).uniform(1, 10, d)
    V = Quadratic(a)
    times = {"float64": np.inf, "float32": np.inf}
    no.simulate(V, no.HeavyBall(0.05, 0.9), np.ones(d), 2, record="scalars")  # warm up: first-touch page faults
    for _ in range(1 if q else 3):  # interleaved, best of
        for dtype in (np.float64, np.float32):
            t0 = time.perf_counter()
            traj = no.simulate(V, no.HeavyBall(0.05, 0.9), np.ones(d, dtype=dtype), 3 if q else 10, record="scalars")
            times[np.dtype(dtype).name] = min(times[np.dtype(dtype).name], time.perf_counter() - t0)
            assert traj.dissipated.dtype == np.float64
    print(f"(b) heavy ball, dim {d:.0e}: float64 {times['float64']:.2f} s, float32 {times['float32']:.2f} s, "
          f"float32/float64 = {times['float32'] / times['float64']:.2f}")

    compiled_sweep(q)


def compiled_sweep(quick: bool) -> None:
    try:
        import numba  # noqa: F401
    except ImportError:
        print("(c) skipped: numba is not installed (pip install 'newtonopt[fast]')")
        return
    n_grid, steps, rounds = (20, 200, 3) if quick else (60, 1000, 5)
    V = Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0)
    grid = {"lr": np.linspace(0.001, 0.2, n_grid), "momentum": np.linspace(0.0, 0.95, n_grid)}

    def run(backend, workers=None):
        return no.sweep(V, no.HeavyBall, [0.5, 0.5], n_steps=steps, gtol=None, backend=backend, workers=workers,
                        **grid)

    reference = run("numpy")
    same = all(np.array_equal(getattr(run("numba", w), f), getattr(reference, f), equal_nan=f != "status")
               for w in (1, 2) for f in ("final_value", "grad_norm", "status"))  # also compiles, untimed
    times = {"numpy": [], "numba1": [], "numba2": []}
    for _ in range(rounds):
        for name in times:
            t0 = time.perf_counter()
            run("numpy") if name == "numpy" else run("numba", int(name[-1]))
            times[name].append(time.perf_counter() - t0)
    med = {name: float(np.median(t)) for name, t in times.items()}
    print(f"(c) {n_grid}×{n_grid} heavy-ball sweep, 2-D quadratic, {steps} steps: numpy {med['numpy']:.3f} s, "
          f"numba {med['numba1']:.3f} s (workers=2: {med['numba2']:.3f} s): numba "
          f"{med['numpy'] / med['numba1']:.1f}x faster ({med['numpy'] / med['numba2']:.1f}x on 2 threads; "
          f"target >= 20x), identical results: {same}")


if __name__ == "__main__":
    main()
