"""The heavy ball's phase diagram: its rate on one mode over (lr·λ, β), with the closed-form boundaries.
=====================================================================================================

Polyak (1964); Goh, "Why momentum really works" (Distill 2017). On V = λx²/2 the heavy ball is the
linear recurrence x⁺ = (1 + β − lr·λ)x − βx⁻, whose rate is the larger root modulus of
z² − (1 + β − lr·λ)z + β = 0 (analysis.momentum_rate). It converges iff 0 < lr·λ < 2 + 2β; the roots
are complex, of modulus √β, between the two branches of critical damping β = (1 − √(lr·λ))²
(lr·λ < 1: a double positive root; 1 < lr·λ < 4: a double negative root, beyond which the iterates flip
sign every step). The right panel checks the map against rates measured from heavy-ball runs.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt.analysis import measured_rate, momentum_rate
from newtonopt.potentials import Quadratic

out, small = setup(__doc__)

# ---------------------------------------------------------------- measured rates: one particle per grid point
n_h, n_b = (15, 10) if small else (30, 20)
H, B = np.meshgrid(np.linspace(0.05, 4.4, n_h), np.linspace(0.0, 0.95, n_b), indexing="ij")
h, b = H.ravel(), B.ravel()
run = no.simulate(Quadratic([1.0]), no.HeavyBall(h, b), np.ones((h.size, 1)), n_steps=400, record="all")
measured = measured_rate(run.x, skip=30)
theory = momentum_rate(h, b, 1.0)
print(f"{h.size} heavy balls on V = x²/2, one per (lr·λ, β) grid point, 400 steps each")
print(f"measured rate against momentum_rate: largest relative difference {np.max(np.abs(measured / theory - 1)):.1e}")
stable = h < 2 + 2 * b
print(f"stable iff 0 < lr·λ < 2 + 2β: {np.sum(stable & (measured < 1))} of {stable.sum()} points inside converge, "
      f"{np.sum(~stable & (measured >= 1 - 1e-9))} of {np.sum(~stable)} beyond do not")
print("critical damping β = (1 − √(lr·λ))², both branches: ρ = |1 − √(lr·λ)|")
print(f"{'lr·λ':>6} {'β':>8} {'momentum_rate':>14} {'measured':>9}")
for hc in (0.25, 0.64, 2.25, 3.24):
    bc = (1 - np.sqrt(hc)) ** 2
    r = measured_rate(no.simulate(Quadratic([1.0]), no.HeavyBall(hc, bc), [1.0], n_steps=400, record="all").x, skip=30)
    print(f"{hc:>6.2f} {bc:>8.4f} {momentum_rate(hc, bc, 1.0):>14.4f} {r:>9.4f}")

# ---------------------------------------------------------------- the map
hh = np.linspace(0.0, 4.4, 441)
bb = np.linspace(0.0, 0.995, 200)
HH, BB = np.meshgrid(hh, bb)
rho = momentum_rate(HH, BB, 1.0)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13.5, 5.4), layout="constrained", width_ratios=[1.35, 1])
mesh = ax0.pcolormesh(HH, BB, np.ma.masked_where(rho >= 1, rho), cmap="viridis", vmin=0, vmax=1, shading="auto",
                      rasterized=True)
ax0.pcolormesh(HH, BB, np.ma.masked_where(rho < 1, rho), cmap="Greys", vmin=0, vmax=8, shading="auto", rasterized=True)
levels = ax0.contour(HH, BB, rho, levels=[0.2, 0.4, 0.6, 0.8, 0.9], colors="white", linewidths=0.6, alpha=0.7)
ax0.clabel(levels, fontsize=7, fmt="%.1f")
fig.colorbar(mesh, ax=ax0, label="rate ρ per step (error × ρ each step)", pad=0.02)
edge = np.linspace(2.0, 4.0, 50)
ax0.plot(edge, edge / 2 - 1, color="#D55E00", lw=2.5, label="stability: lr·λ = 2 + 2β")
low = np.linspace(0.0, 1.0, 200)
ax0.plot(low, (1 - np.sqrt(low)) ** 2, color="white", lw=2.2, ls="--", label="critical damping β = (1 − √(lr·λ))²")
high = np.linspace(1.0, 4.0, 200)
ax0.plot(high, (np.sqrt(high) - 1) ** 2, color="white", lw=2.2, ls="--")
ax0.text(0.3, 0.075, "over-\ndamped", color="white", fontsize=8.5, ha="center", va="center", fontweight="bold")
ax0.text(1.4, 0.72, "under-damped: ρ = √β", color="white", fontsize=10, ha="center", va="center", fontweight="bold")
ax0.text(3.55, 0.52, "unstable", color="black", fontsize=10, ha="center", va="center", fontweight="bold")
ax0.annotate("a real root < 0:\nsign flips every step", xy=(1.75, 0.035), xytext=(3.2, 0.2), fontsize=8.5,
             ha="center", va="center", arrowprops=dict(arrowstyle="->", color="black", lw=1))
ax0.set_xlim(0, 4.4)
ax0.set_ylim(0, 0.995)
ax0.set_xlabel("lr·λ")
ax0.set_ylabel("momentum β")
ax0.set_title("Heavy ball on one mode (Polyak 1964; Goh 2017)")
ax0.legend(fontsize=8.5, loc="lower right", framealpha=0.85)

regime = np.where(~stable, 3, np.where((1 + b - h) ** 2 < 4 * b, 1, np.where(1 + b - h >= 0, 0, 2)))
names = ["real roots > 0 (over-damped)", "complex roots (under-damped)", "a real root < 0", "unstable (growth rate)"]
for k, (name, color, marker) in enumerate(zip(names, ("#0072B2", "#009E73", "#E69F00", "0.45"), "os^D")):
    sel = regime == k
    ax1.scatter(theory[sel], measured[sel], s=16, color=color, marker=marker, label=name, zorder=3)
lo, hi = 0.03, 5.0
ax1.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="measured = theory", zorder=2)
ax1.axhline(1.0, color="#D55E00", lw=1, alpha=0.6)
ax1.text(0.035, 1.08, "ρ = 1: stability edge", color="#D55E00", fontsize=8.5, va="bottom")
ax1.set_xscale("log")
ax1.set_yscale("log")
ax1.set_xlim(lo, hi)
ax1.set_ylim(lo, hi)
ax1.set_aspect("equal")
ticks = [0.05, 0.1, 0.2, 0.5, 1, 2, 4]
ax1.set_xticks(ticks, [f"{t:g}" for t in ticks])
ax1.set_yticks(ticks, [f"{t:g}" for t in ticks])
ax1.minorticks_off()
ax1.set_xlabel("momentum_rate (spectral radius)")
ax1.set_ylabel("measured from a 400-step run")
ax1.set_title(f"{h.size} runs: measured against closed form")
ax1.legend(fontsize=8.5, loc="lower right")
save(fig, out, "14_momentum_phase_diagram.png")
