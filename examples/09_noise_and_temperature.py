"""Noise and temperature: batch, minibatch and stochastic descent; Langevin and annealing.
=======================================================================================

1. Fisher's Iris with a (4, 16, 3) tanh network: batch gradient descent (all 105 training samples per
   step), minibatch SGD (16) and stochastic descent (1), compared per epoch — evaluation counts are in
   samples — on test accuracy.
2. The tilted double well: 1,000 particles start in the shallow (metastable) well. Gradient descent stays
   there; constant-temperature noise (SGD-like) lets some escape over the barrier ΔV ≈ 0.76 but also
   throws some back; annealed Langevin dynamics (a cooling schedule) settles most in the deep well.
3. Rastrigin in 2-D, 1,000 particles from random starts: the fraction that ends in the global minimum.
   Annealing helps several-fold, yet most particles freeze into an outer well once T falls below the
   barriers (2A = 20): cooling fast enough for a lecture is far from Hajek's logarithmic schedule.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup
from scipy.integrate import trapezoid

import newtonopt as no
from newtonopt import analysis, plot
from newtonopt.datasets import load_iris, standardize, train_test_split
from newtonopt.potentials import MLP, DoubleWell, Rastrigin
from newtonopt.schedules import Exponential

out, small = setup(__doc__)

# ---------------------------------------------------------------------------- 1. batch, minibatch, stochastic
X, y, _, classes = load_iris()
Xtr, Xte, ytr, yte = train_test_split(X, y, 0.3, seed=0)
Xtr, Xte = standardize(Xtr, Xte)
net = MLP(Xtr, ytr, (4, 16, 3), loss="cross_entropy", seed=0)
theta0 = net.initial_parameters()
epochs = 20 if small else 60
print(f"Iris: {len(Xtr)} training and {len(Xte)} test flowers, classes {classes}; {epochs} epochs each")
print(f"{'method':<28} {'steps':>6} {'samples':>8} {'train loss':>11} {'test accuracy':>14}")
curves = {}
for label, batch, lr in (("batch GD (105 samples)", len(Xtr), 0.5), ("minibatch SGD (16)", 16, 0.1),
                         ("stochastic GD (1)", 1, 0.02)):
    view = net.minibatch(batch, seed=1)
    n_steps = epochs * (len(Xtr) // batch)
    traj = no.simulate(view, no.GradientDescent(lr), theta0, n_steps, record="all", every=max(1, n_steps // 200))
    acc = net.accuracy(traj.x_final, Xte, yte)
    loss = [float(net.full_value(x)) for x in traj.x]
    curves[label] = (traj.step * batch / len(Xtr), loss)
    print(f"{label:<28} {n_steps:>6} {traj.counts['gradient']:>8} {loss[-1]:>11.4f} {acc:>14.3f}")
for label, mk in (("heavy ball (16)", lambda: no.HeavyBall(0.05, 0.9)), ("Adam (16)", lambda: no.Adam(1e-2))):
    traj = no.simulate(net.minibatch(16, seed=1), mk(), theta0, epochs * (len(Xtr) // 16), record="final")
    print(f"{label:<28} {traj.n_steps:>6} {traj.counts['gradient']:>8} {float(net.full_value(traj.x_final)):>11.4f} "
          f"{net.accuracy(traj.x_final, Xte, yte):>14.3f}")

# ---------------------------------------------------------------------------- 2. escaping the shallow well
V = DoubleWell()
n = 300 if small else 1000
start = np.tile(V.minima[1].x, (n, 1))  # every particle in the shallow well
T0 = 0.3
steps = 4000 if small else 20_000
runs = {
    "gradient descent": no.GradientDescent(0.02),
    f"SGD-like noise (T = {T0})": no.OverdampedLangevin(0.02, temperature=T0, seed=1),
    # Cooling from T = 0.5 to 0.05: hot enough to cross the barrier early, cold enough at the end to stay deep.
    "annealed Langevin": no.Langevin(0.05, friction=1.0, temperature=Exponential(0.5, 0.1 ** (1 / steps)), seed=1),
}
barrier = V.x_top
print(f"\nDouble well: {n} particles start in the shallow well (x = {V.minima[1].x[0]:.3f}); barrier ΔV = "
      f"{V.barriers()['shallow']:.3f}")
print(f"{'method':<28} {'in the deep well':>17}")
fractions, finals = {}, {}
for label, integ in runs.items():
    traj = no.simulate(V, integ, start, steps, record="final")
    finals[label] = traj
    fractions[label] = float(np.mean(traj.x_final[:, 0] < barrier))
    print(f"{label:<28} {100 * fractions[label]:>16.1f}%")
# What constant-temperature sampling should give: the Boltzmann weight of the deep well, exp(−V/T) integrated
# on each side of the barrier (the y-direction, ½y² in both wells, cancels), against two approximations.
xs, ys = np.linspace(-3.0, 3.0, 3001), np.linspace(-4.0, 4.0, 801)
density, _ = analysis.boltzmann(V, T0, [xs, ys])
marginal = trapezoid(density, ys, axis=1)
cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (marginal[1:] + marginal[:-1]) * np.diff(xs))])
exact = float(np.interp(barrier, xs, cumulative) / cumulative[-1])
energies = np.array([m.value for m in V.minima])
two_state = np.exp(-energies / T0)  # the minima's energies alone
curvature = np.array([np.prod(np.linalg.eigvalsh(V.hessian(m.x))) for m in V.minima])
harmonic = two_state / np.sqrt(curvature)  # each well a Gaussian: weight exp(−V_i/T)·(2πT)^(d/2)/√det H_i
sampled = fractions[f"SGD-like noise (T = {T0})"]
print(f"Boltzmann at T = {T0}: {100 * exact:.1f}% in the deep well (exp(−V/T) integrated over each side of the "
      f"barrier); the harmonic approximation (a Gaussian in each well) gives "
      f"{100 * harmonic[0] / harmonic.sum():.1f}%, "
      f"the minima's energies alone {100 * two_state[0] / two_state.sum():.1f}%. The SGD-like run's "
      f"{100 * sampled:.1f}% has a sampling error of ±{100 * np.sqrt(sampled * (1 - sampled) / n):.1f}% "
      f"({n} particles).")

# ---------------------------------------------------------------------------- 3. Rastrigin
R = Rastrigin(2)
rng = np.random.default_rng(3)
starts = rng.uniform(-5.12, 5.12, (n, 2))
r_steps = 3000 if small else 10_000
r_runs = {
    "gradient descent": no.GradientDescent(2e-3),
    "SGD-like noise (T = 2)": no.OverdampedLangevin(2e-3, temperature=2.0, seed=2),
    "annealed (T = 10 → 0.05)": no.OverdampedLangevin(2e-3, temperature=Exponential(10.0, 0.005 ** (1 / r_steps)),
                                                      seed=2),
}
print(f"\nRastrigin: {n} random starts in [−5.12, 5.12]²; fraction ending within 0.1 of the global minimum")
r_fractions = {}
for label, integ in r_runs.items():
    traj = no.simulate(R, integ, starts, r_steps, record="final")
    # Finish every run with plain descent so each particle sits at the bottom of the well it ended in.
    final = no.simulate(R, no.GradientDescent(2e-3), traj.x_final, 2000, gtol=1e-8, record="final")
    r_fractions[label] = float(np.mean(np.linalg.norm(final.x_final, axis=1) < 0.1))
    print(f"{label:<28} {100 * r_fractions[label]:>16.1f}%")

fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
for (label, (ep, loss)), color in zip(curves.items(), plot.method_colors(len(curves))):
    axes[0].semilogy(ep, loss, lw=1.5, color=color, label=label)
axes[0].set_xlabel("epochs (samples seen / training set)")
axes[0].set_ylabel("full training loss")
axes[0].set_title("Iris: the same data budget, three batch sizes")
axes[0].legend(fontsize=9)
for ax, (title, frac) in zip(axes[1:], (("double well: particles in the deep well", fractions),
                                         ("Rastrigin: particles at the global minimum", r_fractions))):
    values = [100 * v for v in frac.values()]
    bars = ax.bar(range(len(frac)), values, color=plot.method_colors(len(frac)))
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=3, fontsize=10)
    ax.set_xticks(range(len(frac)), list(frac), rotation=12, fontsize=9)
    ax.set_ylabel("% of particles")
    ax.set_ylim(0, 100 if max(values) > 30 else max(10.0, 1.4 * max(values)))
    ax.set_title(title)
axes[1].axhline(100 * exact, color="black", ls="--", lw=1.2)
axes[1].annotate(f"Boltzmann at T = {T0}: {100 * exact:.1f}%", (0.02, 100 * exact), xycoords=("axes fraction", "data"),
                 xytext=(0, 4), textcoords="offset points", fontsize="small")
save(fig, out, "09_noise_and_temperature.png")

# The constant-temperature particles' positions against the density they sample, exp(−V/T)/Z along x.
ax = plot.boltzmann_histogram(finals[f"SGD-like noise (T = {T0})"], T0, V, coordinate=0, bins=50)
ax.axvline(barrier, color="gray", ls=":", lw=1.2, label=f"barrier top x = {barrier:.3f}")
ax.legend(loc="upper right", framealpha=0.9)
ax.set_title(f"double well, overdamped Langevin at T = {T0} after {steps:,} steps:\n"
             f"{n:,} particles against exp(−V/T)/Z ({100 * exact:.1f}% left of the barrier)", fontsize="medium")
save(ax.figure, out, "09_boltzmann_histogram.png")
