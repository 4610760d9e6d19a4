"""Momentum against conjugate gradient on an ill-conditioned quadratic.
====================================================================

Springs with stiffnesses log-spaced in [1, κ] (κ = 10⁴ by default) from a random start. Gradient descent
at its best step 2/(L + μ) contracts by (κ − 1)/(κ + 1) per step; the heavy ball with Polyak's
parameters — critical damping of the softest mode — by (√κ − 1)/(√κ + 1); linear CG's error bound
shrinks like 2·((√κ − 1)/(√κ + 1))^k. The table compares the steps each needs to shrink ‖x − x*‖ by 10⁸
with those predictions.
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import analysis, plot

out, small = setup(__doc__)
kappa = 1e3 if small else 1e4
dim = 200 if small else 1000
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
kappa_text = "10" + str(round(math.log10(kappa))).translate(SUPERSCRIPT)  # 10⁴, not 1e+04
V = no.potentials.Quadratic(np.logspace(0, math.log10(kappa), dim), name=f"quadratic, κ = {kappa_text}")
x0 = np.random.default_rng(0).standard_normal(dim)
mu, L = V.curvature_bounds()
reduction = 1e-8

gd = no.GradientDescent.tuned(V, x0)
hb = no.HeavyBall.tuned(V, x0)
n_gd = analysis.steps_to(analysis.rate(gd, mu, L), reduction)
n_hb = analysis.steps_to(analysis.rate(hb, mu, L), reduction)
q = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
n_cg = math.ceil(math.log(reduction / 2) / math.log(q))
budget = int(1.5 * n_hb)
runs = {
    "gradient descent (2/(L+μ))": no.simulate(V, gd, x0, n_gd + 10 if not small else 4 * budget, every=25),
    "heavy ball (Polyak)": no.simulate(V, hb, x0, budget),
    "scipy CG (c2 = 0.01)": no.scipy_minimize(V, x0, "CG", gtol=1e-30, maxiter=budget, c2=0.01),
    "scipy CG (default line search)": no.scipy_minimize(V, x0, "CG", gtol=1e-30, maxiter=budget),
}
theory = {"gradient descent (2/(L+μ))": n_gd, "heavy ball (Polyak)": n_hb, "scipy CG (c2 = 0.01)": n_cg,
          "scipy CG (default line search)": n_cg}
print(f"κ = {kappa_text}, dim = {dim}; steps to shrink ‖x − x*‖ by 1e8 (CG: the A-norm), against the theory")
print(f"{'method':<32} {'steps':>7} {'theory':>8} {'ratio':>6} {'∇ evals':>9}")
for label, t in runs.items():
    x = t.x
    if label.startswith("scipy"):
        err = np.sqrt(np.sum(V.A * x**2, axis=1))
    else:
        err = np.linalg.norm(x, axis=1)
    hit = np.nonzero(err <= reduction * err[0])[0]
    steps = int(t.step[hit[0]]) if hit.size else None
    evals = int(t.gradient_evaluations[hit[0]]) if hit.size else None
    shown = f"{steps:>7}" if steps is not None else f"{'> ' + str(int(t.step[-1])):>7}"
    ratio = f"{steps / theory[label]:6.2f}" if steps else "     —"
    print(f"{label:<32} {shown} {theory[label]:>8} {ratio} {evals if evals is not None else '—':>9}")
print("theory: GD (κ−1)/(κ+1) per step; heavy ball (√κ−1)/(√κ+1); CG 2·((√κ−1)/(√κ+1))^k")

fig, ax = plt.subplots(figsize=(7.2, 4.8), layout="constrained")
for (label, t), color in zip(runs.items(), plot.method_colors(len(runs))):
    err = (np.sqrt(np.sum(V.A * t.x**2, axis=1)) if label.startswith("scipy") else np.linalg.norm(t.x, axis=1))
    ax.semilogy(t.step, err / err[0], color=color, lw=1.6, label=label)
k = np.arange(budget)
ax.semilogy(k, 2 * q**k, "k--", lw=1, label="CG bound 2·qᵏ")
ax.semilogy(k, q**k, "k:", lw=1, label="heavy-ball rate qᵏ")
ax.set_ylim(1e-10, 3)
ax.set_xlim(0, budget)
ax.set_xlabel("step (iteration)")
ax.set_ylabel("error / initial error")
ax.set_title(f"κ = {kappa_text}: momentum gains √κ, CG gains it too")
ax.legend(loc="upper right", framealpha=0.9)
save(fig, out, "05_momentum_vs_cg.png")
