"""The compiled backend (numba) against the best hand-written numpy, as ratios in one process.

(i)   heavy ball on a 10⁷-dimensional diagonal quadratic, record="scalars": simulate(backend="numba")
      (which also makes the ledger's sums |v|², |∇V|², V in the halving order) against a fused numpy
      loop that makes no reductions at all. Target ≤ 0.65×.
(ii)  gradient descent on 10⁵ Müller–Brown particles, 100 steps, backend="numba", workers=2, against
      the best hand-written numpy columns loop (in-place ufuncs on contiguous x and y columns). Target ≤ 0.55×.
(iii) gradient descent on the 2-D quadratic 6x² + 9y² − 12x − 14y + 3, 10⁴ steps, record="all",
      backend="numba", against a bare numpy loop that records nothing. Target ≤ 0.05×.
(iv)  the compiled loop's first compile (a fresh process and an empty cache) and its load from the
      disk cache (a fresh process), each the whole first simulate call. Targets ≤ 3 s and ≤ 0.5 s.

Each ratio is the median over rounds in which the contestants run in turn (round robin), so a
machine that slows down slows both. Run: python benchmarks/bench_backends.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure the checkout this script lives in, not whichever newtonopt is installed

import newtonopt as no  # noqa: E402
from newtonopt.potentials import MullerBrown, Quadratic  # noqa: E402
from newtonopt.potentials.chemistry import _MB_A, _MB_X, _MB_Y, _MB_a, _MB_b, _MB_c  # noqa: E402


def round_robin(contestants: dict, rounds: int, repeat: int = 1, cold: dict | None = None) -> dict:
    """Median seconds of each contestant, run in turn ``rounds`` times.

    With ``repeat`` > 1 each turn is ``repeat`` calls in a row and counts the fastest (as ``timeit``
    does): the call that follows another contestant's turn is kept apart, in ``cold``, because on the
    virtual machines measured here any call of a few ms made after ~10 ms of other work costs 1–4 ms
    more, whatever it runs (a busy-wait before it is enough), which is the machine, not the code.
    """
    times = {name: [] for name in contestants}
    firsts = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, run in contestants.items():
            turn = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                run()
                turn.append(time.perf_counter() - t0)
            firsts[name].append(turn[0])
            times[name].append(min(turn[1:]) if repeat > 1 else turn[0])
    if cold is not None:
        cold.update({name: float(np.median(t)) for name, t in firsts.items()})
    return {name: float(np.median(t)) for name, t in times.items()}


def heavy_ball(quick: bool) -> None:
    d = 100_000 if quick else 10_000_000
    steps = 5 if quick else 20
    A = np.random.default_rng(0).uniform(1.0, 10.0, d)
    V = Quadratic(A)
    lr, mu = 0.05, 0.9
    x0 = np.ones(d)

    def fused_numpy():  # the step alone, in place, no ledger: v ← μv + ∇V, x ← x − lr·v, ∇V = A·x
        x, v, g, tmp = x0.copy(), np.zeros(d), A * x0, np.empty(d)
        for _ in range(steps):
            np.multiply(v, mu, out=v)
            np.add(v, g, out=v)
            np.multiply(v, lr, out=tmp)
            np.subtract(x, tmp, out=x)
            np.multiply(x, A, out=g)

    def compiled():
        no.simulate(V, no.HeavyBall(lr, mu), x0, steps, record="scalars", backend="numba")

    compiled()  # compile or load, and first-touch the pages
    t = round_robin({"numba": compiled, "numpy": fused_numpy}, 3 if quick else 7)
    print(f"(i) heavy ball, dim {d:.0e}, {steps} steps, record='scalars': numba {1e3 * t['numba'] / steps:.1f} ms/step "
          f"(with |v|², |∇V|², V folded), fused numpy without reductions {1e3 * t['numpy'] / steps:.1f} ms/step: "
          f"ratio {t['numba'] / t['numpy']:.2f}x (target ≤ 0.65x)")


def muller_brown(quick: bool) -> None:
    n = 10_000 if quick else 100_000
    steps = 20 if quick else 100
    lr = 1e-4
    V = MullerBrown()
    x0 = np.column_stack([np.random.default_rng(1).uniform(-1.0, 0.5, n), np.random.default_rng(2).uniform(0, 1.5, n)])
    terms = list(zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X, _MB_Y))

    def numpy_columns():  # the best hand-written loop: contiguous columns, in-place ufuncs, no ledger
        x, y = x0[:, 0].copy(), x0[:, 1].copy()
        gx, gy, dx, dy, e, t1, t2 = (np.empty(n) for _ in range(7))
        for _ in range(steps):
            gx.fill(0.0)
            gy.fill(0.0)
            for A, a, b, c, X, Y in terms:
                np.subtract(x, X, out=dx)
                np.subtract(y, Y, out=dy)
                np.multiply(dx, a, out=t1)
                np.multiply(dy, b, out=t2)
                np.add(t1, t2, out=t1)
                np.multiply(t1, dx, out=e)
                np.multiply(dy, c, out=t2)
                np.multiply(t2, dy, out=t2)
                np.add(e, t2, out=e)
                np.exp(e, out=e)
                np.multiply(e, A, out=e)
                np.multiply(dx, 2.0 * a, out=t1)
                np.multiply(dy, b, out=t2)
                np.add(t1, t2, out=t1)
                np.multiply(t1, e, out=t1)
                np.add(gx, t1, out=gx)
                np.multiply(dy, 2.0 * c, out=t1)
                np.multiply(dx, b, out=t2)
                np.add(t1, t2, out=t1)
                np.multiply(t1, e, out=t1)
                np.add(gy, t1, out=gy)
            np.multiply(gx, lr, out=gx)
            np.subtract(x, gx, out=x)
            np.multiply(gy, lr, out=gy)
            np.subtract(y, gy, out=gy)

    def compiled(workers, record="scalars"):
        return lambda: no.simulate(V, no.GradientDescent(lr), x0, steps, record=record, backend="numba",
                                   workers=workers)

    compiled(2)()
    t = round_robin({"numba2": compiled(2), "numba1": compiled(1), "numba2final": compiled(2, "final"),
                     "numpy": numpy_columns}, 3 if quick else 5)
    per = 1e9 / (n * steps)
    print(f"(ii) Müller–Brown GD, {n:.0e} particles, {steps} steps: numba workers=2 {t['numba2'] * per:.1f} ns, "
          f"workers=1 {t['numba1'] * per:.1f} ns, numpy columns {t['numpy'] * per:.1f} ns per particle-step: "
          f"ratio {t['numba2'] / t['numpy']:.2f}x (target ≤ 0.55x), workers=1 {t['numba1'] / t['numpy']:.2f}x; "
          f"record='final' instead of 'scalars' (no per-step record of 10⁵ particles, which the numpy loop does "
          f"not make either) workers=2 {t['numba2final'] * per:.1f} ns: {t['numba2final'] / t['numpy']:.2f}x")


def tiny(quick: bool) -> None:
    steps = 2_000 if quick else 10_000
    A, b = np.array([12.0, 18.0]), np.array([-12.0, -14.0])
    V = Quadratic(A, b, 3.0)
    lr = 0.01

    def bare_numpy():
        x = np.array([0.5, 0.5])
        for _ in range(steps):
            x = x - lr * (A * x + b)

    def compiled():
        no.simulate(V, no.GradientDescent(lr), [0.5, 0.5], steps, record="all", backend="numba")

    compiled()
    cold: dict = {}
    t = round_robin({"numba": compiled, "numpy": bare_numpy}, 5 if quick else 11, repeat=4, cold=cold)
    print(f"(iii) 2-D GD, {steps} steps, record='all': numba {1e9 * t['numba'] / steps:.0f} ns/step (whole simulate "
          f"call), bare numpy loop {1e9 * t['numpy'] / steps:.0f} ns/step: ratio {t['numba'] / t['numpy']:.3f}x "
          f"(target ≤ 0.05x); each first call after the other's turn: {cold['numba'] / cold['numpy']:.3f}x")


_FIRST_CALL = """
import time, numpy as np, newtonopt as no
from newtonopt.potentials import Quadratic
V = Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0)
t0 = time.perf_counter()
no.simulate(V, no.GradientDescent(0.01), [0.5, 0.5], 10, backend="numba")
print(time.perf_counter() - t0)
"""


def compile_times(quick: bool) -> None:
    def first_call(cache: str) -> float:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as cache:
        cold = first_call(cache)
        warm = [first_call(cache) for _ in range(1 if quick else 3)]
    print(f"(iv) first simulate call with backend='numba' in a fresh process: empty cache (compile) {cold:.2f} s "
          f"(target ≤ 3 s), from the disk cache {np.median(warm):.2f} s (target ≤ 0.5 s); "
          f"cache/compile = {np.median(warm) / cold:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    try:
        import numba  # noqa: F401
    except ImportError:
        print("numba is not installed (pip install 'newtonopt[fast]'): nothing to compare, 0 x")
        return
    heavy_ball(args.quick)
    muller_brown(args.quick)
    tiny(args.quick)
    compile_times(args.quick)


if __name__ == "__main__":
    main()
