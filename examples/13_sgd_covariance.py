"""SGD as approximate Bayesian inference: the stationary covariance of minibatch SGD near a minimum.
=================================================================================================

Mandt, Hoffman & Blei (2017): near a minimum with Hessian A, SGD with learning rate lr and batches of
S samples is, for small lr, an Ornstein–Uhlenbeck process whose stationary covariance solves the
continuous Lyapunov equation AΣ + ΣA = (lr/S)·C (C: the per-sample gradient covariance). The iterates
themselves solve a discrete one, Σ = (I − lr·A)Σ(I − lr·A) + lr²·C/S, which differs by O(lr); and
each batch also has its own Hessian (a multiplicative noise), a further O(lr/S) (analysis.
sgd_stationary_covariance(..., hessians=...), exact for least squares). The data: Fisher's Iris,
petal width regressed on sepal length and petal length (standardized, strongly correlated: a tilted,
elongated bowl); an ensemble of independent replicas started at the minimizer is the Monte Carlo.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup
from matplotlib.patches import Ellipse

import newtonopt as no
from newtonopt.analysis import sgd_stationary_covariance
from newtonopt.datasets import load_iris, standardize
from newtonopt.potentials import LeastSquares

out, small = setup(__doc__)
X, _, names, _ = load_iris()
Z = standardize(X)
features, target = Z[:, [0, 2]], Z[:, 3]
loss = LeastSquares(features, target, name="Iris: petal width ~ sepal length + petal length")
theta = loss.minima[0].x
A = loss.hessian(theta)
C = np.cov(loss.per_sample_gradients(theta).T, bias=True)
hessians = np.einsum("ni,nj->nij", features, features)  # per-sample Hessians of ½(x·θ − y)²
lam, vecs = np.linalg.eigh(A)
print(f"{loss.name}: n = {loss.n}, Hessian eigenvalues {lam.round(4).tolist()}, minimizer {theta.round(4).tolist()}")

S = 4
replicas = 4000 if small else 20000


def monte_carlo(lr: float):
    """An ensemble of independent SGD replicas (batches drawn with replacement), run well past relaxation."""
    steps = int(np.ceil(6.0 / (lr * lam[0])))  # the soft mode's variance relaxes like (1 − lr·λ_min)^(2k)
    run = no.simulate(loss.minibatch(S, seed=1, replace=True), no.GradientDescent(lr), np.tile(theta, (replicas, 1)),
                      n_steps=steps, record="final")
    e = run.x_final - theta
    products = np.einsum("ni,nj->nij", e, e)  # E[e] = 0 exactly (linear map from the minimizer)
    return e, products.mean(axis=0), products.std(axis=0) / np.sqrt(replicas)


theories = {
    "discrete + minibatch Hessian": lambda lr: sgd_stationary_covariance(A, C, lr, S, hessians=hessians),
    "discrete Lyapunov": lambda lr: sgd_stationary_covariance(A, C, lr, S),
    "continuous (Mandt et al.)": lambda lr: sgd_stationary_covariance(A, C, lr, S, continuous=True),
}
colors = {"discrete + minibatch Hessian": "#009E73", "discrete Lyapunov": "#0072B2",
          "continuous (Mandt et al.)": "#D55E00"}

lr_show = 0.5
e, measured, se = monte_carlo(lr_show)
print(f"lr = {lr_show}, S = {S}, {replicas} replicas; entries (11, 12, 22) of Σ and z = (measured − theory)/s.e.")
print(f"{'Monte Carlo':<30} {measured[0, 0]:.3e} {measured[0, 1]:.3e} {measured[1, 1]:.3e}   "
      f"(standard errors {se[0, 0]:.1e} {se[0, 1]:.1e} {se[1, 1]:.1e})")
for label, theory in theories.items():
    s = theory(lr_show)
    z = (measured - s) / se
    print(f"{label:<30} {s[0, 0]:.3e} {s[0, 1]:.3e} {s[1, 1]:.3e}   z = {z[0, 0]:+.1f} {z[0, 1]:+.1f} {z[1, 1]:+.1f}")

lrs = np.array([0.05, 0.1, 0.2, 0.3, lr_show] if not small else [0.1, lr_show])
stiff = vecs[:, 1]
mc_stiff, mc_err = [], []
for lr in lrs:
    e_lr = e if lr == lr_show else monte_carlo(lr)[0]
    proj = (e_lr @ stiff) ** 2
    mc_stiff.append(proj.mean())
    mc_err.append(proj.std() / np.sqrt(replicas))
mc_stiff, mc_err = np.array(mc_stiff), np.array(mc_err)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12.5, 6.2), layout="constrained")
shown = e[:3000]
ax0.scatter(shown[:, 0], shown[:, 1], s=3, color="0.6", alpha=0.5, label=f"SGD replicas (lr = {lr_show}, S = {S})",
            rasterized=True)


def ellipse(cov, **kw):
    w, v = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(v[1, 1], v[0, 1]))
    return Ellipse((0, 0), 2 * 2 * np.sqrt(w[1]), 2 * 2 * np.sqrt(w[0]), angle=angle, fill=False, **kw)


ax0.add_patch(ellipse(measured, color="k", lw=2.5, ls="--", label="Monte Carlo"))
for label, theory in theories.items():
    ax0.add_patch(ellipse(theory(lr_show), color=colors[label], lw=2, label=label))
r = 2.6 * np.sqrt(measured.diagonal().max())
ax0.set_xlim(-r, r)
ax0.set_ylim(-r, r)
ax0.set_aspect("equal")
ax0.set_xlabel("θ₁ − θ₁*  (sepal length weight)")
ax0.set_ylabel("θ₂ − θ₂*  (petal length weight)")
ax0.set_title("Stationary spread: 2σ ellipses")
ax0.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, markerscale=3)

grid = np.linspace(0.03, lrs.max() * 1.08, 60)
for label, theory in theories.items():
    ax1.plot(grid, [stiff @ theory(lr) @ stiff / (lr / S) for lr in grid], color=colors[label], lw=2, label=label)
ax1.errorbar(lrs, mc_stiff / (lrs / S), yerr=2 * mc_err / (lrs / S), fmt="o", color="k", ms=6, capsize=3,
             label=f"Monte Carlo ({replicas} replicas, ±2 s.e.)")
ax1.set_xlabel("learning rate lr")
ax1.set_ylabel("variance along the stiff mode / (lr/S)")
ax1.set_title(f"Stiff mode (λ = {lam[1]:.2f}): the O(lr) corrections")
ax1.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
save(fig, out, "13_sgd_covariance.png")
