"""newtonopt's methods inside a torch training loop, with the energy ledger kept as the model trains.

:class:`Optimizer` is a ``torch.optim.Optimizer`` that steps any newtonopt method (HeavyBall, Adam,
Langevin, VelocityVerlet, FIRE, ...) on a model's parameters by running the method's own ``update``
rule on the flattened parameter vector::

    import newtonopt as no
    import newtonopt.torch

    opt = newtonopt.torch.Optimizer(model.parameters(), no.HeavyBall(lr=0.05, momentum=0.9))
    for xb, yb in batches:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step(loss=loss)          # loss= is optional: it fills the ledger's V
    traj = opt.trajectory()          # a newtonopt Trajectory: every plot works on it

The module is named after the framework it bridges (like ``newtonopt.potentials.autodiff``'s
``from_torch``): Python 3's imports are absolute, so ``import torch`` here and elsewhere in the
package is the real torch; this module is reached only as ``newtonopt.torch`` and is not imported by
``import newtonopt`` (torch is an optional extra).

When the gradient is evaluated
------------------------------
A method's rule takes one evaluation of V and ∇V per step, ``s.evaluate(potential)``, at the
moved parameters. Where nothing after that evaluation reads it — gradient descent, the heavy ball,
Nesterov, Adam, RMSprop, Adagrad, FIRE — the evaluation is *deferred*: it is the next step's
``backward`` (or the next step's closure), exactly torch's convention, so the iterates are
torch.optim's. Where the rule goes on using the new gradient within the step — velocity Verlet's
second kick, Langevin's last B step — the optimizer needs a closure (``optimizer.step(closure)``),
called inside the rule at the moved parameters, once per step (and once more at the very first step,
for the starting gradient). Which case a method is in is read from its rule, not from a list: it is
stepped once on a probe whose evaluation returns NaN, and a NaN in its positions, memory or ledger
means the rule used the evaluation (:func:`defers_evaluation`).

The ledger
----------
Per step: V (the minibatch loss: the closure's, or ``loss=``), K, the dissipated energy D, the
energy error ε = V + K + D − E₀, ‖∇V‖, the kinetic temperature 2K/d, and, when measured with
:meth:`Optimizer.measure_noise`, the SGD noise temperature. With a deferred evaluation, the row of
step k is completed at step k + 1, when the loss and gradient at those parameters are known; so
:meth:`Optimizer.trajectory` ends at the last parameters whose loss was computed.

The state is kept in the parameters' dtype (all parameters must share one: float32 or float64),
as torch's own optimizers do; the ledger is float64.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from newtonopt._validation import _describe
from newtonopt.integrators.base import Integrator, NewtonianIntegrator, State, saved_entries
from newtonopt.integrators.gradient_descent import GradientDescent
from newtonopt.integrators.heavy_ball import HeavyBall
from newtonopt.trajectory import Trajectory

__all__ = ["Optimizer", "defers_evaluation"]

_COLUMNS = ("step", "t", "V", "K", "D", "grad_norm", "noise_temperature")
_DEFERS: dict[type, bool] = {}


class _NaNProbe:
    """A potential whose every evaluation is NaN: what a rule reads from it shows."""

    def evaluate_into(self, x, out):
        out[...] = np.nan
        return np.float64(np.nan)


def defers_evaluation(method: Integrator) -> bool:
    """True when ``method``'s evaluation is the last thing its rule does with V and ∇V.

    The rule is run for one step on a 3-coordinate probe whose evaluation returns NaN: if the
    positions, the kinetic or dissipated energy and the saved memory all stay finite, nothing after
    ``s.evaluate`` read the new V or ∇V, and that evaluation can be the next step's backward pass.
    The answer is kept per class.

    Parameters
    ----------
    method : Integrator
        A newtonopt method.
    """
    if not isinstance(method, Integrator):
        raise TypeError(f"method must be a newtonopt method (an Integrator, e.g. no.HeavyBall(0.1)), "
                        f"got {_describe(method)}")
    kind = type(method)
    if kind not in _DEFERS:
        state = State(np.array([0.5, -0.25, 1.0]), np.array([0.3, 0.2, -0.1]), np.float64(1.0))
        stepper = method.at_step(0)
        stepper._setup(state)
        stepper._configure(state)
        with np.errstate(all="ignore"):
            stepper.update(state.coefficients, state, state.fields, _NaNProbe())
        numbers = [state.x, state.dissipated, 0.0 if state.kinetic is None else state.kinetic]
        numbers += [getattr(state.memory, name) for name in saved_entries(state.memory)]
        _DEFERS[kind] = all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in numbers)
    return _DEFERS[kind]


def _numpy_dtype(dtype) -> np.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"params must be float32 or float64 tensors (newtonopt's state is a numpy array), "
                        f"got {dtype}")
    return np.dtype("float64" if dtype == torch.float64 else "float32")


def _as_float(loss) -> float:
    if loss is None:
        return math.nan
    if isinstance(loss, torch.Tensor):
        if loss.numel() != 1:
            raise ValueError(f"loss must be a scalar, got a tensor of shape {tuple(loss.shape)}")
        return float(loss.detach().item())
    if isinstance(loss, (int, float, np.integer, np.floating)):
        return float(loss)
    raise TypeError(f"loss must be a scalar tensor or a number, got {_describe(loss)}")


class _ClosurePotential:
    """V and ∇V at the rule's positions: write them into the parameters and call the closure."""

    def __init__(self, optimizer: Optimizer, closure):
        self.optimizer = optimizer
        self.closure = closure
        self.loss = None

    def evaluate_into(self, x, out):
        self.optimizer._write(x)
        self.loss = self.optimizer._call(self.closure)
        self.optimizer._read_grad(out)
        return np.float64(_as_float(self.loss))


class _Deferred:
    """The evaluation left to the next step's backward pass: nothing now."""

    def evaluate_into(self, x, out):
        return np.float64(np.nan)


class Optimizer(torch.optim.Optimizer):
    """A torch optimizer that steps a newtonopt method on the parameters, keeping its energy ledger.

    Parameters
    ----------
    params : iterable of tensors (or one parameter group)
        The parameters, as for any torch optimizer; all of one dtype (float32 or float64).
    method : Integrator
        Any newtonopt method with scalar hyperparameters (Schedules allowed), e.g.
        ``no.HeavyBall(0.05, 0.9)``, ``no.Adam(1e-3)``, ``no.Langevin(0.05, friction=2, temperature=1e-3)``.
    noise_lr : float, optional
        The effective learning rate η used by :meth:`measure_noise` (T = η·tr C/(2·S·d)). Default: lr
        for gradient descent, lr/(1 − μ) for the heavy ball and Nesterov, dt²/(m·(1 − e^(−γ·dt/m)))
        for the Newtonian methods (the heavy ball they match); adaptive methods have no single η and
        need it given.

    Notes
    -----
    ``step(closure=None, *, loss=None)``: the closure follows torch's convention (zero the gradients,
    compute the loss, ``backward``, return the loss). See the module's docstring for when it is
    needed. torch's learning-rate schedulers do not apply (the hyperparameters are the method's);
    use a newtonopt Schedule in the method instead.
    """

    def __init__(self, params, method: Integrator, *, noise_lr: float | None = None):
        self.defers = defers_evaluation(method)
        for name, value in method.params().items():
            values = value if isinstance(value, (tuple, list)) else (value,)
            if any(isinstance(v, np.ndarray) and v.ndim for v in values):
                raise ValueError(f"method's {name} is an array (one value per particle); an optimizer of a "
                                 "model's parameters steps one particle: give one number")
        super().__init__(params, {})
        tensors = [p for group in self.param_groups for p in group["params"]]
        if not tensors:
            raise ValueError("params is empty: the optimizer has no parameters to step")
        dtypes = {p.dtype for p in tensors}
        if len(dtypes) > 1:
            raise TypeError(f"params must share one dtype, got {sorted(map(str, dtypes))}")
        self.dtype = _numpy_dtype(tensors[0].dtype)
        self.method = method
        self.noise_lr = None if noise_lr is None else float(noise_lr)
        if self.noise_lr is not None and not self.noise_lr > 0:
            raise ValueError(f"noise_lr must be positive, got {noise_lr!r}")
        self._tensors = tensors
        self._sizes = [p.numel() for p in tensors]
        self.dim = int(sum(self._sizes))
        self._s: State | None = None
        self._rows: list[list[float]] = []
        self._pending: list[float] | None = None  # the last step's row, waiting for V and ∇V
        self._noise = math.nan                     # the noise temperature measured for the next row
        self.evaluations = 0

    def add_param_group(self, param_group: dict) -> None:
        """Called by torch while constructing; afterwards refused (the flattened state has a fixed size)."""
        if hasattr(self, "_tensors"):
            raise RuntimeError("newtonopt.torch.Optimizer steps one flattened parameter vector fixed at construction: "
                               "build a new optimizer with all the parameters instead of add_param_group")
        super().add_param_group(param_group)

    # ------------------------------------------------------------------ parameters <-> the state
    def _flat_params(self) -> np.ndarray:
        with torch.no_grad():
            return np.concatenate([p.detach().cpu().reshape(-1).numpy() for p in self._tensors]).astype(
                self.dtype, copy=False)

    def _write(self, x: np.ndarray) -> None:
        with torch.no_grad():
            start = 0
            for p, n in zip(self._tensors, self._sizes):
                p.copy_(torch.from_numpy(np.ascontiguousarray(x[start:start + n])).view_as(p))
                start += n

    def _read_grad(self, out: np.ndarray) -> None:
        start = 0
        for p, n in zip(self._tensors, self._sizes):
            if p.grad is None:
                out[start:start + n] = 0.0  # as torch's optimizers skip it: no force on this parameter
            elif p.grad.is_sparse:
                raise TypeError("sparse gradients are not supported by newtonopt.torch.Optimizer")
            else:
                out[start:start + n] = p.grad.detach().cpu().reshape(-1).numpy()
            start += n

    def _call(self, closure):
        self.evaluations += 1
        with torch.enable_grad():
            return closure()

    # ------------------------------------------------------------------ the step
    def step(self, closure=None, *, loss=None):
        """One step of the method. Returns the loss the closure computed this step (or ``loss``).

        Parameters
        ----------
        closure : callable, optional
            Zeroes the gradients, computes the loss, calls ``backward`` and returns the loss.
            Required by methods that use the gradient at the moved parameters within the step.
        loss : tensor or float, optional
            The loss at the current parameters (whose ``backward`` filled the gradients), for the
            ledger's V when there is no closure.
        """
        if closure is not None and not callable(closure):
            raise TypeError(f"closure must be callable, got {_describe(closure)}")
        if closure is None and not self.defers:
            raise RuntimeError(f"{type(self.method).__name__} uses the gradient at the moved parameters within the "
                               "step (its rule reads ∇V after evaluating it), so it needs a closure that recomputes "
                               "the loss and its gradient: optimizer.step(closure), where closure() zeroes the "
                               "gradients, computes the loss, calls backward and returns the loss")
        if closure is not None and loss is not None:
            raise ValueError("give a closure or loss=, not both (the closure computes the loss)")
        returned = loss
        s = self._s
        if s is None or self.defers:  # V and ∇V at the current parameters: this step's backward
            if closure is not None:
                returned = self._call(closure)
            else:
                self.evaluations += 1  # the caller's backward pass
            value = _as_float(returned)
            if s is None:
                x = self._flat_params()
                grad = np.empty_like(x)
                self._read_grad(grad)
                s = self._start(x, grad, value)
            else:
                s.x[...] = self._flat_params()  # the same values unless the user moved them in between
                self._read_grad(s.grad)
                s.value = np.float64(value)
            self._complete(s)
        stepper = self.method.at_step(s.step) if self.method.scheduled else self.method
        if self.method.scheduled:
            stepper._configure(s)
        potential = _Deferred() if self.defers else _ClosurePotential(self, closure)
        stepper.update(s.coefficients, s, s.fields, potential)
        s.step += 1
        self._write(s.x)
        self._pending = self._row(s)
        if not self.defers:
            returned = potential.loss
            self._complete(s)
        return returned

    def _start(self, x: np.ndarray, grad: np.ndarray, value: float) -> State:
        state = State(x, grad, np.float64(value))
        self.method._setup(state)
        self.method.at_step(0)._configure(state)
        self._s = state
        self._pending = self._row(state)
        return state

    def _row(self, s: State) -> list[float]:
        kinetic = 0.0 if s.kinetic is None else float(s.kinetic)
        return [float(s.step), float(s.t), math.nan, kinetic, float(s.dissipated), math.nan, math.nan]

    def _complete(self, s: State) -> None:
        """Fill the pending row with V and ‖∇V‖ at its parameters (now known) and keep it."""
        if self._pending is None:
            return
        row = self._pending
        row[2] = float(s.value)
        row[5] = math.sqrt(float(np.dot(s.grad.astype(np.float64), s.grad.astype(np.float64))))
        row[6] = self._noise
        self._noise = math.nan
        self._rows.append(row)
        self._pending = None

    # ------------------------------------------------------------------ the SGD noise temperature
    def effective_lr(self) -> float:
        """η of :meth:`measure_noise`: ``noise_lr``, or the method's own (see the class docstring); NaN if none."""
        if self.noise_lr is not None:
            return self.noise_lr
        m = self.method.at_step(self._s.step if self._s is not None else 0)
        if isinstance(m, HeavyBall):
            return float(m.lr) / (1.0 - float(m.momentum)) if m.momentum < 1 else math.nan
        if isinstance(m, GradientDescent):
            return float(m.lr)
        if isinstance(m, NewtonianIntegrator):
            dt, mass, gamma = float(m.dt), float(m.mass), float(m.friction)
            mu = math.exp(-gamma * dt / mass)  # the heavy ball's momentum per step
            return dt * dt / (mass * (1.0 - mu)) if gamma > 0 else math.nan
        return math.nan

    def measure_noise(self, model, loss_fn, inputs, targets, batch_size: int) -> float:
        """The SGD noise temperature at the current parameters, kept in the ledger's next row.

        T = η·tr(C)/(2·S·d), with C the covariance of the per-sample gradients over ``inputs``
        (computed by ``torch.func.vmap`` of ``torch.func.grad``), S the training minibatch size and
        d the number of parameters. It is the temperature :func:`newtonopt.analysis.sgd_temperature`
        predicts at a minimum (with replacement): the trace of its Lyapunov equation
        AΣ + ΣA = (η/S)·C gives tr(AΣ)/d = η·tr C/(2·S·d) without the Hessian (Mandt, Hoffman & Blei
        2017, eq. 12).

        Parameters
        ----------
        model : torch.nn.Module
            The model whose parameters this optimizer steps (those of its parameters that it does not
            step are held fixed).
        loss_fn : callable
            ``loss_fn(output, target)`` with mean reduction, e.g. ``torch.nn.functional.cross_entropy``.
        inputs, targets : tensors
            The samples over which C is estimated (at least 2).
        batch_size : int
            S, the training minibatch size.
        """
        if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if len(inputs) < 2:
            raise ValueError(f"inputs must hold at least 2 samples to estimate a covariance, got {len(inputs)}")
        mine = {id(p) for p in self._tensors}
        named = dict(model.named_parameters())
        trained = {k: v for k, v in named.items() if id(v) in mine}
        if len(trained) != len(self._tensors):
            raise ValueError("model must hold every parameter this optimizer steps")
        fixed = {k: v.detach() for k, v in named.items() if id(v) not in mine}

        def sample_loss(theta, x, y):
            out = torch.func.functional_call(model, {**theta, **fixed}, (x.unsqueeze(0),))
            return loss_fn(out, y.unsqueeze(0))

        theta = {k: v.detach() for k, v in trained.items()}
        with torch.no_grad():
            grads = torch.func.vmap(torch.func.grad(sample_loss), in_dims=(None, 0, 0))(theta, inputs, targets)
        flat = torch.cat([g.reshape(len(inputs), -1) for g in grads.values()], dim=1).double()
        centred = flat - flat.mean(dim=0)
        trace_c = float((centred * centred).sum()) / len(inputs)
        self._noise = self.effective_lr() * trace_c / (2.0 * int(batch_size) * self.dim)
        return self._noise

    # ------------------------------------------------------------------ results
    @property
    def ledger(self) -> dict:
        """The completed rows as float64 arrays: step, t, V, K, D, energy_error, grad_norm,
        kinetic_temperature (2K/d; NaN for a first-order method) and noise_temperature."""
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, len(_COLUMNS))
        out = {name: rows[:, i] for i, name in enumerate(_COLUMNS)}
        out["step"] = out["step"].astype(np.int64)
        total = out["V"] + out["K"]
        out["energy_error"] = total + out["D"] - (total[0] if len(total) else 0.0)
        first_order = self.method.order == 1
        out["kinetic_temperature"] = np.full(len(rows), np.nan) if first_order else 2.0 * out["K"] / self.dim
        return out

    def trajectory(self) -> Trajectory:
        """The ledger as a newtonopt Trajectory (scalars only, status 'max_steps'): every plot reads it."""
        led = self.ledger
        if not len(led["step"]):
            raise RuntimeError("no step has been recorded yet: call step() first (with a deferred evaluation, "
                               "a row is complete once the next step's loss is known)")
        x = self._flat_params().astype(np.float64)
        n = int(led["step"][-1])
        return Trajectory(
            t=led["t"], step=led["step"], x=None, p=None, potential_energy=led["V"], kinetic_energy=led["K"],
            dissipated=led["D"], grad_norm=led["grad_norm"], status="max_steps",
            message=f"trained for {n} steps with newtonopt.torch.Optimizer", n_steps=n,
            counts={"value": self.evaluations, "gradient": self.evaluations, "hessian": 0}, x_final=x,
            particle_status=np.array("max_steps"), converged_step=np.array(-1), diverged_step=np.array(-1),
            method=type(self.method).__name__, params=self.method.params(), potential="torch model",
            record="scalars")

    # ------------------------------------------------------------------ saving and resuming
    def state_dict(self) -> dict:
        """Everything to resume bitwise: the method's snapshot (memory, step, clock, ledger sums), the
        recorded rows and the pending one, as tensors (``torch.save``/``torch.load(weights_only=True)``)."""
        groups = [{"params": list(range(len(self._tensors)))}]
        saved = {"method": type(self.method).__name__, "params": repr(self.method), "evaluations": self.evaluations,
                 "rows": torch.tensor(self._rows, dtype=torch.float64).reshape(-1, len(_COLUMNS)),
                 "pending": None if self._pending is None else torch.tensor(self._pending, dtype=torch.float64),
                 "noise": self._noise, "snapshot": None}
        if self._s is not None:
            saved["snapshot"] = {k: torch.from_numpy(np.array(v)) for k, v in self.method.snapshot(self._s).items()}
        return {"state": {}, "param_groups": groups, "newtonopt": saved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict`'s output (the parameters themselves come from the model's own state)."""
        saved = state_dict.get("newtonopt") if isinstance(state_dict, dict) else None
        if saved is None:
            raise ValueError("state_dict was not made by newtonopt.torch.Optimizer.state_dict (no 'newtonopt' entry)")
        if saved["method"] != type(self.method).__name__:
            raise ValueError(f"state_dict was saved by {saved['method']}, but this optimizer steps "
                             f"{type(self.method).__name__}")
        self.evaluations = int(saved["evaluations"])
        self._rows = [list(map(float, r)) for r in saved["rows"].tolist()]
        self._pending = None if saved["pending"] is None else list(map(float, saved["pending"].tolist()))
        self._noise = float(saved["noise"])
        self._s = None
        if saved["snapshot"] is not None:
            snap = {k: v.numpy() for k, v in saved["snapshot"].items()}
            if snap["x"].shape != (self.dim,):
                raise ValueError(f"state_dict holds {snap['x'].shape[0]} parameters, this optimizer {self.dim}")
            snap["x"] = snap["x"].astype(self.dtype)
            self._s = self.method.resume(_Deferred(), snap)
