"""Comparison-lab benchmarks: per-step overhead against torch.optim, and per-evaluation overhead of scipy.

(a) Adam and heavy ball, 2-D Rosenbrock, 5,000 steps: µs per step for newtonopt.simulate, a hand-written
    numpy loop, and torch.optim (gradient computed by the same numpy function and handed to torch).
(b) the same on a 10⁷-dimensional diagonal quadratic, 10 steps, record="scalars".
(c) the optimizer's own overhead per gradient evaluation on Rosenbrock: (wall time − time spent in the
    potential) / evaluations, for scipy's CG and BFGS against newtonopt's heavy ball.

Run: python benchmarks/bench_comparison.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import newtonopt as no
from newtonopt.potentials import Quadratic, Rosenbrock

try:
    import torch
except ImportError:  # the torch columns are skipped
    torch = None


def best(fn, repeats):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def torch_loop(V, x0, n, opt_name, scalars=False, **kw):
    p = torch.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    opt = getattr(torch.optim, opt_name)([p], **kw)
    p.grad = torch.zeros_like(p)
    g = p.grad.numpy()  # shares memory with p.grad
    x = p.detach().numpy()
    record = []
    for _ in range(n):
        V._gradient(x, g)  # the same numpy gradient, written straight into torch's grad buffer
        opt.step()
        if scalars:  # the reductions newtonopt's ledger makes per step: x·∇V, |∇V|², |buffer|²
            state = next(iter(opt.state.values()))
            buf = state.get("momentum_buffer", state.get("exp_avg"))
            with torch.no_grad():
                record.append((float(torch.dot(p, p.grad)), float(torch.dot(p.grad, p.grad)),
                               float(torch.dot(buf, buf))))


def hand_heavy_ball(V, x0, n, lr, mu):
    x = np.array(x0, dtype=np.float64)
    v = np.zeros_like(x)
    g = np.empty_like(x)
    tmp = np.empty_like(x)
    for _ in range(n):
        V._gradient(x, g)
        np.multiply(v, mu, out=v)
        np.add(v, g, out=v)
        np.multiply(v, lr, out=tmp)
        np.subtract(x, tmp, out=x)


def hand_adam(V, x0, n, lr, b1=0.9, b2=0.999, eps=1e-8):
    x = np.array(x0, dtype=np.float64)
    m, v, g, tmp = (np.zeros_like(x) for _ in range(4))
    for k in range(1, n + 1):
        V._gradient(x, g)
        np.subtract(g, m, out=tmp)
        np.multiply(tmp, 1 - b1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(v, b2, out=v)
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, 1 - b2, out=tmp)
        np.add(v, tmp, out=v)
        np.sqrt(v, out=tmp)
        np.divide(tmp, (1 - b2**k) ** 0.5, out=tmp)
        np.add(tmp, eps, out=tmp)
        np.divide(m, tmp, out=tmp)
        np.multiply(tmp, -lr / (1 - b1**k), out=tmp)
        np.add(x, tmp, out=x)


def per_step(V, x0, n, repeats, record, label):
    rows = {}
    cases = {
        "heavy ball": (no.HeavyBall(1e-4, 0.9), lambda: hand_heavy_ball(V, x0, n, 1e-4, 0.9),
                       ("SGD", {"lr": 1e-4, "momentum": 0.9})),
        "Adam": (no.Adam(1e-3), lambda: hand_adam(V, x0, n, 1e-3), ("Adam", {"lr": 1e-3})),
    }
    for name, (integ, hand, (tname, tkw)) in cases.items():
        ours = best(lambda integ=integ: no.simulate(V, integ, x0, n, record=record), repeats) / n
        ref = best(hand, repeats) / n
        tt = (best(lambda tname=tname, tkw=tkw: torch_loop(V, x0, n, tname, **tkw), repeats) / n
              if torch is not None else None)
        ts = (best(lambda tname=tname, tkw=tkw: torch_loop(V, x0, n, tname, scalars=True, **tkw), repeats) / n
              if torch is not None and record == "scalars" else None)
        rows[name] = (ours, ref, tt, ts)
    print(f"{label}")
    for name, (ours, ref, tt, ts) in rows.items():
        line = (f"    {name:<10} newtonopt {ours * 1e6:10.1f} µs/step   bare hand numpy {ref * 1e6:10.1f} µs/step "
                f"({ours / ref:.2f}x)")
        if tt is not None:
            line += f"   torch.optim {tt * 1e6:10.1f} µs/step ({ours / tt:.2f}x)"
        if ts is not None:
            line += f"   torch.optim + the same per-step reductions {ts * 1e6:10.1f} µs/step ({ours / ts:.2f}x)"
        print(line)


def overhead_per_evaluation(repeats):
    V = Rosenbrock()
    x0 = np.array([-1.2, 1.0])
    n_eval = 20_000
    xs = np.random.default_rng(0).standard_normal((n_eval, 2))
    g = np.empty(2)

    def cost_of_evaluations():
        for x in xs:
            V._value_and_gradient(x, g)

    per_eval = best(cost_of_evaluations, repeats) / n_eval
    print("(c) optimizer overhead per gradient evaluation on Rosenbrock (wall time minus time in the potential)")
    print(f"    one value-and-gradient evaluation of the potential: {per_eval * 1e6:.2f} µs")
    for label, run in (("scipy CG", lambda: no.scipy_minimize(V, x0, "CG", gtol=1e-8)),
                       ("scipy BFGS", lambda: no.scipy_minimize(V, x0, "BFGS", gtol=1e-8)),
                       ("heavy ball", lambda: no.simulate(V, no.HeavyBall(1e-3, 0.9), x0, 20_000, gtol=1e-8)),
                       ("heavy ball, record='final'", lambda: no.simulate(V, no.HeavyBall(1e-3, 0.9), x0, 20_000,
                                                                          gtol=1e-8, record="final"))):
        traj = run()
        wall = best(run, repeats)
        evals = traj.counts["gradient"]
        print(f"    {label:<27} {evals:>6} evaluations, {wall * 1e3:8.1f} ms: "
              f"{(wall / evals - per_eval) * 1e6:7.2f} µs of overhead per evaluation")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    q = args.quick
    per_step(Rosenbrock(), np.array([-1.2, 1.0]), 200 if q else 5000, 1 if q else 5, "all",
             "(a) 2-D Rosenbrock, record='all'")
    dim = 10_000 if q else 10_000_000
    V = Quadratic(np.random.default_rng(0).uniform(1, 10, dim))
    per_step(V, np.ones(dim), 3 if q else 10, 1 if q else 3, "scalars", f"(b) diagonal quadratic, dim = {dim:.0e}, "
             "record='scalars'")
    overhead_per_evaluation(1 if q else 3)


if __name__ == "__main__":
    main()
