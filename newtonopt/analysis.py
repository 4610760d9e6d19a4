"""Curvature, stability limits, rates and tuned parameters: the physics that sets the step.

On a quadratic with Hessian eigenvalues in [μ, L] gradient descent, the momentum methods and the
Verlet-type integrators are linear recurrences per normal mode, so their stability limits and rates
follow from μ and L. Each formula is a classmethod of its method's class (``stability_limit``,
``rate``); the functions here find the method through the registry and call it. For other
potentials the same formulas apply near a minimum, with μ and L estimated from Hessian-vector
products by Lanczos' method.

The curvature estimate lives in :mod:`newtonopt.curvature` and each tuned-parameter formula in its
method's module (the method's ``tuned`` constructor reads it there); they are collected here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np

from ._validation import _describe, positive
from .curvature import Curvature, curvature
from .integrators.gradient_descent import tuned_gradient_descent
from .integrators.heavy_ball import tuned_heavy_ball
from .integrators.nesterov import tuned_nesterov
from .integrators.registry import METHODS, find_method
from .potentials.data import EmpiricalRisk, MinibatchView

__all__ = ["Curvature", "curvature", "stability_limit", "rate", "steps_to", "cg_bound", "tuned_gradient_descent",
           "tuned_heavy_ball", "tuned_nesterov", "SGDNoise", "sgd_temperature"]


# ------------------------------------------------------------------------------ stability and rates
def _formula(method, kind: str):
    """The method's registry entry and its formula ``kind`` ('stability_limit' or 'rate'); a ValueError
    naming the methods that have one when it has none."""
    entry = find_method(method)
    formula = getattr(entry, kind)
    if formula is None:
        known = ", ".join(m.cls.__name__ for m in METHODS if getattr(m, kind) is not None)
        word = "stability" if kind == "stability_limit" else "rate"
        raise ValueError(f"no {word} formula for {entry.cls.__name__!r}; known: {known}")
    return entry, formula


def _call(formula, *args, **params):
    """``formula(*args, **params)`` with only the parameters the formula names (the others do not enter it)."""
    names = inspect.signature(formula).parameters
    return formula(*args, **{k: v for k, v in params.items() if k in names})


def stability_limit(method, L: float, *, momentum: float = 0.0, mass: float = 1.0, friction: float = 1.0) -> float:
    """The largest stable step on a quadratic whose top eigenvalue is ``L``.

    Each method's own formula (``stability_limit`` on its class), for its step parameter:
    GradientDescent: lr < 2/L. HeavyBall: lr < (2 + 2μ)/L. Nesterov (torch form):
    lr < (2 + 2μ)/((1 + 2μ)·L). VelocityVerlet and Langevin: dt < 2·√(m/L). OverdampedLangevin:
    dt < 2γ/L. ``method`` is a name (any alias of the method registry), an integrator class or an
    integrator, whose own momentum, mass and friction are then used (of per-particle arrays: the
    largest momentum, the smallest mass and friction).
    """
    L = positive("L", L)
    _, formula = _formula(method, "stability_limit")
    if not isinstance(method, (str, type)):
        momentum = float(np.max(getattr(method, "momentum", momentum)))
        mass = float(np.min(getattr(method, "mass", mass)))
        friction = float(np.min(getattr(method, "friction", friction)))
    return float(_call(formula, L, momentum=momentum, mass=mass, friction=friction))


def rate(method, mu: float, L: float, **params) -> float:
    """The asymptotic contraction factor per step on a quadratic with spectrum in [μ, L].

    Each method's own formula (``rate`` on its class): GradientDescent: max(|1 − lr·μ|, |1 − lr·L|).
    HeavyBall and Nesterov: the largest spectral radius of the 2 × 2 companion matrix over the
    spectrum (checked on a dense grid of λ; at Polyak's parameters it equals (√κ − 1)/(√κ + 1)).
    Parameters come from ``params`` or from an integrator instance.
    """
    _, formula = _formula(method, "rate")
    if not isinstance(method, (str, type)):
        params = {**method.params(), **params}
    return _call(formula, mu, L, **params)


def steps_to(contraction: float, reduction: float) -> int:
    """Steps for an error contracting by ``contraction`` per step to shrink by ``reduction``: ⌈ln r / ln c⌉."""
    if not 0 < contraction < 1:
        raise ValueError(f"contraction must be in (0, 1), got {contraction!r}")
    if not 0 < reduction < 1:
        raise ValueError(f"reduction must be in (0, 1), got {reduction!r}")
    return math.ceil(math.log(reduction) / math.log(contraction))


def cg_bound(kappa: float, k: int) -> float:
    """The conjugate gradient bound on a quadratic: ‖e_k‖_A / ‖e_0‖_A ≤ 2·((√κ − 1)/(√κ + 1))^k."""
    q = (math.sqrt(kappa) - 1.0) / (math.sqrt(kappa) + 1.0)
    return 2.0 * q**k


# ------------------------------------------------------------------------------ SGD's temperature
@dataclass(frozen=True)
class SGDNoise:
    """The small-learning-rate prediction for SGD near a minimum (Mandt, Hoffman & Blei 2017).

    ``covariance`` Σ of the stationary iterates solves AΣ + ΣA = (lr/S)·C, with A the Hessian and
    C the per-sample gradient covariance at the minimum (times the finite-population factor
    (n − S)/(n − 1) of batches drawn without replacement). ``temperature`` is the equipartition
    reading T = tr(AΣ)/dim: the temperature a Boltzmann distribution exp(−V/T) with the same mean
    potential energy would have.
    """

    covariance: np.ndarray
    temperature: float
    hessian: np.ndarray
    gradient_covariance: np.ndarray


def sgd_temperature(potential, lr: float, batch_size: int, at=None, *, replace: bool = False) -> SGDNoise:
    """Predict the stationary spread of minibatch SGD with learning rate ``lr`` around a minimum.

    ``potential`` is a data loss (an EmpiricalRisk, e.g. LeastSquares) and ``at`` the minimizer
    (default: its known minimum); ``replace`` says whether batches are drawn with replacement
    (then C/S exactly) or without (times (n − S)/(n − 1)). In the continuous-time limit SGD is the
    Ornstein–Uhlenbeck process dθ = −lr·A(θ − θ*)dt + lr·√(C/S)·dW, whose stationary covariance
    solves the Lyapunov equation AΣ + ΣA = (lr/S)·C (Mandt, Hoffman & Blei 2017, eq. 12).

    Without replacement, batches within an epoch are anti-correlated (an epoch's gradients sum to the
    full gradient), which shrinks the spread of modes slower than an epoch below this prediction.
    """
    from scipy.linalg import solve_continuous_lyapunov

    if isinstance(potential, MinibatchView):
        replace = potential.replace
        potential = potential.parent
    if not isinstance(potential, EmpiricalRisk):
        raise TypeError(f"potential must be a data loss (EmpiricalRisk), got {_describe(potential)}")
    lr = positive("lr", lr)
    if not (isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= potential.n):
        raise ValueError(f"batch_size must be an integer in [1, {potential.n}], got {batch_size!r}")
    if at is None:
        if not potential.minima:
            raise ValueError("at: the potential has no known minimum; pass the minimizer")
        at = potential.minima[0].x
    at = np.asarray(at, dtype=np.float64)
    saved = dict(potential.counts)
    try:
        A = potential.hessian(at)
        grads = potential.per_sample_gradients(at)
    finally:
        potential.counts.update(saved)
    centred = grads - grads.mean(axis=0)
    C = centred.T @ centred / potential.n
    n, S = potential.n, int(batch_size)
    fpc = 1.0 if replace else ((n - S) / (n - 1) if n > 1 else 0.0)
    sigma = solve_continuous_lyapunov(A, (lr / S) * fpc * C)
    sigma = 0.5 * (sigma + sigma.T)
    return SGDNoise(sigma, float(np.trace(A @ sigma)) / potential.dim, A, C)


def momentum_rate(lr, momentum, lam):
    """The heavy ball's asymptotic rate on one mode: the spectral radius of its iteration matrix.

    On V = λx²/2 the heavy ball x⁺ = x − lr·λx + β(x − x⁻) is linear, (x⁺, x) = T(x, x⁻) with
    T = [[1 + β − lr·λ, −β], [1, 0]], whose eigenvalues solve z² − (1 + β − lr·λ)z + β = 0. The
    rate is ρ = max |z|: below 1 exactly when 0 < lr·λ < 2 + 2β; the roots are complex, ρ = √β
    (under-damped), when (1 − √β)² < lr·λ < (1 + √β)², and they meet at critical damping
    β = (1 − √(lr·λ))². Broadcasts over arrays (a phase diagram in one call).

    References
    ----------
    Polyak, B. T. (1964). Some methods of speeding up the convergence of iteration methods. USSR
    Comput. Math. Math. Phys. 4(5), 1-17. Goh, G. (2017). Why momentum really works. Distill.
    """
    lr, beta, lam = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (lr, momentum, lam)))
    trace = 1.0 + beta - lr * lam
    disc = trace * trace - 4.0 * beta
    with np.errstate(invalid="ignore"):
        real = 0.5 * (np.abs(trace) + np.sqrt(np.where(disc >= 0, disc, 0.0)))
    rho = np.where(disc >= 0, real, np.sqrt(np.abs(beta)))
    return float(rho) if rho.ndim == 0 else rho


def measured_rate(x, *, skip: int = 30) -> np.ndarray | float:
    """The asymptotic rate ρ per step of recorded iterates x_k ~ ρᵏ, measured from a run.

    ρ is exp of the least-squares slope of log|(x_k, x_{k−1})| against k. The pair (x_k, x_{k−1}) is
    the state of a two-step method (the heavy ball), so its norm does not pass through zero when x_k
    does (an under-damped mode); fitting the slope over many steps averages the oscillation of the
    norm, and a double root's extra factor k biases ρ by ~log(K/skip)/(K − skip) relative. Steps
    before ``skip`` (the transient) and states beyond 1e±250 (underflow and overflow) are left out;
    a rate > 1 is a growth rate.

    Parameters
    ----------
    x : array_like, shape (n_steps + 1, ..., dim)
        Recorded iterates as ``Trajectory.x`` holds them: step first, coordinates last (their norm is
        taken), particles between; a 1-D array is one coordinate.
    skip : int
        Steps left out at the start.

    Returns
    -------
    float or ndarray
        ρ per particle; nan where fewer than 10 steps are usable.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 1 or len(x) < 3:
        raise ValueError(f"x must have at least 3 recorded steps along its first axis, got {_describe(x)}")
    if isinstance(skip, bool) or not isinstance(skip, (int, np.integer)) or not 0 <= skip < len(x) - 1:
        raise ValueError(f"skip must be an integer in [0, {len(x) - 2}], got {skip!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        size = np.sqrt(np.sum(x * x, axis=-1)) if x.ndim >= 2 else np.abs(x)
        state = np.hypot(size[1:], size[:-1])
    k = np.arange(1, len(x), dtype=np.float64)
    flat = state.reshape(len(state), -1)
    rates = np.full(flat.shape[1], np.nan)
    for j in range(flat.shape[1]):
        ok = (k >= skip) & np.isfinite(flat[:, j]) & (flat[:, j] > 1e-250) & (flat[:, j] < 1e250)
        if ok.sum() >= 10:
            rates[j] = np.exp(np.polyfit(k[ok], np.log(flat[ok, j]), 1)[0])
    rates = rates.reshape(state.shape[1:])
    return float(rates) if rates.ndim == 0 else rates


def sgd_stationary_covariance(A, C, lr: float, batch_size: int, *, continuous: bool = False,
                              hessians=None) -> np.ndarray:
    """The stationary covariance of minibatch SGD near a minimum with Hessian A and gradient-noise covariance C.

    Discrete time (the iterates themselves): θ⁺ − θ* = (I − lr·A)(θ − θ*) − lr·ξ with Cov ξ = C/S,
    so Σ = (I − lr·A)·Σ·(I − lr·A)ᵀ + lr²·C/S, a discrete Lyapunov equation
    (``scipy.linalg.solve_discrete_lyapunov``). With ``continuous=True``, the Ornstein–Uhlenbeck
    limit of Mandt, Hoffman & Blei (2017, eq. 12), A·Σ + Σ·Aᵀ = (lr/S)·C, which differs from the
    discrete answer by O(lr) relative (it drops the lr²·AΣA term).

    Both treat the noise as additive (the same C wherever θ is). A minibatch also sees its own Hessian
    h_B = A + δh_B, a multiplicative noise; with the per-sample Hessians ``hessians`` the recursion of
    the second moment of a quadratic loss (least squares) with batches drawn with replacement is exact:
    e⁺ = (I − lr·h_B)·e − lr·ξ_B with E[e] = 0 gives

        Σ = (I − lr·A)·Σ·(I − lr·A)ᵀ + (lr²/S)·E_i[δh_i·Σ·δh_iᵀ] + lr²·C/S,

    solved as a linear system of size d² (O(d⁶) work: for small d). The extra term is O(lr/S) relative
    to Σ; it is not small when lr·Var(h)/(S·A) is not, e.g. a few per cent at lr·λ ≈ 0.5, S = 4 on
    standardized data (tests/test_published_results.py).

    Parameters
    ----------
    A, C : array_like (d, d)
        Hessian at the minimum and the per-sample gradient covariance there (sampling with replacement).
    lr : float
        Learning rate.
    batch_size : int
        S.
    continuous : bool
        The Ornstein–Uhlenbeck limit instead of the iterates' own covariance.
    hessians : array_like (n, d, d), optional
        The per-sample Hessians at the minimum (for least squares the outer products xᵢxᵢᵀ, plus
        l2·I); their spread about their mean enters as above. Not with ``continuous=True``, whose
        limit drops this O(lr) term with the lr²·AΣA one.

    References
    ----------
    Mandt, S., Hoffman, M. D. & Blei, D. M. (2017). Stochastic gradient descent as approximate
    Bayesian inference. JMLR 18(134), 1-35.
    """
    from scipy.linalg import solve_continuous_lyapunov, solve_discrete_lyapunov

    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    if A.ndim != 2 or A.shape[0] != A.shape[1] or C.shape != A.shape:
        raise ValueError(f"A and C must be square matrices of one shape, got {A.shape} and {C.shape}")
    lr = positive("lr", lr)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if hessians is not None:
        if continuous:
            raise ValueError("hessians: the continuous-time limit has no multiplicative-noise term; pass "
                             "hessians only with continuous=False")
        h = np.asarray(hessians, dtype=np.float64)
        if h.ndim != 3 or h.shape[1:] != A.shape or len(h) < 1 or not np.all(np.isfinite(h)):
            raise ValueError(f"hessians must be a finite array of shape (n, {len(A)}, {len(A)}), got "
                             f"{_describe(hessians)}")
        d = len(A)
        M = np.eye(d) - lr * A
        dh = h - h.mean(axis=0)
        # Row-major vec: vec(P·Σ·Qᵀ) = (P ⊗ Q)·vec(Σ).
        spread = np.einsum("nij,nkl->ikjl", dh, dh).reshape(d * d, d * d) / len(h)
        T = np.kron(M, M) + (lr * lr / batch_size) * spread
        if np.max(np.abs(np.linalg.eigvals(T))) >= 1.0:
            raise ValueError(f"lr: the second moment of SGD grows without bound at lr={lr!r}, batch_size="
                             f"{batch_size!r} (the recursion's spectral radius is ≥ 1): no stationary covariance")
        sigma = np.linalg.solve(np.eye(d * d) - T, ((lr * lr / batch_size) * C).reshape(-1)).reshape(d, d)
    elif continuous:
        sigma = solve_continuous_lyapunov(A, (lr / batch_size) * C)
    else:
        M = np.eye(len(A)) - lr * A
        sigma = solve_discrete_lyapunov(M, (lr * lr / batch_size) * C)
    return 0.5 * (sigma + sigma.T)


def boltzmann(potential, temperature: float, axes) -> tuple[np.ndarray, list]:
    """The Boltzmann density p(x) = exp(−V(x)/T)/Z on a regular grid: what Langevin dynamics samples.

    Parameters
    ----------
    potential : Potential
    temperature : float
        T > 0 (in units of V: k_B = 1).
    axes : sequence of 1-D arrays
        One increasing array per coordinate; the grid is their outer product.

    Returns
    -------
    density : ndarray, shape (len(axes[0]), …)
        p on the grid, normalized so that its integral over the box (trapezoidal rule) is 1.
    mesh : list of ndarray
        ``np.meshgrid(*axes, indexing='ij')``.

    Notes
    -----
    exp(−(V − V_min)/T) is evaluated relative to the grid's lowest V, so the density is finite at any
    temperature; mass outside the box is neglected (choose the box where V − V_min ≫ T at its edges).
    Langevin samples (BAOAB's positions, Leimkuhler & Matthews 2013) are drawn from this density
    up to O(dt²).
    """
    T = positive("temperature", temperature)
    axes = [np.asarray(a, dtype=np.float64) for a in axes]
    if len(axes) != potential.dim or any(a.ndim != 1 or a.size < 2 or np.any(np.diff(a) <= 0) for a in axes):
        raise ValueError(f"axes must be {potential.dim} increasing 1-D arrays of at least two points, one per "
                         f"coordinate, got {[np.shape(a) for a in axes]}")
    mesh = np.meshgrid(*axes, indexing="ij")
    saved = dict(potential.counts)
    try:
        V = potential.value(np.stack(mesh, axis=-1))
    finally:
        potential.counts.update(saved)  # a diagnostic, not a run: the evaluations are not charged
    with np.errstate(over="ignore", invalid="ignore"):
        weight = np.exp(-(V - np.nanmin(V)) / T)
    weight = np.where(np.isfinite(weight), weight, 0.0)
    from scipy.integrate import trapezoid  # numpy < 2 has no np.trapezoid

    Z = weight
    for a in reversed(axes):
        Z = trapezoid(Z, a, axis=-1)
    return weight / Z, mesh
