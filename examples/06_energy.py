"""The energy ledger: velocity Verlet conserves energy, friction dissipates it, forward Euler gains it.
====================================================================================================

A unit mass on a spring of stiffness k = 4 (ω = 2) starts at rest at x = 1, so E₀ = ½kx² = 2.

- Velocity Verlet without friction: the energy error stays below (ω·dt)²/4·E₀ for ever (no drift).
- Velocity Verlet with friction γ = 0.5: E decays; the ledger books every joule removed (D), and
  E + D stays at E₀ up to the same O(dt²) error.
- Forward Euler: each step multiplies E by exactly 1 + (ω·dt)² — the energy grows without bound.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt import plot

out, small = setup(__doc__)
dt = 0.05
n = 2_000 if small else 20_000
V = no.potentials.Quadratic([4.0], name="spring, k = 4")
runs = {
    "Verlet, no friction": no.simulate(V, no.VelocityVerlet(dt), [1.0], n_steps=n, every=5),
    "Verlet, friction 0.5": no.simulate(V, no.VelocityVerlet(dt, friction=0.5), [1.0], n_steps=400),
    "forward Euler": no.simulate(V, no.ForwardEuler(dt), [1.0], n_steps=400),
}
bound = (2.0 * dt) ** 2 / 4 * 2.0
print(f"{'run':<22} {'steps':>6} {'E final':>10} {'D final':>10} {'max |ε|':>10}")
for label, t in runs.items():
    print(f"{label:<22} {t.n_steps:>6} {t.total_energy[-1]:>10.5f} {t.dissipated[-1]:>10.5f} "
          f"{np.max(np.abs(t.energy_error)):>10.2e}")
print(f"Verlet's bound (ω·dt)²/4·E₀ = {bound:.2e}; forward Euler's growth (1 + (ω·dt)²)^400 = "
      f"{(1 + (2 * dt) ** 2) ** 400:.1f}")

fig = plot.energy(runs["Verlet, friction 0.5"])
save(fig, out, "06_energy_ledger_friction.png")
plt.close(fig)

fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
t = runs["Verlet, no friction"]
# Thousands of oscillations: draw their envelope (min and max over windows) and the first few periods.
w = 100
m = len(t.energy_error) // w * w
lo = t.energy_error[:m].reshape(-1, w).min(axis=1)
hi = t.energy_error[:m].reshape(-1, w).max(axis=1)
centres = t.t[:m].reshape(-1, w).mean(axis=1)
axes[0].fill_between(centres, lo, hi, color="#0072B2", alpha=0.35, label="range of ε over each 500 steps")
axes[0].axhline(-bound, color="#D55E00", ls="--", label="−(ω·dt)²/4 · E₀")
axes[0].set_ylim(-2.9 * bound, 0.3 * bound)  # room below the band for the inset
axes[0].set_title(f"Verlet: ε over {n:,} steps — bounded")
axes[0].set_xlabel("time t")
axes[0].set_ylabel("ε = E + D − E₀")
plot.legend_below(axes[0], ncol=1)
# The band is ε oscillating twice per period (π here), thousands of times: the inset shows the first periods.
first = no.simulate(V, no.VelocityVerlet(dt), [1.0], n_steps=int(2 * np.pi / dt))
inset = axes[0].inset_axes([0.09, 0.07, 0.88, 0.42])
inset.plot(first.t, first.energy_error, color="black", lw=1.0)
inset.axhline(-bound, color="#D55E00", ls="--", lw=1.0)
inset.set_xlim(0, first.t[-1])
inset.set_ylim(-1.3 * bound, 0.3 * bound)
inset.set_title("ε over the first two periods (every step)", fontsize="small", pad=3)
inset.tick_params(labelsize="x-small")
inset.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
inset.yaxis.get_offset_text().set_fontsize("x-small")
plot.phase_portrait(runs["Verlet, friction 0.5"], ax=axes[1])
axes[1].set_title("Verlet with friction: a spiral")
e = runs["forward Euler"]
axes[2].semilogy(e.t, e.total_energy, color="#D55E00", label="forward Euler E")
axes[2].semilogy(e.t, 2.0 * (1 + (2 * dt) ** 2) ** e.step, "k--", lw=0.8, label="E₀·(1 + (ω·dt)²)ᵏ")
axes[2].set_title("forward Euler gains energy")
axes[2].set_xlabel("time t")
axes[2].set_ylabel("E")
axes[2].legend(fontsize=9)
save(fig, out, "06_energy_three_integrators.png")
