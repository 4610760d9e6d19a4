"""Continuous-time references: the flows that optimizers discretize, integrated by scipy.

Each function integrates an ordinary differential equation with :func:`scipy.integrate.solve_ivp`
at tight tolerance (DOP853, rtol = 1e-10 by default; never by a method of this package) and returns a
:class:`~newtonopt.trajectory.Trajectory` sampled at the requested times, with the energy ledger, so
every plot and comparison works on a flow as on a run:

=====================  ===========================================  =====================================
flow                   equation                                     discretized by
=====================  ===========================================  =====================================
``gradient_flow``      γ·ẋ = −∇V                                    gradient descent, t = k·lr·γ
``gradient_flow``      γ·ẋ = −∇Ṽ, Ṽ = V + (lr/4)·|∇V|²             gradient descent, to O(lr²)
(``modified=lr``)                                                   (Barrett & Dherin 2021)
``newtonian_flow``     m·ẍ = −∇V − γ·ẋ                              heavy ball, velocity Verlet, t = k·dt
``nesterov_flow``      ẍ + (r/t)·ẋ + ∇V = 0, ẋ(0) = 0               Nesterov with momentum (k−1)/(k+2),
                                                                    t = k·√lr (Su, Boyd & Candès 2016)
=====================  ===========================================  =====================================

The ledger: K = |p|²/(2m) (zero for first-order flows), D = ∫ γ·|ẋ|² dt, the work of the friction
force (integrated with the motion, not inferred), and ε = V + K + D − E₀, which for an exact flow is
the integration error (≈ rtol) and for the modified flow measures how far Ṽ's flow is from
conserving V's energy.

References
----------
Su, W., Boyd, S. & Candès, E. J. (2016). A differential equation for modeling Nesterov's accelerated
gradient method. JMLR 17(153), 1-43.
Barrett, D. G. T. & Dherin, B. (2021). Implicit gradient regularization. ICLR.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp

from ._validation import _describe, as_parameter
from .core.limits import ContinuousLimit
from .core.reductions import rowdot
from .integrators.registry import find_method
from .potential import Potential
from .trajectory import Trajectory


def _times(t_eval) -> np.ndarray:
    t = np.asarray(t_eval, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise ValueError(f"t_eval must be a non-empty increasing 1-D array of finite times ≥ 0, "
                         f"got {_describe(t_eval)}")
    return t


def _start(potential: Potential, x0) -> np.ndarray:
    x = np.array(x0, dtype=np.float64)
    if x.ndim == 0 and potential.dim == 1:
        x = x.reshape(1)
    if x.ndim == 0 or x.shape[-1] != potential.dim or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite with shape ({potential.dim},) or (n, {potential.dim}), "
                         f"got {_describe(x0)}")
    return x


def _solve(rhs, y0: np.ndarray, t0: float, t: np.ndarray, rtol: float, atol: float, method: str):
    """solve_ivp from (t0, y0) to t[-1], sampled at t; returns (times reached, states, status, message)."""
    rtol = as_parameter("rtol", rtol, low=0.0, low_open=True)
    atol = as_parameter("atol", atol, low=0.0, low_open=True)
    if t[-1] == t0:
        return t, np.repeat(y0[None], len(t), axis=0), "max_steps", "the flow was sampled at its start only"
    with np.errstate(all="ignore"):
        sol = solve_ivp(rhs, (t0, t[-1]), y0, method=method, t_eval=t[t >= t0], rtol=rtol, atol=atol)
    states = sol.y.T
    if sol.status == 0:
        status, message = "max_steps", f"integrated to t = {t[-1]:g} by solve_ivp ({method}, rtol={rtol:g})"
    else:
        status, message = "failed", f"solve_ivp ({method}) stopped at t = {sol.t[-1]:g}: {sol.message}"
    return sol.t, states, status, message


def _trajectory(potential: Potential, name: str, params: dict, shape: tuple, t, x, p, dissipated, mass,
                status: str, message: str, counts_before: dict) -> Trajectory:
    particles = shape[:-1]
    x = x.reshape((len(t),) + shape)
    V = potential.value(x)
    g = potential.gradient(x)
    grad_norm = np.sqrt(rowdot(g, g))
    if p is None:
        K = np.zeros_like(V)
    else:
        p = p.reshape(x.shape)
        K = rowdot(p, p) / (2.0 * mass)
    counts = {k: potential.counts[k] - counts_before[k] for k in counts_before}
    never = np.full(particles, -1, dtype=np.int64)
    return Trajectory(
        t=t, step=np.arange(len(t)), x=x, p=p, potential_energy=V, kinetic_energy=K,
        dissipated=dissipated.reshape((len(t),) + particles), grad_norm=grad_norm, status=status, message=message,
        n_steps=len(t) - 1, counts=counts, x_final=x[-1], particle_status=np.full(particles, status),
        converged_step=never, diverged_step=never.copy(), method=name, params=params, potential=potential.name,
        minimum_value=potential.minimum_value, record="all")


def gradient_flow(potential: Potential, x0, t_eval, *, friction: float = 1.0, modified: float | None = None,
                  rtol: float = 1e-10, atol: float = 1e-12, method: str = "DOP853") -> Trajectory:
    """The overdamped flow γ·ẋ = −∇V, or with ``modified=lr`` the modified flow of gradient descent.

    Parameters
    ----------
    potential : Potential
    x0 : array_like, shape (dim,) or (n, dim)
        Start (an ensemble is integrated as one system).
    t_eval : array_like
        Increasing times ≥ 0 at which to sample the flow; the start is x0 at t = 0.
    friction : float
        γ > 0. Gradient descent with learning rate lr is explicit Euler of this flow with
        dt = lr·γ, so step k sits at t = k·lr·γ.
    modified : float, optional
        The learning rate lr of the gradient descent whose modified equation is wanted:
        γ·ẋ = −∇Ṽ with Ṽ = V + (lr/4)·|∇V|², whose solution gradient descent follows to O(lr²)
        instead of O(lr) (Barrett & Dherin 2021); ∇Ṽ = ∇V + (lr/2)·∇²V·∇V uses the potential's
        Hessian–vector product.
    rtol, atol : float
        solve_ivp's tolerances.
    method : str
        solve_ivp's method ('DOP853'; 'Radau' for stiff problems).

    Returns
    -------
    Trajectory
        Sampled at t_eval (t from 0), x, V, K = 0, D = ∫ γ·|ẋ|² dt, status 'max_steps' when the
        integration reached the last time ('failed' with solve_ivp's message otherwise).
    """
    t = _times(t_eval)
    gamma = as_parameter("friction", friction, low=0.0, low_open=True)
    lr = None if modified is None else as_parameter("modified", modified, low=0.0, low_open=True)
    x = _start(potential, x0)
    shape, n = x.shape, x.size
    before = dict(potential.counts)

    def velocity(y):
        xs = y[:n].reshape(shape)
        g = potential.gradient(xs)
        if lr is not None:
            g = g + (0.5 * lr) * potential.hvp(xs, g)
        return -g / gamma

    def rhs(_, y):
        v = velocity(y)
        return np.concatenate([v.reshape(-1), gamma * np.atleast_1d(rowdot(v, v)).reshape(-1)])

    y0 = np.concatenate([x.reshape(-1), np.zeros(max(1, int(np.prod(shape[:-1]))))])
    times, states, status, message = _solve(rhs, y0, 0.0, t, rtol, atol, method)
    name = "gradient flow" if lr is None else "modified gradient flow"
    params = {"friction": gamma} if lr is None else {"friction": gamma, "lr": lr}
    return _trajectory(potential, name, params, shape, times, states[:, :n], None, states[:, n:], 1.0, status,
                       message, before)


def newtonian_flow(potential: Potential, x0, t_eval, *, mass: float = 1.0, friction: float = 0.0, v0=None,
                   rtol: float = 1e-10, atol: float = 1e-12, method: str = "DOP853") -> Trajectory:
    """Damped Newtonian motion m·ẍ = −∇V − γ·ẋ, the limit of the heavy ball and of velocity Verlet.

    The heavy ball with lr = dt²/m and momentum β = 1 − γ·dt/m is symplectic Euler of this
    equation: step k sits at t = k·dt.

    Parameters
    ----------
    potential : Potential
    x0 : array_like, shape (dim,) or (n, dim)
    t_eval : array_like
        Increasing times ≥ 0.
    mass, friction : float
        m > 0 and γ ≥ 0.
    v0 : array_like, optional
        Initial velocity ẋ(0) (default zero).
    rtol, atol, method
        As in :func:`gradient_flow`.

    Returns
    -------
    Trajectory
        x, p = m·ẋ, V, K = |p|²/(2m), D = ∫ γ·|ẋ|² dt; without friction E = V + K is conserved.
    """
    t = _times(t_eval)
    m = as_parameter("mass", mass, low=0.0, low_open=True)
    gamma = as_parameter("friction", friction, low=0.0)
    x = _start(potential, x0)
    shape, n = x.shape, x.size
    v = np.zeros(shape) if v0 is None else np.broadcast_to(np.asarray(v0, dtype=np.float64), shape).copy()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"v0 must be finite, got {_describe(v0)}")
    before = dict(potential.counts)

    def rhs(_, y):
        xs, vs = y[:n].reshape(shape), y[n:2 * n].reshape(shape)
        a = (-potential.gradient(xs) - gamma * vs) / m
        heat = gamma * np.atleast_1d(rowdot(vs, vs)).reshape(-1)
        return np.concatenate([vs.reshape(-1), a.reshape(-1), heat])

    y0 = np.concatenate([x.reshape(-1), v.reshape(-1), np.zeros(max(1, int(np.prod(shape[:-1]))))])
    times, states, status, message = _solve(rhs, y0, 0.0, t, rtol, atol, method)
    return _trajectory(potential, "Newtonian flow", {"mass": m, "friction": gamma}, shape, times, states[:, :n],
                       m * states[:, n:2 * n], states[:, 2 * n:], m, status, message, before)


def nesterov_flow(potential: Potential, x0, t_eval, *, r: float = 3.0, rtol: float = 1e-10, atol: float = 1e-12,
                  method: str = "DOP853") -> Trajectory:
    """Su, Boyd & Candès's limit of Nesterov's method: ẍ + (r/t)·ẋ + ∇V = 0, x(0) = x0, ẋ(0) = 0.

    Nesterov's iterates with step s and momentum (k − 1)/(k + 2) (r = 3) follow it at t = k·√s.
    The friction r/t is infinite at t = 0; the solution is analytic there, x(t) = x0 −
    t²/(2(1 + r))·∇V(x0) + O(t⁴), so the integration starts from that expansion at t₀ = 10⁻⁶·T
    (the neglected terms are ~10⁻²⁴·T⁴, far below the tolerance).

    Parameters
    ----------
    potential : Potential
    x0 : array_like, shape (dim,) or (n, dim)
    t_eval : array_like
        Increasing times ≥ 0 (t = 0 gives x0).
    r : float
        The friction constant, r > 0 (3 for Nesterov's (k − 1)/(k + 2); the flow converges as O(1/t²)
        for r ≥ 3).
    rtol, atol, method
        As in :func:`gradient_flow`.

    Returns
    -------
    Trajectory
        x, p = ẋ (unit mass), V, K = |ẋ|²/2, D = ∫ (r/t)·|ẋ|² dt.
    """
    t = _times(t_eval)
    r = as_parameter("r", r, low=0.0, low_open=True)
    x = _start(potential, x0)
    shape, n = x.shape, x.size
    before = dict(potential.counts)
    t0 = 1e-6 * t[-1] if t[-1] > 0 else 0.0
    g0 = potential.gradient(x)
    x_start = x - (t0 * t0 / (2.0 * (1.0 + r))) * g0
    v_start = -(t0 / (1.0 + r)) * g0
    particles = max(1, int(np.prod(shape[:-1])))
    # D(t0) = ∫₀^t0 (r/s)·|ẋ|² ds with ẋ = −s·∇V(x0)/(1 + r): r·t0²·|∇V|²/(2(1 + r)²)
    d_start = np.atleast_1d(r * t0 * t0 * rowdot(g0, g0) / (2.0 * (1.0 + r) ** 2)).reshape(-1)

    def rhs(s, y):
        xs, vs = y[:n].reshape(shape), y[n:2 * n].reshape(shape)
        a = -potential.gradient(xs) - (r / s) * vs
        heat = (r / s) * np.atleast_1d(rowdot(vs, vs)).reshape(-1)
        return np.concatenate([vs.reshape(-1), a.reshape(-1), heat])

    y0 = np.concatenate([x_start.reshape(-1), v_start.reshape(-1), d_start])
    times, states, status, message = _solve(rhs, y0, t0, t, rtol, atol, method)
    if t[0] < t0:  # the samples before t0 come from the expansion
        early = t[t < t0]
        rows = [np.concatenate([(x - (s * s / (2.0 * (1.0 + r))) * g0).reshape(-1),
                                (-(s / (1.0 + r)) * g0).reshape(-1),
                                np.atleast_1d(r * s * s * rowdot(g0, g0) / (2.0 * (1.0 + r) ** 2)).reshape(-1)])
                for s in early]
        times, states = np.concatenate([early, times]), np.concatenate([np.array(rows), states])
    return _trajectory(potential, "Nesterov flow", {"r": r}, shape, times, states[:, :n], states[:, n:2 * n],
                       states[:, 2 * n:2 * n + particles], 1.0, status, message, before)


_FLOWS = {"gradient_flow": gradient_flow, "newtonian_flow": newtonian_flow, "nesterov_flow": nesterov_flow}


class FlowComparison(NamedTuple):
    """A run beside the flow it discretizes, at matched times.

    Attributes
    ----------
    t : ndarray, shape (n_records,)
        The times t = k·time_per_step of the run's records.
    distance : ndarray, shape (n_records, *particles)
        |x_k − x(t_k)| per record (and particle).
    flow : Trajectory
        The flow sampled at those times.
    limit : ContinuousLimit
        The method's statement of its limit.
    """

    t: np.ndarray
    distance: np.ndarray
    flow: Trajectory
    limit: ContinuousLimit


def compare_with_flow(trajectory: Trajectory, potential: Potential, method=None, **solver) -> FlowComparison:
    """Put a recorded run beside the continuous-time flow its method discretizes.

    Parameters
    ----------
    trajectory : Trajectory
        A run of ``simulate`` with positions recorded (``record='all'``), from rest.
    potential : Potential
        The potential it ran on.
    method : Integrator, optional
        The method it ran with (default: rebuilt from the Trajectory's method name and parameters).
    **solver
        rtol, atol, method for solve_ivp.

    Returns
    -------
    FlowComparison
        The distance per record: O(lr) for gradient descent and symplectic Euler, O(dt²) for velocity
        Verlet, at fixed time.
    """
    if trajectory.x is None:
        raise ValueError("trajectory: its positions were not recorded (record='scalars'); record them with "
                         "record='all' to compare with a flow")
    if method is None:
        method = find_method(trajectory.method).cls(**trajectory.params)
    limit = method.continuous_limit()
    if limit is None:
        raise ValueError(f"{type(method).__name__} states no continuous-time limit (adaptive and stochastic "
                         "methods have none here)")
    t = np.asarray(trajectory.step, dtype=np.float64) * limit.time_per_step
    flow = _FLOWS[limit.flow](potential, trajectory.x[0], t, **limit.params, **solver)
    distance = np.sqrt(rowdot(trajectory.x - flow.x, trajectory.x - flow.x))
    return FlowComparison(t, distance, flow, limit)
