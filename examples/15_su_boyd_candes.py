"""Su, Boyd & Candès: Nesterov's convex scheme follows the ODE Ẍ + (3/t)·Ẋ + ∇V = 0 at t = k·√s.
=============================================================================================

Reproduces the picture of Su, Boyd & Candès (2016, JMLR 17, "A differential equation for modeling
Nesterov's accelerated gradient method"):

- on V = λx²/2 the ODE's solution from rest is X(t) = 2x₀·J₁(√λ·t)/(√λ·t) (its first zero at
  t = j₁,₁/√λ, j₁,₁ = 3.8317); newtonopt's nesterov_flow matches it to round-off;
- the iterates x_k of x_k = y_{k−1} − s·∇V(y_{k−1}), y_k = x_k + (k − 1)/(k + 2)·(x_k − x_{k−1})
  approach X(k·√s) as s → 0, the error falling like √s;
- the Lyapunov energy t²·(V − V*) + 2·|X + (t/2)·Ẋ − x*|² never increases, so V − V* ≤ 2|x₀ − x*|²/t²;
- their two-dimensional quadratic V = 0.02·x₁² + 0.005·x₂² from (1, 1): iterates beside the ODE's path.
"""

import matplotlib.pyplot as plt
import numpy as np
from _common import save, setup
from scipy.special import j1, jn_zeros

import newtonopt as no
from newtonopt.flows import nesterov_flow
from newtonopt.potentials import Quadratic

out, small = setup(__doc__)


def iterates(run, s):
    """x_k from a run: its position is the look-ahead y_k, and x_k = y_k − β_k·√s·p_k."""
    beta = np.maximum(run.step - 1, 0) / (run.step + 2.0)  # β_k = (k − 1)/(k + 2)
    return run.x - (beta * np.sqrt(s))[:, None] * run.p


# ---- one dimension: the Bessel solution, the flow, and the iterates as s → 0
lam, x0, T = 2.0, 1.0, 12.0
V1 = Quadratic([lam])
t = np.linspace(0.0, T, 601)
u = np.sqrt(lam) * t
bessel = np.where(u > 0, 2.0 * j1(np.maximum(u, 1e-300)) / np.maximum(u, 1e-300), 1.0) * x0
flow = nesterov_flow(V1, [x0], t)
print(f"V = λx²/2, λ = {lam}: max |nesterov_flow − 2x₀J₁(√λt)/(√λt)| over t ≤ {T:g}: "
      f"{np.max(np.abs(flow.x[:, 0] - bessel)):.1e}")
print(f"first zero of X at t = j₁,₁/√λ = {jn_zeros(1, 1)[0] / np.sqrt(lam):.4f}")

steps = [1e-1, 1e-2, 1e-3] if small else [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]
runs, errors = {}, []
for s in steps:
    run = no.simulate(V1, no.NesterovConvex(s), [x0], int(round(T / np.sqrt(s))), gtol=None, record="all")
    xk = iterates(run, s)[:, 0]
    uk = np.sqrt(lam) * run.t
    exact = np.where(uk > 0, 2.0 * j1(np.maximum(uk, 1e-300)) / np.maximum(uk, 1e-300), 1.0) * x0
    runs[s] = (run.t, xk)
    errors.append(np.max(np.abs(xk - exact)))
slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
print(f"{'s':>8} {'max |x_k − X(k√s)|':>20}")
for s, e in zip(steps, errors):
    print(f"{s:>8.0e} {e:>20.3e}")
print(f"slope of log error against log s: {slope:.2f} (the scheme is first order in √s: 1/2)")

# ---- two dimensions: Su, Boyd & Candès's quadratic, iterates beside the ODE's path; the Lyapunov energy
A = np.diag([0.04, 0.01])  # V = 0.02·x₁² + 0.005·x₂²
V2 = Quadratic(A)
start = np.array([1.0, 1.0])
T2 = 60.0
t2 = np.linspace(0.0, T2, 3001)
path = nesterov_flow(V2, start, t2)
lyapunov = t2 ** 2 * path.potential_energy + 2.0 * np.sum((path.x + 0.5 * t2[:, None] * path.p) ** 2, axis=-1)
increase = np.max(np.diff(lyapunov))
print(f"Lyapunov energy along the flow: {lyapunov[0]:.4f} → {lyapunov[-1]:.4f}, largest step-to-step change "
      f"{increase:+.1e} (never increasing: {increase <= 1e-9 * lyapunov[0]})")
plane = {s: iterates(no.simulate(V2, no.NesterovConvex(s), start, int(T2 / np.sqrt(s)), gtol=None, record="all"), s)
         for s in (1.0, 0.25)}

# ---- the figure
fig, axes = plt.subplots(2, 2, figsize=(12.5, 9.0), layout="constrained")
ax = axes[0, 0]
ax.plot(path.x[:, 0], path.x[:, 1], color="black", lw=2.0, label="ODE Ẍ + (3/t)Ẋ + ∇V = 0")
for (s, xs), colour, marker in zip(plane.items(), ("#D55E00", "#0072B2"), ("o", "s")):
    ax.plot(xs[:, 0], xs[:, 1], marker=marker, ms=3.5, lw=0.6, color=colour, alpha=0.85, label=f"Nesterov, s = {s:g}")
ax.plot(0.0, 0.0, marker="*", color="black", ms=12, ls="none", label="minimum")
ax.set_xlabel("x₁")
ax.set_ylabel("x₂")
ax.set_title("V = 0.02·x₁² + 0.005·x₂² from (1, 1), t ≤ 60")
ax.legend(loc="upper left", frameon=False)

ax = axes[0, 1]
ax.plot(t, bessel, color="black", lw=2.0, label="X(t) = 2x₀J₁(√λt)/(√λt)")
for (s, (tk, xk)), colour in zip(list(runs.items())[:3], ("#D55E00", "#0072B2", "#009E73")):
    ax.plot(tk, xk, ls="none", marker=".", ms=4 if s < 0.05 else 6, color=colour, label=f"x_k at t = k√s, s = {s:g}")
ax.axhline(0.0, color="grey", lw=0.6)
ax.set_xlabel("time t")
ax.set_ylabel("x")
ax.set_title(f"V = λx²/2, λ = {lam:g}: the iterates follow the ODE")
ax.legend(loc="upper right", frameon=False)

ax = axes[1, 0]
ax.loglog(steps, errors, "o-", color="#0072B2", label=f"max |x_k − X(k√s)|, t ≤ {T:g}")
guide = errors[-1] * (np.array(steps) / steps[-1]) ** 0.5
ax.loglog(steps, guide, ls="--", color="grey", label="slope 1/2")
ax.set_xlabel("step size s")
ax.set_ylabel("largest distance to the ODE")
ax.set_title(f"error ∝ √s (fitted slope {slope:.2f})")
ax.legend(loc="upper left", frameon=False)

ax = axes[1, 1]
gap = path.potential_energy
bound = 2.0 * np.sum(start ** 2) / t2[1:] ** 2
ax.semilogy(t2[1:], lyapunov[1:], color="black", lw=2.0, label="Lyapunov t²(V − V*) + 2|X + tẊ/2 − x*|²")
ax.semilogy(t2[1:], gap[1:], color="#D55E00", label="V(X(t)) − V*")
ax.semilogy(t2[1:], bound, color="grey", ls="--", label="2|x₀ − x*|²/t²")
ax.set_ylim(1e-5, 1e3)
ax.set_xlabel("time t")
ax.set_title("the energy that never increases, and the O(1/t²) rate it gives")
ax.legend(loc="upper right", frameon=False)
save(fig, out, "15_su_boyd_candes.png")
plt.close(fig)
