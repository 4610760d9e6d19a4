"""Edge of stability: full-batch gradient descent drives the sharpness up to 2/lr, then keeps it near.
===================================================================================================

Cohen, Kaur, Li, Kolter & Talwalkar (2021) observed that gradient descent on a neural network's
loss (i) sharpens — the top Hessian eigenvalue λ_max rises — until λ_max reaches 2/lr, the
stability limit of a quadratic, and then (ii) hovers at 2/lr while the loss keeps falling,
non-monotonically. Gradient flow, which GD discretizes, tracks GD until that crossing and
departs after it: beyond it GD is no longer a small-step approximation of the flow.

Here: a tanh network (4-16-16-3, 403 weights) fits one-hot targets of Fisher's Iris data (shipped
with newtonopt) with the mean squared error, from Glorot weights scaled by ½, at lr = 0.5 (2/lr = 4).
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import datasets
from newtonopt.flows import compare_with_flow

out, small = setup(__doc__)
X, y, _, _ = datasets.load_iris()
X = (X - X.mean(axis=0)) / X.std(axis=0)
V = no.potentials.MLP(X, np.eye(3)[y], (4, 16, 16, 3), activation="tanh", loss="mse", name="tanh MLP on Iris")
lr = 0.5
theta0 = 0.5 * V.initial_parameters(seed=0)
n_steps = 600 if small else 3000

run = no.simulate(V, no.GradientDescent(lr), theta0, n_steps=n_steps, sharpness_every=10, record="scalars")
s, s_step = run.sharpness, run.sharpness_step
threshold = 2.0 / lr
crossing = int(s_step[np.argmax(s >= threshold)])
after = s[s_step >= crossing]
in_band = np.mean((after >= 0.8 * threshold) & (after <= 1.2 * threshold))
rises = np.diff(run.potential_energy[crossing:]) > 0
print(f"sharpness at step 0: {s[0]:.3f}; reaches 2/lr = {threshold:g} at step {crossing}")
print(f"after the crossing {100 * in_band:.0f} % of the samples lie within [0.8, 1.2]·2/lr")
print(f"loss: {run.potential_energy[0]:.4f} -> {run.potential_energy[-1]:.4f}; it rose on "
      f"{100 * np.mean(rises):.1f} % of the steps after the crossing")

# Gradient descent beside gradient flow (t = k·lr) up to four times the crossing step.
near = no.simulate(V, no.GradientDescent(lr), theta0, n_steps=4 * crossing, every=max(1, crossing // 10))
flow = compare_with_flow(near, V, rtol=1e-8, atol=1e-10)
at_crossing = float(np.interp(crossing, near.step, flow.distance))
print(f"|GD − flow| at the crossing {at_crossing:.3f}, at 4× the crossing step {flow.distance[-1]:.3f} "
      f"({flow.distance[-1] / at_crossing:.1f}× larger)")

fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0), layout="constrained")
ax = axes[0]
ax.semilogy(run.step, run.potential_energy, color="#0072B2", lw=1.2, label="gradient descent")
ax.semilogy(flow.t / lr, flow.flow.potential_energy, color="#000000", ls="--", lw=1.2, label="gradient flow")
ax.axvline(crossing, color="#D55E00", lw=1.0, ls=":")
ax.set_yticks([0.02, 0.05, 0.1, 0.2, 0.5], ["0.02", "0.05", "0.1", "0.2", "0.5"])  # plain, uncrowded labels
ax.yaxis.set_minor_formatter(plt.NullFormatter())
ax.set(xlabel="step", ylabel="training loss V", title="loss")
ax.legend(frameon=False)
ax = axes[1]
ax.plot(s_step, s, color="#0072B2", lw=1.6, label="sharpness λ_max")
ax.axhline(threshold, color="#D55E00", ls=":", lw=1.5, label=f"2/lr = {threshold:g}")
ax.axhspan(0.8 * threshold, 1.2 * threshold, color="#D55E00", alpha=0.08, lw=0, label="[0.8, 1.2]·2/lr")
ax.set(xlabel="step", ylabel="top Hessian eigenvalue", title="sharpness rises to 2/lr, then stays near it")
ax.legend(frameon=False, loc="lower right")
ax = axes[2]
ax.plot(near.step, flow.distance, color="#009E73", lw=1.6, marker="o", ms=3)
ax.axvline(crossing, color="#D55E00", lw=1.0, ls=":", label=f"crossing (step {crossing})")
ax.set(xlabel="step", ylabel="|θ_GD − θ_flow|", title="GD leaves the flow after the crossing")
ax.legend(frameon=False, loc="upper left")
save(fig, out, "16_edge_of_stability.png")
