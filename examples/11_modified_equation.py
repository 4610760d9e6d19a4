"""Implicit gradient regularization: gradient descent follows a modified flow to second order.
===========================================================================================

Barrett & Dherin (2021): gradient descent with learning rate lr is explicit Euler of the gradient flow
ẋ = −∇V (step k at t = k·lr), so at a fixed time T it is O(lr) away from that flow; but it is O(lr²)
away from the gradient flow of the modified potential Ṽ = V + (lr/4)·|∇V|², which matches one more
term of its Taylor expansion (docs/theory.md §8). On Rosenbrock's valley from (−1.2, 1), integrated to
T = 3 by scipy (DOP853, rtol 1e-10): the log–log slopes of the two errors are 1 and 2.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt.flows import gradient_flow

out, small = setup(__doc__)
V = no.potentials.Rosenbrock()
x0, T = np.array([-1.2, 1.0]), 3.0
lrs = 4e-4 / 2.0 ** np.arange(3 if small else 5)

plain, modified = [], []
reference = gradient_flow(V, x0, [0.0, T]).x[-1]
print(f"Rosenbrock from {x0.tolist()}, gradient flow at T = {T:g}: x(T) = {np.round(reference, 6).tolist()}")
print(f"{'lr':>10} {'steps':>7} {'|GD − flow|':>13} {'|GD − modified flow|':>21}")
for lr in lrs:
    steps = int(round(T / lr))
    gd = no.simulate(V, no.GradientDescent(lr), x0, n_steps=steps, record="final")
    plain.append(np.linalg.norm(gd.x_final - reference))
    modified.append(np.linalg.norm(gd.x_final - gradient_flow(V, x0, [0.0, T], modified=lr).x[-1]))
    print(f"{lr:>10.3g} {steps:>7} {plain[-1]:>13.3e} {modified[-1]:>21.3e}")
slope_plain = np.polyfit(np.log(lrs), np.log(plain), 1)[0]
slope_modified = np.polyfit(np.log(lrs), np.log(modified), 1)[0]
print(f"log–log slopes: against the flow {slope_plain:.2f} (Barrett & Dherin: 1), "
      f"against the modified flow {slope_modified:.2f} (2)")

# The error along the way, for one learning rate: recorded GD against both flows at t = k·lr.
lr = lrs[0]
steps = int(round(T / lr))
every = steps // 300
run = no.simulate(V, no.GradientDescent(lr), x0, n_steps=steps, record="all", every=every)
t = run.step * lr
along_plain = np.linalg.norm(run.x - gradient_flow(V, x0, t).x, axis=1)
along_modified = np.linalg.norm(run.x - gradient_flow(V, x0, t, modified=lr).x, axis=1)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
ax0.semilogy(t[1:], along_plain[1:], color="#D55E00", lw=2, label="against the gradient flow  ẋ = −∇V")
ax0.semilogy(t[1:], along_modified[1:], color="#0072B2", lw=2,
             label="against the modified flow  ẋ = −∇(V + (lr/4)|∇V|²)")
ax0.set_xlabel("time t = k·lr")
ax0.set_ylabel("distance |x_k − x(t_k)|")
ax0.set_title(f"Gradient descent on Rosenbrock, lr = {lr:g}")
ax0.legend(fontsize=9, loc="upper right")
ax0.set_xlim(0, T)
ax0.set_ylim(top=2 * along_plain.max())

ax1.loglog(lrs, plain, "o-", color="#D55E00", lw=2, ms=7, label=f"against the flow (slope {slope_plain:.2f})")
ax1.loglog(lrs, modified, "s-", color="#0072B2", lw=2, ms=7,
           label=f"against the modified flow (slope {slope_modified:.2f})")
for order, err, shift in ((1, plain, 2.5), (2, modified, 2.5)):
    guide = err[0] * shift * (lrs / lrs[0]) ** order
    ax1.loglog(lrs, guide, "--", color="0.55", lw=1)
    mid = len(lrs) // 2
    ax1.annotate(f"slope {order}", (lrs[mid], guide[mid]), textcoords="offset points", xytext=(-6, 4),
                 ha="right", va="bottom", fontsize=9, color="0.35")
ax1.set_xticks(lrs, [f"{v:.3g}" for v in lrs], minor=False)
ax1.set_xticks([], minor=True)
ax1.set_xlabel("learning rate lr")
ax1.set_ylabel(f"distance at T = {T:g}")
ax1.set_title("Error at fixed time: O(lr) and O(lr²) (Barrett & Dherin 2021)")
ax1.legend(fontsize=9, loc="lower right")
save(fig, out, "11_modified_equation.png")
