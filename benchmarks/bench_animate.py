"""plot.animate: a 120-frame GIF of two Rosenbrock runs, the old way against the new, as a ratio.

The old way (reproduced below as it stood before the rewrite) let matplotlib's FuncAnimation redraw the
whole figure for every frame — the filled and line contours, axes, ticks and legend — on a constrained
layout recomputed each time, and handed each frame to PillowWriter, which builds a palette per frame. The
new plot.animate draws the still parts once and per frame only the moving lines, markers, the step counter
and the energy ledger (a second panel the old one did not have: it draws more and is still faster), then
maps every frame onto one palette.

Both run after a warm-up call (fonts, caches), in turn (round robin), and the medians are compared.
Run: python benchmarks/bench_animate.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # measure the checkout this script lives in, not whichever newtonopt is installed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import newtonopt as no  # noqa: E402
from newtonopt import plot  # noqa: E402
from newtonopt._draw import PALETTE, as_mapping, contour  # noqa: E402
from newtonopt.potentials import Rosenbrock  # noqa: E402


def old_animate(potential, trajectories, path, *, fps=20, max_frames=120, bounds=None, dpi=90):
    """plot.animate before the rewrite (GIF branch), unchanged."""
    from matplotlib import animation

    trajs = {k: v for k, v in as_mapping(trajectories).items() if v.x is not None}
    n = max(t.x.shape[0] for t in trajs.values())
    frames = np.unique(np.linspace(0, n - 1, min(n, max_frames)).astype(int))
    ax = contour(potential, None, bounds=bounds, colorbar=False)
    fig = ax.figure
    lines, heads = [], []
    for i, label in enumerate(trajs):
        color = PALETTE[i % len(PALETTE)]
        (line,) = ax.plot([], [], color=color, lw=1.8, label=label, zorder=6)
        (head,) = ax.plot([], [], "o", color=color, markeredgecolor="black", markersize=8, zorder=7)
        lines.append(line)
        heads.append(head)
    ax.legend(fontsize=9, loc="best")

    def draw(frame):
        for (t, line, head) in zip(trajs.values(), lines, heads):
            xs = t.x.reshape(t.x.shape[0], -1, 2)
            k = min(frame, len(xs) - 1)
            line.set_data(xs[: k + 1, 0, 0], xs[: k + 1, 0, 1])
            head.set_data(xs[k, :, 0], xs[k, :, 1])
        ax.set_title(f"{potential.name}: step {frame}")
        return lines + heads

    anim = animation.FuncAnimation(fig, draw, frames=frames, blit=False)
    anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    frames = 12 if args.quick else 120
    rounds = 1 if args.quick else 3
    V = Rosenbrock()
    runs = {"gradient descent": no.simulate(V, no.GradientDescent(1e-3), [-1.5, 2.0], 3000),
            "heavy ball": no.simulate(V, no.HeavyBall(1e-3, 0.9), [-1.5, 2.0], 3000)}
    with tempfile.TemporaryDirectory() as tmp:
        gif = Path(tmp) / "bench.gif"
        plot.animate(V, runs, gif, max_frames=2)  # warm-up: fonts, mathtext, caches
        old_animate(V, runs, gif, max_frames=2)
        times = {"old": [], "new": []}
        for _ in range(rounds):
            t0 = time.perf_counter()
            old_animate(V, runs, gif, max_frames=frames)
            times["old"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            plot.animate(V, runs, gif, max_frames=frames)
            times["new"].append(time.perf_counter() - t0)
    old, new = (float(np.median(times[k])) for k in ("old", "new"))
    print(f"{frames}-frame GIF, Rosenbrock, two 3000-step runs, median of {rounds}:")
    print(f"  old (FuncAnimation + PillowWriter, whole figure per frame): {old:7.2f} s")
    print(f"  new (still parts once, blitted moving parts, one palette):  {new:7.2f} s  (with the ledger panel)")
    print(f"  new / old = {new / old:.3f}x   (old / new = {old / new:.1f}x faster)")


if __name__ == "__main__":
    main()
