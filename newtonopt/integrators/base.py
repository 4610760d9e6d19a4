"""The protocol every method shares: parameters, coefficients, memory, and the update rule.

A method (an :class:`Integrator`) is a small parameter object written as its formula:

* ``coefficients(particles, dtype)`` derives, from the hyperparameters, the numbers the rule uses
  (a frozen dataclass: ``lr``, ``momentum``, ``dt``...; Python floats, or per-particle arrays of
  the ensemble's shape when a hyperparameter is given per particle);
* ``init_memory(x)`` returns the method's memory (a dataclass: momenta, moments, adaptive step
  sizes), from which snapshots and resumption are derived;
* ``update(c, s, f, potential)`` is the rule, one line per line of the formula. ``f`` holds the
  run's per-coordinate arrays as :class:`~newtonopt.core.expressions.Field` objects (``f.x``,
  ``f.grad`` and the memory's arrays by name), whose arithmetic is executed by the run's backend;
  ``s`` is the :class:`State`, with the per-particle ledger (``s.value``, ``s.kinetic``,
  ``s.dissipated``), the clock ``s.t``, the memory ``s.memory`` and the reductions ``s.sq_norm``
  and ``s.dot`` (fixed summation order: the same bits on every CPU); ``s.evaluate(potential)``
  takes the step's one evaluation of V and ∇V.

The run loop (:func:`newtonopt.simulate`) owns stopping, recording and the error handling.

Energy bookkeeping is part of the rule: it sets ``s.kinetic`` (per-particle kinetic energy,
None for first-order methods) and adds the energy removed by its friction step to
``s.dissipated`` (float64), so that the ledger E_k + D_k = E_0 + ε_k is computed from the friction
step itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels import rowdot
from .._validation import nonnegative, positive
from ..core.expressions import Field, NumpyEvaluator
from ..core.limits import ContinuousLimit
from ..core.schedule import Schedule
from ..potential import Potential, validate_evaluation


class Fields:
    """The run's per-coordinate arrays as :class:`Field` objects, by name (``f.x``, ``f.grad``, ...).

    A rule assigns *into* a field (``f.x[...] = ...``, ``f.x -= ...``); rebinding one (``f.x = ...``)
    would detach it from the run's array, which tests/test_methods_protocol.py checks no method does.
    """

    def __init__(self, evaluator, arrays: dict):
        for name, array in arrays.items():
            setattr(self, name, Field(array, evaluator, name))


def working(**kwargs):
    """A memory entry that is rebuilt rather than saved (a noise stream, the buffer its normals are
    drawn into): snapshots leave it out and resumption makes it afresh with :meth:`Integrator.init_memory`."""
    return dataclasses.field(metadata={"saved": False}, **kwargs)


def saved_entries(memory) -> list:
    """The names of the entries of ``memory`` that a snapshot keeps."""
    return [item.name for item in dataclasses.fields(memory) if item.metadata.get("saved", True)]


@dataclasses.dataclass
class NoMemory:
    """The memory of a method that has none (gradient descent)."""


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
    t : float or ndarray
        Physical time (per particle when the time step is).
    step : int
        Number of steps taken.
    memory : dataclass
        The method's memory (see :meth:`Integrator.init_memory`).
    coefficients : dataclass
        The method's coefficients for the current step (see :meth:`Integrator.coefficients`).
    fields : Fields
        ``x``, ``grad`` and the memory's per-coordinate arrays as fields.
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
        self.memory = NoMemory()
        self.coefficients = None
        if shape:
            self._gsq = np.empty(shape, dtype=x.dtype)
        self._gsq_step = -1
        self.evaluator = NumpyEvaluator()
        self.fields = Fields(self.evaluator, {"x": x, "grad": grad})
        self._dx = None

    def attach(self, memory) -> None:
        """Keep ``memory`` and give its per-coordinate arrays (shaped like x) to the fields."""
        self.memory = memory
        arrays = {"x": self.x, "grad": self.grad}
        for item in dataclasses.fields(memory):
            value = getattr(memory, item.name)
            if isinstance(value, np.ndarray) and value.shape == self.x.shape:
                arrays[item.name] = value
        self.fields = Fields(self.evaluator, arrays)

    @property
    def particle_shape(self) -> tuple:
        return self.x.shape[:-1]

    def displacement(self, expression) -> Field:
        """Δx = ``expression``, evaluated into the run's displacement array (kept for the run), as a field:
        for a rule that needs the step itself (its length, or the force's work along it) before moving."""
        if self._dx is None:
            self._dx = Field(np.empty_like(self.x), self.evaluator, "dx")
        self._dx[...] = expression
        return self._dx

    def evaluate(self, potential: Potential) -> None:
        """V and ∇V at the current positions: the step's one evaluation."""
        self.value = potential.evaluate_into(self.x, self.grad)

    def sq_norm(self, a):
        """|a|² per particle (a Field or an array shaped like x), in the package's fixed order."""
        return self.dot(a, a)

    def dot(self, a, b):
        """a·b per particle (Fields or arrays shaped like x), in the package's fixed order."""
        a = a.array if isinstance(a, Field) else a
        b = b.array if isinstance(b, Field) else b
        return float(rowdot(a, b)) if a.ndim == 1 else rowdot(a, b)

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


def per_particle(name: str, value, particles: tuple):
    """A hyperparameter as a coefficient: a Python float, or a float64 array of the ensemble's shape.

    Raises
    ------
    ValueError
        When an array does not have the ensemble's shape ``particles``.
    """
    if np.ndim(value) == 0:
        return float(value)
    value = np.asarray(value, dtype=np.float64)
    if value.shape != particles:
        raise ValueError(f"{name} has shape {value.shape}, but the ensemble has shape {particles}: a per-particle "
                         "parameter needs the ensemble's leading shape x0.shape[:-1]")
    return value


class Integrator:
    """Base class of integrators (optimizers read as equations of motion).

    A method sets ``order`` (1: positions only, overdamped; 2: positions and momenta, Newtonian)
    and writes, beside its docstring's formula: ``__init__`` (validated hyperparameters),
    ``params()`` (the constructor's arguments), ``time_step``, ``coefficients(particles, dtype)``,
    ``init_memory(x)`` (if it has memory) and ``update(c, s, f, potential)`` (see the module's
    docstring); then one line in :mod:`newtonopt.integrators.registry`. Snapshots, resumption,
    schedules (a scheduled hyperparameter's coefficients are derived again at each step) and the
    backends are shared.

    Where the method has closed forms on a quadratic whose Hessian eigenvalues lie
    in [μ, L], it defines them as classmethods (None here means "no formula"):
    ``stability_limit(L, ...)``, the largest stable value of ``step_parameter``;
    ``rate(mu, L, ...)``, the asymptotic contraction per step; ``tuned_params(mu, L)``,
    the parameters ``tuned`` would choose. Their remaining arguments are the
    method's own parameters by name. :mod:`newtonopt.analysis` and the figures
    read them; a new method adds one line to :mod:`newtonopt.integrators.registry`.
    """

    order: int = 1
    #: True for a method that draws random numbers (it takes a ``seed``).
    stochastic: bool = False
    #: True when the ledger bounds the potential energy, V ≤ E₀ − D + ε with D ≥ 0 (no heat bath, friction
    #: only removes energy): then V far above E₀ means a discretization error ε out of bounds, an unstable
    #: step, and the run says so early (newtonopt.engine.stopping.GROWTH_FACTOR).
    energy_bounded: bool = True
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
        if self.per_particle_clock(state):
            state.t = np.zeros(state.particle_shape)
        return state

    def per_particle_clock(self, state: State) -> bool:
        """True when each particle keeps its own time (its time step is its own)."""
        return np.ndim(getattr(state.coefficients, "dt", 0.0)) > 0

    def init_memory(self, x: np.ndarray):
        """The method's memory at the start, for positions ``x`` (a dataclass; default: none)."""
        return NoMemory()

    def initial_kinetic(self, x: np.ndarray):
        """The kinetic energy at the start: None for a first-order method, zeros (at rest) otherwise."""
        if self.order == 1:
            return None
        shape = x.shape[:-1]
        return np.zeros(shape, dtype=x.dtype) if shape else np.float64(0.0)

    def coefficients(self, particles: tuple, dtype):
        """The numbers the rule uses, derived from the hyperparameters (a frozen dataclass)."""
        raise NotImplementedError

    def update(self, c, s: State, f: Fields, potential: Potential) -> None:  # pragma: no cover - abstract
        """One step of the rule (see the module's docstring)."""
        raise NotImplementedError

    @property
    def state_fields(self) -> tuple:
        """The names of the memory's entries: what a snapshot keeps beyond x, V, ∇V and the ledger."""
        return tuple(saved_entries(self.init_memory(np.zeros((1, 1)))))

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
        for name in saved_entries(state.memory):
            value = getattr(state.memory, name)
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
        memory = self.init_memory(x)
        names = saved_entries(memory)
        missing = [name for name in names if name not in snap]
        if missing:
            raise ValueError(f"the saved state lacks {missing} needed by {type(self).__name__}: "
                             "was it recorded by another method?")
        for name in names:
            current, saved = getattr(memory, name), snap[name]
            if isinstance(current, np.ndarray) and current.shape == saved.shape:
                np.copyto(current, saved)
            else:
                setattr(memory, name, saved.copy() if saved.ndim else saved[()])
        state.attach(memory)
        if "kinetic" in snap:
            state.kinetic = np.array(snap["kinetic"]) if x.ndim > 1 else np.float64(snap["kinetic"])
        state.dissipated = np.array(snap["dissipated"], dtype=np.float64) if x.ndim > 1 else np.float64(
            snap["dissipated"])
        state.step = int(snap["step"])
        self.at_step(state.step)._configure(state)
        state.t = np.array(snap["t"]) if np.ndim(snap["t"]) else float(snap["t"])
        return state

    def _setup(self, state: State) -> None:
        """Give the state this method's memory and its kinetic energy at the start."""
        state.attach(self.init_memory(state.x))
        state.kinetic = self.initial_kinetic(state.x)

    def _configure(self, state: State) -> None:
        """Store on ``state`` this method's coefficients (again whenever a scheduled parameter changes)."""
        state.coefficients = self.coefficients(state.particle_shape, state.x.dtype)

    def step(self, potential: Potential, state: State) -> None:
        """One step, in place: the rule :meth:`update` with the state's coefficients and fields."""
        self.update(state.coefficients, state, state.fields, potential)

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


@dataclasses.dataclass
class Momentum:
    """The memory of a Newtonian integrator: the momentum p, per coordinate."""

    p: np.ndarray


class NewtonianIntegrator(Integrator):
    """Shared parameters of integrators of m·ẍ = −∇V − γ·ẋ with a momentum p (from rest).

    Holds ``dt``, ``mass`` and ``friction`` (validated, scalars or per-particle arrays); the
    memory is p; subclasses write ``coefficients`` and ``update``.
    """

    order = 2
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

    def init_memory(self, x: np.ndarray) -> Momentum:
        return Momentum(p=np.zeros_like(x))

    def physical_momentum(self, state: State):
        return state.memory.p.copy()

    def continuous_limit(self) -> ContinuousLimit:
        """m·ẍ = −∇V − γ·ẋ from rest, with step k at t = k·dt (:func:`newtonopt.flows.newtonian_flow`)."""
        return ContinuousLimit("newtonian_flow", {"mass": _scalar("mass", self.mass),
                                                  "friction": _scalar("friction", self.friction)},
                               _scalar("dt", self.dt))


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
