"""scipy.optimize's methods run as peers and recorded as Trajectories.

The conjugate gradient method and its siblings are not integrators of an equation of motion,
but a fair comparison needs them on the same footing: the same start, the same stopping rule
‖∇V‖₂ ≤ gtol (enforced by the callback), and scipy's own iteration and evaluation counts.
"""

from __future__ import annotations

import difflib
import math

import numpy as np
import scipy.optimize as so

from ._validation import _describe, as_int, positive
from .potential import Potential
from .simulate import prepare_start
from .trajectory import Trajectory

# Method name → which derivatives scipy is given.
METHODS = {
    "CG": ("jac",), "BFGS": ("jac",), "L-BFGS-B": ("jac",), "Newton-CG": ("jac", "hessp"),
    "trust-ncg": ("jac", "hessp"), "trust-krylov": ("jac", "hessp"), "trust-exact": ("jac", "hess"),
    "Nelder-Mead": (), "Powell": (),
}


class _Counted:
    """The potential's value, gradient and Hessian products for scipy, with a small cache of the
    evaluations at recent points so the gradient norm at an iterate is read, not recomputed."""

    def __init__(self, potential: Potential):
        self.potential = potential
        self.cache: dict[bytes, dict] = {}

    def _remember(self, x, key, value):
        k = x.tobytes()
        entry = self.cache.setdefault(k, {})
        entry[key] = value
        if len(self.cache) > 16:
            self.cache.pop(next(iter(self.cache)))

    def fun(self, x):
        v = float(self.potential.value(x))
        self._remember(x, "value", v)
        return v

    def jac(self, x):
        g = self.potential.gradient(x)
        self._remember(x, "grad", g.copy())
        return g

    def hessp(self, x, p):
        return self.potential.hvp(x, p)

    def hess(self, x):
        return self.potential.hessian(x)

    def at(self, x) -> tuple[float, np.ndarray]:
        """V and ∇V at an iterate: from the cache when scipy evaluated them there, else uncounted."""
        entry = self.cache.get(np.asarray(x, dtype=np.float64).tobytes(), {})
        saved = dict(self.potential.counts)
        try:
            value = entry.get("value")
            grad = entry.get("grad")
            if value is None:
                value = float(self.potential.value(x))
            if grad is None:
                grad = self.potential.gradient(x)
        finally:
            self.potential.counts.update(saved)
        return value, grad


def _method_name(method: str) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a scipy method name such as 'CG', got {_describe(method)}")
    for name in METHODS:
        if name.lower() == method.lower():
            return name
    close = difflib.get_close_matches(method, list(METHODS), n=3, cutoff=0.4)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown scipy method {method!r}{hint} (supported: {', '.join(METHODS)})")


def _tolerances(name: str, gtol: float, dim: int) -> dict:
    """scipy's own tolerances, set so that scipy never stops before ‖∇V‖₂ ≤ gtol is met.

    CG, BFGS and L-BFGS-B test the ∞-norm; since ‖g‖₂ ≤ √dim·‖g‖∞, their threshold gtol/√dim is
    reached only after our 2-norm rule has stopped the run. Function- and step-based stops are off.
    """
    inf_norm = gtol / math.sqrt(dim)
    if name in ("CG", "BFGS"):
        return {"gtol": inf_norm, **({"xrtol": 0.0} if name == "BFGS" else {})}
    if name == "L-BFGS-B":
        return {"gtol": inf_norm, "ftol": 0.0}
    if name == "Newton-CG":
        return {"xtol": np.finfo(float).tiny}
    if name in ("trust-ncg", "trust-krylov", "trust-exact"):
        return {"gtol": gtol}
    return {}


def scipy_minimize(potential: Potential, x0, method: str = "CG", *, gtol: float | None = None,
                   maxiter: int | None = None, **options) -> Trajectory:
    """Run ``scipy.optimize.minimize`` on ``potential`` and record every iterate as a Trajectory.

    Parameters
    ----------
    potential : Potential
    x0 : array_like, shape (dim,)
        One start (scipy runs one particle; loop for an ensemble).
    method : str
        'CG' (Polak–Ribière nonlinear conjugate gradient), 'BFGS', 'L-BFGS-B', 'Newton-CG',
        'trust-ncg', 'trust-krylov', 'trust-exact', 'Nelder-Mead' or 'Powell'.
    gtol : float, optional
        The shared stopping rule ‖∇V‖₂ ≤ gtol, enforced by the callback; scipy's own
        tolerances are then set so that they never stop the run first. Without it, scipy's
        defaults apply unchanged.
    maxiter : int, optional
        The iteration budget (scipy's ``maxiter``).
    **options
        Passed to scipy in ``options`` (they override the tolerances chosen above).

    Returns
    -------
    Trajectory
        ``status`` is 'converged' when the shared rule ‖∇V‖₂ ≤ gtol was met or scipy reports
        success by its own criteria (the message then says so, with the gradient norm reached),
        'diverged' when V became non-finite, 'max_steps' at ``maxiter``, and otherwise 'failed'
        with scipy's message. ``x`` holds x0 and every iterate; ``x_final`` is scipy's ``res.x``; ``n_steps`` is
        ``res.nit``; ``counts`` are scipy's ``nfev``/``njev``/``nhev`` (counted by the potential
        and checked against scipy's); ``evaluations`` the cumulative gradient evaluations at each
        iterate. ``kinetic_energy`` and ``dissipated`` are NaN and ``p`` is None: these methods
        have no equation of motion. Derivative-free methods get their gradient norms from
        uncounted evaluations.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    name = _method_name(method)
    start = prepare_start(potential, x0)
    if start.ndim != 1:
        raise ValueError(f"x0 must be one start of shape ({potential.dim},) for scipy, got shape {start.shape}; "
                         "run the particles of an ensemble one by one (compare() does)")
    start = np.asarray(start, dtype=np.float64)
    gtol = None if gtol is None else positive("gtol", gtol)
    maxiter = None if maxiter is None else as_int("maxiter", maxiter, low=0)

    counted = _Counted(potential)
    before = dict(potential.counts)
    kwargs = {"fun": counted.fun, "x0": start, "method": name}
    for part in METHODS[name]:
        kwargs[part] = getattr(counted, part)
    opts = _tolerances(name, gtol, potential.dim) if gtol is not None else {}
    if maxiter is not None:
        opts["maxiter"] = maxiter
    opts.update(options)
    kwargs["options"] = opts

    v0, g0 = counted.at(start)
    xs, values, gnorms, evals = [start.copy()], [v0], [float(np.linalg.norm(g0))], [0]
    met = {"gtol": False}

    def callback(intermediate_result):
        x = np.array(intermediate_result.x, dtype=np.float64)
        value, grad = counted.at(x)
        xs.append(x)
        values.append(value)
        gnorms.append(float(np.linalg.norm(grad)))
        evals.append(potential.counts["gradient"] - before["gradient"])
        if gtol is not None and gnorms[-1] <= gtol:
            met["gtol"] = True
            raise StopIteration

    kwargs["callback"] = callback
    try:
        res = so.minimize(**kwargs)
    except KeyboardInterrupt:  # keep every iterate recorded so far
        res = None

    counts = {k: potential.counts[k] - before.get(k, 0) for k in potential.counts}
    if res is not None:
        x_final = np.asarray(res.x, dtype=np.float64)
        if not np.array_equal(x_final, xs[-1]):  # scipy's answer is not the last iterate it reported
            value, grad = counted.at(x_final)
            xs.append(x_final.copy())
            values.append(value)
            gnorms.append(float(np.linalg.norm(grad)))
            evals.append(counts["gradient"])
        scipy_counts = {"value": res.get("nfev", 0), "gradient": res.get("njev", 0), "hessian": res.get("nhev", 0)}
        mismatch = {k: (counts[k], scipy_counts[k]) for k in counts if scipy_counts[k] and counts[k] != scipy_counts[k]}
        nit = int(res.get("nit", len(xs) - 1))
        if met["gtol"]:
            status, message = "converged", f"‖∇V‖ ≤ gtol reached at iteration {nit} (scipy: {res.message})"
        elif not np.isfinite(res.fun):
            status, message = "diverged", f"V became non-finite (scipy: {res.message})"
        elif res.success:  # scipy's own verdict (Nelder–Mead's xatol/fatol, say): reported, not overruled
            status, message = "converged", f"scipy: {res.message}"
            if gtol is not None:
                message += (f" (by scipy's own criteria: ‖∇V‖ = {gnorms[-1]:.3g} has not reached the shared "
                            f"gtol = {gtol:g})")
        elif maxiter is not None and nit >= maxiter:
            status, message = "max_steps", f"reached maxiter = {maxiter} (scipy: {res.message})"
        else:
            status, message = "failed", f"scipy stopped before the tolerance: {res.message}"
        if mismatch:  # scipy's trust-region methods report nhev one above the calls they make
            message += f"; counts are the calls made, scipy reported (made, reported) {mismatch}"
    else:
        x_final, nit = xs[-1], len(xs) - 1
        status, message = "interrupted", f"interrupted after iteration {nit} (KeyboardInterrupt)"

    n = len(xs)
    nan = np.full(n, np.nan)
    traj = Trajectory(
        t=np.arange(n, dtype=np.float64), step=np.arange(n, dtype=np.int64), x=np.array(xs), p=None,
        potential_energy=np.array(values), kinetic_energy=nan, dissipated=nan, grad_norm=np.array(gnorms),
        status=status, message=message, n_steps=nit, counts=counts, x_final=x_final,
        particle_status=np.array(status), converged_step=np.array(nit if status == "converged" else -1),
        diverged_step=np.array(nit if status == "diverged" else -1), method=f"scipy:{name}", params=opts,
        potential=potential.name, minimum_value=potential.minimum_value, evaluations=np.array(evals))
    traj.step[-1] = nit  # a final point appended after scipy's answer sits at its iteration count
    return traj
