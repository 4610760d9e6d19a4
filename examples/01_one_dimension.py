"""Gradient descent in one dimension: V(x) = 6x² − 12x + 3 from x0 = −0.9 with η = 0.03.
=====================================================================================

The derivative is V'(x) = 12x − 12, so each step is x⁺ = x − 0.03·(12x − 12) = 0.64·x + 0.36:
the distance to the minimum x* = 1 shrinks by |1 − 0.03·12| = 0.64 per step. The first step
goes from −0.9 to −0.216.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no

out, small = setup(__doc__)
V = no.potentials.Quadratic([12.0], [-12.0], 3.0, name="V(x) = 6x² − 12x + 3")
traj = no.simulate(V, no.GradientDescent(lr=0.03), -0.9, n_steps=200, gtol=1e-10)

print(f"{'step':>4}  {'x':>12}  {'V(x)':>12}  {'V′(x)':>12}")
for k in range(min(12, traj.n_records)):
    x = traj.x[k, 0]
    print(f"{k:>4}  {x:>12.6f}  {traj.potential_energy[k]:>12.6f}  {12 * x - 12:>12.6f}")
print(f"... {traj.status} after {traj.n_steps} steps at x = {traj.x_final[0]:.10f} (the minimum is x = 1, V = −3)")

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
grid = np.linspace(-1.2, 1.6, 300)
left.plot(grid, 6 * grid**2 - 12 * grid + 3, color="black", lw=1.8, label="V(x)")
xs = traj.x[:10, 0]
vs = traj.potential_energy[:10]
left.plot(xs, vs, "o", color="#D55E00", markeredgecolor="black", zorder=5, label="iterates")
for k in range(9):
    left.annotate("", xy=(xs[k + 1], vs[k + 1]), xytext=(xs[k], vs[k]),
                  arrowprops={"arrowstyle": "->", "color": "#D55E00", "lw": 1.3})
left.annotate(f"x₀ = {xs[0]}", (xs[0], vs[0]), textcoords="offset points", xytext=(8, 0))
left.annotate(f"x₁ = {xs[1]:.3f}", (xs[1], vs[1]), textcoords="offset points", xytext=(8, 4))
left.set_xlabel("x")
left.set_ylabel("V(x)")
left.set_title("steps on the curve (η = 0.03)")
left.legend()
err = np.abs(traj.x[:, 0] - 1.0)
right.semilogy(traj.step, err, "o-", markersize=3, label="|x − 1|")
right.semilogy(traj.step, err[0] * 0.64 ** traj.step, "--", color="gray", label="1.9 · 0.64ᵏ")
right.set_xlabel("step k")
right.set_ylabel("distance to the minimum")
right.set_title("linear convergence at rate |1 − ηλ| = 0.64")
right.legend()
save(fig, out, "01_one_dimension.png")
