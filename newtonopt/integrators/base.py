"""The state/step protocol every integrator shares.

An integrator is a small parameter object. ``init(potential, x)`` evaluates the
potential once at the start and returns a :class:`State` holding every buffer
the method needs; ``step(potential, state)`` advances the state in place by one
step with one evaluation of V and ∇V. The run loop (:func:`newtonopt.simulate`)
owns stopping, recording and the error handling; an integrator only steps.

Energy bookkeeping is part of the step: the integrator updates
``state.kinetic`` (per-particle kinetic energy, ``None`` for first-order
methods) and adds the energy removed by its friction step to
``state.dissipated`` (accumulated in float64), so that the ledger
E_k + D_k = E_0 + ε_k is computed from the friction step itself.

Hyperparameters may be arrays with the ensemble's leading shape: particle i then
runs with its own values in the same vectorized step.
"""

from __future__ import annotations

import numpy as np

from .._kernels import rowdot, vdot
from .._validation import nonnegative, positive
from ..core.limits import ContinuousLimit
from ..core.schedule import Schedule
from ..potential import Potential, validate_evaluation


class State:
    """The mutable state of a run.

    Attributes
    ----------
    x : ndarray, shape (..., dim)
        Positions (updated in place).
    grad : ndarray, shape (..., dim)
        ∇V at ``x``.
    value : ndarray or float, shape (...)
        V at ``x``.
    kinetic : ndarray or float or None
        Kinetic energy per particle (None for first-order methods).
    dissipated : ndarray or float
        Energy removed by friction so far, per particle, float64.
    t : float
        Physical time.
    step : int
        Number of steps taken.
    """

    def __init__(self, x, grad, value):
        self.x = x
        self.grad = grad
        self.value = value
        self.kinetic = None
        shape = x.shape[:-1]
        self.dissipated = np.zeros(shape) if shape else 0.0  # float64 either way
        self.t = 0.0
        self.step = 0
        if shape:
            self._gsq = np.empty(shape, dtype=x.dtype)
        self._gsq_step = -1

    @property
    def particle_shape(self) -> tuple:
        return self.x.shape[:-1]

    def grad_sq(self):
        """|∇V|² per particle at the current step, computed at most once per step."""
        if self._gsq_step != self.step:
            g = self.grad
            if g.ndim == 1:  # a Python float: the ledger is float64
                self._gsq = rowdot(g, g)
            else:
                rowdot(g, g, out=self._gsq)
            self._gsq_step = self.step
        return self._gsq


def _per_particle_arrays(params: dict):
    """``(name, array)`` for every hyperparameter given as an array (``betas[0]`` for a pair's entries)."""
    for name, value in params.items():
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                if isinstance(v, np.ndarray) and v.ndim:
                    yield f"{name}[{i}]", v
        elif isinstance(value, np.ndarray) and value.ndim:
            yield name, value


def particle_parameter(value, shape: tuple, dtype, name: str):
    """A hyperparameter ready to broadcast against arrays of shape ``shape + (dim,)``.

    A scalar becomes a 0-d array of ``dtype``: a ufunc takes it without the
    conversion a Python float costs on every call (~0.3 µs, measured on a
    2-element array, where the whole ufunc call costs ~0.5 µs). An array must
    have the ensemble shape ``shape`` and gets a trailing axis of length one.
    """
    if np.ndim(value) == 0:
        return np.array(value, dtype=dtype)
    value = np.asarray(value)
    if value.shape != shape:
        raise ValueError(f"{name} has shape {value.shape}, but the ensemble has shape {shape}: "
                         "a per-particle parameter needs the ensemble's leading shape x0.shape[:-1]")
    return value.astype(dtype)[..., None]


def particle_scalar(value, shape: tuple, name: str):
    """A hyperparameter for per-particle scalars (shape ``shape``), such as ledger terms."""
    if np.ndim(value) == 0:
        return float(value)
    value = np.asarray(value, dtype=np.float64)
    if value.shape != shape:
        raise ValueError(f"{name} has shape {value.shape}, but the ensemble has shape {shape}")
    return value


def book_dissipation(state: State, coeff, energy) -> None:
    """Add ``coeff * energy`` (per particle) to ``state.dissipated`` without allocating."""
    if state.x.ndim == 1:
        state.dissipated += coeff * energy
    else:
        buf = state.__dict__.get("_book_buf")
        if buf is None:
            buf = state._book_buf = np.empty(state.particle_shape)
        np.multiply(energy, coeff, out=buf)
        np.add(state.dissipated, buf, out=state.dissipated)


def kinetic_from(state: State, vec, scale, out_attr: str = "kinetic") -> None:
    """Set ``state.kinetic = scale * |vec|²`` per particle, in place for ensembles."""
    if state.x.ndim == 1:
        setattr(state, out_attr, scale * float(vdot(vec, vec)))
    else:
        out = getattr(state, out_attr)
        if out is None:
            out = np.empty(state.particle_shape, dtype=vec.dtype)
            setattr(state, out_attr, out)
        rowdot(vec, vec, out=out)
        np.multiply(out, scale, out=out)


class Integrator:
    """Base class of integrators (optimizers read as equations of motion).

    Subclasses set ``order`` (1: positions only, overdamped; 2: positions and
    momenta, Newtonian), implement ``_setup(state)`` to allocate their buffers,
    ``_configure(state)`` to derive from their hyperparameters the per-step
    coefficients stored on the state (called again whenever a scheduled
    parameter changes, so it must not touch buffers), ``step(potential,
    state)``, ``params()`` (the constructor's arguments) and ``time_step``.
    A step evaluates the potential through :meth:`Potential.evaluate_into`.

    Where the method has closed forms on a quadratic whose Hessian eigenvalues lie
    in [μ, L], it defines them as classmethods (None here means "no formula"):
    ``stability_limit(L, ...)``, the largest stable value of ``step_parameter``;
    ``rate(mu, L, ...)``, the asymptotic contraction per step; ``tuned_params(mu, L)``,
    the parameters ``tuned`` would choose. Their remaining arguments are the
    method's own parameters by name. :mod:`newtonopt.analysis` and the figures
    read them; a new method adds one line to :mod:`newtonopt.integrators.registry`.
    """

    order: int = 1
    #: Names of the State attributes that hold the method's memory (momenta, moments, adaptive
    #: step sizes...): what a snapshot must keep for a run to be resumed bitwise.
    state_fields: tuple = ()
    #: True for a method that draws random numbers (it takes a ``seed``).
    stochastic: bool = False
    #: The constructor parameter that sets the step size: what ``stability_limit`` bounds.
    step_parameter: str = "lr"
    #: Closed forms on a quadratic (classmethods in the subclasses that have them; see above).
    stability_limit = None
    rate = None
    tuned_params = None
    #: How a figure's legend names those formulas, e.g. "2/λ_max" and "optimal lr = 2/(λ_min + λ_max)".
    stability_limit_label: str = ""
    tuned_params_label: str = ""

    def check_ensemble(self, x_shape: tuple) -> None:
        """Refuse a per-particle parameter (or seed array) whose shape is not the ensemble's.

        Called by :meth:`init` and :meth:`resume` before anything is evaluated, so a mismatch is one
        clear message at the start of a run rather than a broadcasting error at some later step.

        Parameters
        ----------
        x_shape : tuple
            The shape of the positions, ``(*ensemble_shape, dim)``.

        Raises
        ------
        ValueError
            Naming the parameter, its shape and the ensemble's shape.
        """
        shape = tuple(x_shape[:-1])
        for name, value in _per_particle_arrays(self.params()):
            if value.shape != shape:
                raise ValueError(f"{name} has shape {value.shape}, but the ensemble has shape {shape} (x0 has shape "
                                 f"{tuple(x_shape)}): a per-particle parameter needs the ensemble's leading shape "
                                 "x0.shape[:-1]")

    def init(self, potential: Potential, x: np.ndarray) -> State:
        """Evaluate the potential at ``x`` (validating its output) and build the state."""
        self.check_ensemble(x.shape)
        grad = np.empty_like(x)
        value = potential.evaluate_into(x, grad)
        validate_evaluation(potential, x, value, grad)
        state = State(x, grad, value if np.ndim(value) else np.float64(value))
        self._setup(state)
        self.at_step(0)._configure(state)
        if np.ndim(getattr(state, "dt", 0.0)):  # per-particle time steps: per-particle clocks
            state.t = np.zeros(np.shape(state.dt))
        return state

    def snapshot(self, state: State) -> dict:
        """Everything needed to continue the run bitwise (see :meth:`resume`).

        Called when a run ends, so it hands over the run's own arrays (no copy of a large state) where
        they are already in C order.
        """
        snap = {"x": np.ascontiguousarray(state.x), "grad": np.ascontiguousarray(state.grad),
                "value": np.array(state.value), "dissipated": np.array(state.dissipated),
                "t": np.array(state.t), "step": np.array(state.step)}
        if state.kinetic is not None:
            snap["kinetic"] = np.array(state.kinetic)
        for name in self.state_fields:
            value = getattr(state, name)
            # ascontiguousarray would turn a 0-d array (one particle's memory) into shape (1,)
            keep_layout = isinstance(value, np.ndarray) and value.ndim
            snap[name] = np.ascontiguousarray(value) if keep_layout else np.array(value)
        return snap

    def resume(self, potential: Potential, snap: dict) -> State:
        """Rebuild a State from :meth:`snapshot` without evaluating the potential."""
        self.check_ensemble(np.shape(snap["x"]))
        x = np.array(snap["x"], order="F" if snap["x"].ndim > 1 else "C")
        grad = np.array(snap["grad"], dtype=x.dtype, order="F" if x.ndim > 1 else "C")
        value = np.array(snap["value"]) if x.ndim > 1 else np.float64(snap["value"])
        state = State(x, grad, value)
        self._setup(state)
        missing = [name for name in self.state_fields if name not in snap]
        if missing:
            raise ValueError(f"the saved state lacks {missing} needed by {type(self).__name__}: "
                             "was it recorded by another method?")
        for name in self.state_fields:
            current, saved = getattr(state, name, None), snap[name]
            if isinstance(current, np.ndarray) and current.shape == saved.shape:
                np.copyto(current, saved)
            else:
                setattr(state, name, saved.copy() if saved.ndim else saved[()])
        if "kinetic" in snap:
            state.kinetic = np.array(snap["kinetic"]) if x.ndim > 1 else np.float64(snap["kinetic"])
        state.dissipated = np.array(snap["dissipated"], dtype=np.float64) if x.ndim > 1 else np.float64(
            snap["dissipated"])
        state.step = int(snap["step"])
        self.at_step(state.step)._configure(state)
        state.t = np.array(snap["t"]) if np.ndim(snap["t"]) else float(snap["t"])
        return state

    def _setup(self, state: State) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _configure(self, state: State) -> None:
        """Store on ``state`` the coefficients derived from the hyperparameters (default: none)."""

    @property
    def scheduled(self) -> bool:
        """True when some hyperparameter is a Schedule."""
        return any(isinstance(v, Schedule) for v in self.params().values())

    def at_step(self, step: int) -> Integrator:
        """This integrator with every scheduled hyperparameter replaced by its value at ``step``."""
        params = self.params()
        if not any(isinstance(v, Schedule) for v in params.values()):
            return self
        values = {k: (v(step) if isinstance(v, Schedule) else v) for k, v in params.items()}
        return type(self)(**values)

    def step(self, potential: Potential, state: State) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def time_step(self):
        """The physical time step dt of one step."""
        raise NotImplementedError

    def params(self) -> dict:
        """The constructor's parameters, for display and saving."""
        raise NotImplementedError

    def physical_momentum(self, state: State):
        """The physical momentum p (a new array), or None for first-order methods."""
        return None

    def stability_message(self, lam_max: float) -> str | None:
        """Explain a divergence given the largest Hessian eigenvalue, or None."""
        return None

    def continuous_limit(self) -> ContinuousLimit | None:
        """The flow this method discretizes and its time per step (None: no deterministic limit here,
        e.g. the adaptive methods, whose step depends on the gradients' history, or the thermostats)."""
        return None

    def __repr__(self) -> str:
        def fmt(v):
            return f"{v:g}" if isinstance(v, float) else ("array" if isinstance(v, np.ndarray) else repr(v))
        args = ", ".join(f"{k}={fmt(v)}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        a, b = self.params(), other.params()
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)

    __hash__ = None


class NewtonianIntegrator(Integrator):
    """Shared parameters and buffers of integrators of m·ẍ = −∇V − γ·ẋ with a momentum p.

    Subclasses implement ``_configure`` and ``step``; this class holds ``dt``, ``mass`` and
    ``friction`` (validated, scalars or per-particle arrays), allocates p, a scratch array and the
    kinetic energy, and reports p as the physical momentum.
    """

    order = 2
    state_fields = ("p",)
    step_parameter = "dt"

    def __init__(self, dt, mass=1.0, friction=0.0):
        self.dt = positive("dt", dt)
        self.mass = positive("mass", mass)
        self.friction = nonnegative("friction", friction)

    @property
    def time_step(self):
        return self.dt

    def params(self) -> dict:
        return {"dt": self.dt, "mass": self.mass, "friction": self.friction}

    def physics(self) -> dict:
        return {"dt": self.dt, "mass": self.mass, "friction": self.friction}

    def physical_momentum(self, state: State):
        return state.p.copy()

    def continuous_limit(self) -> ContinuousLimit:
        """m·ẍ = −∇V − γ·ẋ from rest, with step k at t = k·dt (:func:`newtonopt.flows.newtonian_flow`)."""
        return ContinuousLimit("newtonian_flow", {"mass": _scalar("mass", self.mass),
                                                  "friction": _scalar("friction", self.friction)},
                               _scalar("dt", self.dt))

    def _setup(self, state: State) -> None:
        state.p = np.zeros_like(state.x)
        state.delta = np.empty_like(state.x)
        state.kinetic = np.zeros(state.particle_shape, dtype=state.x.dtype) if state.particle_shape else np.float64(0.0)


def _scalar(name: str, value) -> float:
    """A hyperparameter as one float: a flow has one set of parameters for every particle."""
    if np.ndim(value) != 0 or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be one number for a continuous limit, got {type(value).__name__} "
                         f"of shape {np.shape(value)} (run each setting on its own)")
    return float(value)


def verlet_stability_message(dt, mass, lam_max: float) -> str | None:
    """Why a Verlet-type step diverged: dt·ω_max ≥ 2 with ω_max = √(λ_max/m)."""
    omega = np.sqrt(lam_max / np.asarray(mass))
    if np.any(np.asarray(dt) * omega >= 2.0):
        return (f"dt = {float(np.max(dt)):.6g} is above the stability limit 2/ω_max = "
                f"{float(np.min(2.0 / omega)):.6g} (λ_max = {lam_max:.6g})")
    return None
