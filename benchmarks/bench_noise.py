"""Minibatch SGD on an MLP: samples per second through newtonopt.simulate against the same loop by hand.

Both train a (4, 16, 3) tanh network on standardized Iris features (replicated to 3,000 samples so that an
epoch is long) with batches of 32: the hand loop draws the same kind of batches (a permutation per epoch),
runs the same forward and backward pass (the MLP's own, so that only the loop around it differs) and
updates the flat parameter vector in place.

Run: python benchmarks/bench_noise.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import newtonopt as no
from newtonopt.datasets import load_iris, standardize
from newtonopt.potentials import MLP


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_steps = 200 if args.quick else 3000
    repeats = 1 if args.quick else 5
    X, y, _, _ = load_iris()
    X = standardize(np.tile(X, (20, 1)))
    y = np.tile(y, 20)
    net = MLP(X, y, (4, 16, 3), loss="cross_entropy", seed=0)
    theta0 = net.initial_parameters()
    batch, lr = 32, 0.05

    def ours():
        no.simulate(net.minibatch(batch, seed=0), no.GradientDescent(lr), theta0, n_steps, record="scalars")

    def hand():
        rng = np.random.default_rng(0)
        theta = theta0.copy()
        per_epoch = len(X) // batch
        order, pos = None, per_epoch
        for _ in range(n_steps + 1):
            if pos >= per_epoch:
                order = np.argsort(rng.random(len(X)), kind="stable")
                pos = 0
            idx = order[pos * batch:(pos + 1) * batch]
            pos += 1
            _, grad = net._one(theta, X[idx], y[idx])
            theta -= lr * grad

    t = {"ours": np.inf, "hand": np.inf}
    for _ in range(repeats):
        for k, fn in (("ours", ours), ("hand", hand)):
            t0 = time.perf_counter()
            fn()
            t[k] = min(t[k], time.perf_counter() - t0)
    samples = (n_steps + 1) * batch
    print(f"minibatch SGD, MLP (4, 16, 3), batch {batch}, {n_steps} steps")
    print(f"    newtonopt {samples / t['ours']:10.0f} samples/s   hand-written loop "
          f"{samples / t['hand']:10.0f} samples/s   time ratio {t['ours'] / t['hand']:.3f}x  (target <= 1.2x)")


if __name__ == "__main__":
    main()
