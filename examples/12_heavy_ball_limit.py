"""The heavy ball with fixed momentum β is a rescaled gradient flow, to first order in lr.
=======================================================================================

Kovachki & Stuart (2021): x⁺ = x − lr·∇V(x) + β·(x − x⁻) with β fixed and lr → 0 follows, at
t = k·lr, the gradient flow with friction 1 − β,

    (1 − β)·ẋ = −∇V,                                   error O(lr) after a transient of ~1/(1 − β) steps,

and (the same Taylor match as gradient descent's modified equation, docs/theory.md §8) the modified
flow (1 − β)·ẋ = −∇Ṽ, Ṽ = V + lr·(1 + β)/(4(1 − β)²)·|∇V|², started from x₀ + lr·β/(1 − β)²·∇V(x₀) (the
lag of a ball started from rest), to O(lr²). On V = x⁴/4 + x²/2 + y² + xy/2 from (1, −0.5), to the
flow time T/(1 − β) = 2; the error is the largest distance over the second half of the run.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup

import newtonopt as no
from newtonopt.flows import gradient_flow

out, small = setup(__doc__)
V = no.Potential.from_expression("x**4/4 + x**2/2 + y**2 + x*y/2")
x0, tau = np.array([1.0, -0.5]), 2.0
betas = (0.5, 0.9)
n_lr = 3 if small else 5


def errors(lr: float, beta: float):
    """The run and its largest distances, over t ∈ [T/2, T], to the rescaled flow and to the modified flow."""
    T = tau * (1.0 - beta)
    run = no.simulate(V, no.HeavyBall(lr, beta), x0, n_steps=int(round(T / lr)), record="all")
    t = run.step * lr
    flow = gradient_flow(V, x0, t, friction=1.0 - beta)
    start = x0 + lr * beta / (1.0 - beta) ** 2 * V.gradient(x0)
    modified = gradient_flow(V, start, t, friction=1.0 - beta, modified=lr * (1.0 + beta) / (1.0 - beta) ** 2)
    d_flow = np.linalg.norm(run.x - flow.x, axis=1)
    d_mod = np.linalg.norm(run.x - modified.x, axis=1)
    late = t >= T / 2
    return t, d_flow, d_mod, d_flow[late].max(), d_mod[late].max()


results = {}
print(f"{'β':>4} {'lr':>10} {'|HB − rescaled flow|':>21} {'|HB − modified flow|':>21}")
for beta in betas:
    lrs = 4e-3 * (1.0 - beta) / 2.0 ** np.arange(n_lr)
    rows = [errors(lr, beta)[3:] for lr in lrs]
    plain, modified = (np.array(c) for c in zip(*rows))
    for lr, p, m in zip(lrs, plain, modified):
        print(f"{beta:>4} {lr:>10.3g} {p:>21.3e} {m:>21.3e}")
    slopes = [np.polyfit(np.log(lrs), np.log(e), 1)[0] for e in (plain, modified)]
    results[beta] = (lrs, plain, modified, slopes)
    print(f"β = {beta}: log–log slopes {slopes[0]:.2f} against (1 − β)ẋ = −∇V (Kovachki & Stuart: 1), "
          f"{slopes[1]:.2f} against the modified flow (2)")

beta = 0.9
lr = results[beta][0][0]
t, d_flow, d_mod, _, _ = errors(lr, beta)

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
ax0.semilogy(t[1:] / (1 - beta), d_flow[1:], color="#D55E00", lw=2, label="against (1 − β)·ẋ = −∇V from x₀")
ax0.semilogy(t[1:] / (1 - beta), d_mod[1:], color="#0072B2", lw=2,
             label="against the modified flow, lag-corrected start")
ax0.axvspan(tau / 2, tau, color="0.92", zorder=0)
ax0.text(0.75 * tau, 1.5 * d_flow[1:].max(), "measured here", ha="center", va="bottom", fontsize=9, color="0.35")
ax0.set_ylim(0.3 * d_mod[1:].min(), 8 * d_flow[1:].max())
ax0.set_xlim(0, tau)
ax0.set_xlabel("flow time t/(1 − β) = k·lr/(1 − β)")
ax0.set_ylabel("distance |x_k − x(t_k)|")
ax0.set_title(f"Heavy ball, β = {beta}, lr = {lr:g}")
ax0.legend(fontsize=9, loc="lower right")

colors = {0.5: ("#E69F00", "#56B4E9"), 0.9: ("#D55E00", "#0072B2")}
for beta, (lrs, plain, modified, slopes) in results.items():
    x = lrs / (1.0 - beta)
    ax1.loglog(x, plain, "o-", color=colors[beta][0], lw=2, ms=6,
               label=f"β = {beta}, rescaled flow (slope {slopes[0]:.2f})")
    ax1.loglog(x, modified, "s--", color=colors[beta][1], lw=2, ms=6,
               label=f"β = {beta}, modified flow (slope {slopes[1]:.2f})")
steps = results[betas[0]][0] / (1.0 - betas[0])
ax1.set_xticks(steps, [f"{v:.3g}" for v in steps], minor=False)
ax1.set_xticks([], minor=True)
ax1.set_xlabel("effective step lr/(1 − β)")
ax1.set_ylabel("largest distance over the second half")
ax1.set_title("O(lr) and O(lr²) (Kovachki & Stuart 2021)")
ax1.legend(fontsize=8.5, loc="lower right")
save(fig, out, "12_heavy_ball_limit.png")
