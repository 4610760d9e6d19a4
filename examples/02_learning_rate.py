"""The learning rate is a time step: too small, right, too large.
==============================================================

On V(x) = 6x² − 12x + 3 the curvature is λ = V'' = 12, so each gradient-descent step multiplies the
distance to the minimum by (1 − 12η). That factor is small and positive for a small η (slow creep),
zero at η = 1/λ (one step), negative for 1/λ < η < 2/λ (overshoot, oscillating convergence) and
below −1 past the stability limit η = 2/λ = 0.1667: divergence.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot

out, small = setup(__doc__)
V = no.potentials.Quadratic([12.0], [-12.0], 3.0, name="V(x) = 6x² − 12x + 3")
settings = {"too small (η = 0.01)": 0.01, "right (η = 0.07)": 0.07, "overshoot (η = 0.15)": 0.15,
            "too large (η = 0.18)": 0.18}
colors = ["#0072B2", "#009E73", "#E69F00", "#D55E00"]
n = 300  # enough for the small step to converge and the large one to be flagged as diverged

print(f"stability limit 2/λ = {2 / 12:.4f}")
print(f"{'setting':<22} {'factor 1 − 12η':>15} {'status':>10} {'steps':>6} {'final |x − 1|':>14}")
runs = {}
for label, lr in settings.items():
    traj = no.simulate(V, no.GradientDescent(lr), -0.9, n_steps=n, gtol=1e-8)
    runs[label] = traj
    print(f"{label:<22} {1 - 12 * lr:>15.3f} {traj.status:>10} {traj.n_steps:>6} "
          f"{abs(traj.x_final[0] - 1):>14.3e}")

fig, (left, right) = plt.subplots(1, 2, figsize=(12.5, 4.8), layout="constrained")
grid = np.linspace(-1.6, 3.6, 400)
left.plot(grid, 6 * grid**2 - 12 * grid + 3, color="black", lw=1.5)
for (label, traj), color in zip(runs.items(), colors):
    xs = traj.x[:8, 0]
    left.plot(xs, 6 * xs**2 - 12 * xs + 3, "o-", color=color, lw=1.2, markersize=5, label=label)
left.set_ylim(-5, 40)
left.set_xlim(-1.6, 3.6)
left.set_xlabel("x")
left.set_ylabel("V(x)")
left.set_title("the first steps")
plot.legend_below(left, ncol=2)  # under the panel: the large steps cross the whole plot
for (label, traj), color in zip(runs.items(), colors):
    right.semilogy(traj.step, np.abs(traj.x[:, 0] - 1), "o-", color=color, markersize=3,
                   label=label)
right.set_xlim(0, 60)
right.set_ylim(1e-12, 1e5)
right.set_xlabel("step k")
right.set_ylabel("|x − 1|")
right.set_title("distance to the minimum: rate |1 − 12η| per step")
right.legend(fontsize=9)
save(fig, out, "02_learning_rate.png")
