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

import newtonopt as no
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
fractions = {}
for label, integ in runs.items():
    traj = no.simulate(V, integ, start, steps, record="final")
    fractions[label] = float(np.mean(traj.x_final[:, 0] < barrier))
    print(f"{label:<28} {100 * fractions[label]:>16.1f}%")
w_deep = np.exp(-V.minima[0].value / T0)
w_shallow = np.exp(-V.minima[1].value / T0)
print(f"(Boltzmann at T = {T0}: about {100 * w_deep / (w_deep + w_shallow):.0f}% in the deep well, the harmonic "
      "estimate exp(−ΔV/T))")

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
for label, (ep, loss) in curves.items():
    axes[0].semilogy(ep, loss, lw=1.5, label=label)
axes[0].set_xlabel("epochs (samples seen / training set)")
axes[0].set_ylabel("full training loss")
axes[0].set_title("Iris: the same data budget, three batch sizes")
axes[0].legend(fontsize=9)
for ax, (title, frac) in zip(axes[1:], (("double well: particles in the deep well", fractions),
                                         ("Rastrigin: particles at the global minimum", r_fractions))):
    values = [100 * v for v in frac.values()]
    bars = ax.bar(range(len(frac)), values, color=["#0072B2", "#E69F00", "#009E73"])
    ax.bar_label(bars, labels=[f"{v:.1f}%" for v in values], padding=3, fontsize=10)
    ax.set_xticks(range(len(frac)), list(frac), rotation=12, fontsize=9)
    ax.set_ylabel("% of particles")
    ax.set_ylim(0, 100 if max(values) > 30 else max(10.0, 1.4 * max(values)))
    ax.set_title(title)
save(fig, out, "09_noise_and_temperature.png")
