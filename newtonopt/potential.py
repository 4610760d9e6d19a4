"""The potential energy surface V(x): the loss, seen as a landscape.

A :class:`Potential` evaluates V, its gradient (minus the force), its Hessian and
Hessian-vector products, batched over leading axes: ``x`` of shape ``(..., dim)``
gives values of shape ``(...)`` and gradients of shape ``(..., dim)``. It counts
its evaluations (a batched call on ``n`` particles counts ``n``) so that
comparisons between methods can report cost honestly.

Subclasses implement ``_value`` and ``_gradient`` (or ``_value_and_gradient``
when the two share work); ``_hessian``/``_hvp`` are optional, with central
finite differences of the gradient as the fallback.

The two wrappers that the base class's constructors build live here beside it:
:class:`FunctionPotential` (plain callables, ``from_function``) and :class:`ExpressionPotential`
(a formula parsed by :mod:`newtonopt.formula`, ``from_expression``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from . import formula as _formula
from ._kernels import n_particles
from ._validation import _describe, as_int

_EPS = np.finfo(np.float64).eps


class Minimum(NamedTuple):
    """A known local minimizer ``x`` of a potential and its value ``value``."""

    x: np.ndarray
    value: float


#: Particles per chunk of a large ensemble's evaluation (:attr:`Potential.particlewise`): 8192 float64
#: values make a 64 KiB temporary, so a formula's few live ones fit in a core's L2 cache (measured on
#: Müller–Brown, 10⁵ particles: 36 ns a particle at 8192 or 16384, 45 at 4096, 62 unchunked).
CHUNK_PARTICLES = 8192


class Potential:
    """Base class of potential energy surfaces.

    Parameters
    ----------
    dim : int
        Number of coordinates.
    name : str, optional
        A display name (defaults to the class name).
    bounds : array_like of shape (dim, 2), optional
        A box for plots, ``[[x_lo, x_hi], [y_lo, y_hi], ...]``.
    minima : sequence of (x, value), optional
        Known local minimizers with their values; stored sorted by value, so
        ``minima[0]`` is the lowest known.
    minimum_value : float, optional
        The global minimum value when it is known but its position is not
        unique (for example a cluster's energy, invariant under rotations).

    Attributes
    ----------
    counts : dict
        Evaluation counts with keys ``'value'``, ``'gradient'`` and ``'hessian'``
        (Hessian-vector products count as Hessian evaluations, as scipy's
        ``nhev`` does). A finite-difference gradient counts as one gradient.

    Notes
    -----
    **What a subclass implements.** ``_value(x)`` and ``_gradient(x, out)``, or
    ``_value_and_gradient(x, out)`` when the two share work (either pair is derived
    from the other). Optional: ``_hessian(x)`` and ``_hvp(x, v)``, which otherwise
    fall back to central finite differences of the gradient, and
    ``curvature_bounds`` when the Hessian's extreme eigenvalues are known exactly.
    Each receives an ``x`` already checked (a float array of shape ``(..., dim)``),
    works on every leading axis at once, writes the gradient into ``out`` (shape
    ``x.shape``, same dtype) and returns the values, shape ``x.shape[:-1]``. None
    of them counts anything: the public methods do.

    **What a caller may rely on.** The public evaluations (:meth:`value`,
    :meth:`gradient`, :meth:`value_and_gradient`, :meth:`hessian`, :meth:`hvp`)
    check ``x``, count per particle and return arrays the caller owns. The run
    loop's evaluation, :meth:`evaluate_into`, is the one an integrator's step
    calls: it checks nothing, books its counts lazily (they are exact whenever
    :attr:`counts` is read) and may return an internal buffer that its next call
    overwrites.
    """

    #: Evaluations charged per particle and call: 1 here; a data loss charges its samples.
    cost: int = 1
    #: True when each particle's V and ∇V depend on its own coordinates alone and an evaluation keeps no
    #: state between calls (no random batch, no counter): then :meth:`evaluate_into` may take a large
    #: ensemble in chunks of particles, changing no bit. A physical fact the class declares; the chunking
    #: itself is the run loop's (see ``CHUNK_PARTICLES``).
    particlewise: bool = False

    def __init__(self, dim, *, name: str | None = None, bounds=None, minima: Sequence = (),
                 minimum_value: float | None = None):
        self.dim = as_int("dim", dim, low=1)
        self.name = name if name is not None else type(self).__name__
        if bounds is not None:
            bounds = np.asarray(bounds, dtype=np.float64)
            if bounds.shape != (self.dim, 2) or not np.all(bounds[:, 0] < bounds[:, 1]):
                raise ValueError(f"bounds must have shape ({self.dim}, 2) with low < high, got {_describe(bounds)}")
        self.bounds = bounds
        found = []
        for m in minima:
            mx, mv = m
            found.append(Minimum(np.asarray(mx, dtype=np.float64).reshape(self.dim), float(mv)))
        self.minima: list[Minimum] = sorted(found, key=lambda m: m.value)
        if minimum_value is None and self.minima:
            minimum_value = self.minima[0].value
        self.minimum_value = None if minimum_value is None else float(minimum_value)
        self.counts = {"value": 0, "gradient": 0, "hessian": 0}

    @property
    def counts(self) -> dict:
        """Evaluations so far: ``{'value': ..., 'gradient': ..., 'hessian': ...}`` (see the class docstring)."""
        if self._pending_coordinates:  # run-loop evaluations not yet booked (see evaluate_into)
            n = self._pending_coordinates // self.dim * self.cost
            self._pending_coordinates = 0
            self._counts["value"] += n
            self._counts["gradient"] += n
        return self._counts

    @counts.setter
    def counts(self, value: dict) -> None:
        self._counts = dict(value)
        self._pending_coordinates = 0

    # ------------------------------------------------------------------ public API
    def value(self, x):
        """V(x), shape ``x.shape[:-1]``."""
        x = self._prepare(x)
        self.counts["value"] += n_particles(x) * self.cost
        return np.array(self._value(x))

    def gradient(self, x, out: np.ndarray | None = None):
        """∇V(x), shape ``x.shape``; written into ``out`` when given."""
        x = self._prepare(x)
        out = self._out(x, out)
        self.counts["gradient"] += n_particles(x) * self.cost
        self._gradient(x, out)
        return out

    def force(self, x):
        """The force F = −∇V(x)."""
        return np.negative(self.gradient(x))

    def value_and_gradient(self, x, out: np.ndarray | None = None):
        """``(V(x), ∇V(x))`` in one pass where the potential can share work."""
        x = self._prepare(x)
        out = self._out(x, out)
        n = n_particles(x) * self.cost
        self.counts["value"] += n
        self.counts["gradient"] += n
        # A subclass may return an internal buffer that its next call overwrites: hand out a copy.
        return np.array(self._value_and_gradient(x, out)), out

    def evaluate_into(self, x: np.ndarray, out: np.ndarray):
        """V(x), with ∇V(x) written into ``out``: the run loop's evaluation, unchecked and cheap.

        An integrator's step calls this once per step; :meth:`value_and_gradient` is the checked
        version for everyone else.

        Parameters
        ----------
        x : ndarray, shape (..., dim)
            Positions of a floating dtype with last axis ``dim``. Not checked: a wrong shape or
            dtype gives a wrong answer or numpy's error, not this class's message.
        out : ndarray, shape x.shape
            Receives the gradient; same dtype as ``x``. Not checked either.

        Returns
        -------
        ndarray or float, shape x.shape[:-1]
            The values. May be an internal buffer of the potential that the next call overwrites:
            copy it to keep it.

        Notes
        -----
        Counts are booked lazily: this adds ``x.size`` to a pending total (one integer addition;
        two dictionary updates cost a twentieth of a step of a 2-D problem), folded into
        :attr:`counts` as one value and one gradient evaluation per particle (times ``cost``)
        whenever ``counts`` is read. No ``np.errstate`` either: the run loop silences
        floating-point warnings once for the whole run.
        """
        self._pending_coordinates += x.size
        if self.particlewise and x.ndim == 2 and x.shape[0] > CHUNK_PARTICLES:
            return self._evaluate_in_chunks(x, out)
        return self._value_and_gradient(x, out)

    def _evaluate_in_chunks(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """:meth:`_value_and_gradient` of a large ensemble, ``CHUNK_PARTICLES`` particles at a time: a
        formula's temporaries then stay in the processor's cache (Müller–Brown, 10⁵ particles: 1.7× faster,
        measured). Each particle's arithmetic is unchanged, so are its bits. The values go to a buffer
        kept for the next call (:meth:`evaluate_into` may return one)."""
        n = x.shape[0]
        values = self.__dict__.get("_chunk_values")
        for lo in range(0, n, CHUNK_PARTICLES):
            hi = min(n, lo + CHUNK_PARTICLES)
            v = self._value_and_gradient(x[lo:hi], out[lo:hi])
            if lo == 0 and (values is None or values.shape != (n,) or values.dtype != np.result_type(v)):
                values = self._chunk_values = np.empty(n, dtype=np.result_type(v))
            values[lo:hi] = v
        return values

    def hessian(self, x):
        """The Hessian ∇²V(x), shape ``x.shape + (dim,)``."""
        x = self._prepare(x)
        self.counts["hessian"] += n_particles(x)
        return self._hessian(x)

    def hvp(self, x, v):
        """The Hessian-vector product ∇²V(x)·v, shape ``x.shape``."""
        x = self._prepare(x)
        v = np.asarray(v, dtype=x.dtype)
        if v.shape[-1:] != (self.dim,):
            raise ValueError(f"v must have last axis of length {self.dim}, got shape {v.shape}")
        x, v = np.broadcast_arrays(x, v)
        self.counts["hessian"] += n_particles(x)
        return self._hvp(x, v)

    def curvature_bounds(self, x=None):
        """Exact ``(lowest, highest)`` Hessian eigenvalues when the class knows them, else None."""
        return None

    def reset_counts(self) -> None:
        """Set every evaluation count back to zero."""
        for key in self.counts:
            self.counts[key] = 0

    @property
    def global_minimum(self) -> Minimum | None:
        """The lowest known minimum, or None."""
        return self.minima[0] if self.minima else None

    def nearest_minimum(self, x):
        """Index of and distance to the nearest known minimizer for each particle of ``x``."""
        if not self.minima:
            raise ValueError(f"potential {self.name!r} has no known minima")
        x = self._prepare(x)
        centres = np.stack([m.x for m in self.minima])
        dist = np.linalg.norm(x[..., None, :] - centres, axis=-1)
        index = np.argmin(dist, axis=-1)
        return index, np.take_along_axis(dist, index[..., None], axis=-1)[..., 0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, name={self.name!r})"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_function(cls, f: Callable, grad: Callable | None = None, *, dim: int,
                      hessian: Callable | None = None, name: str | None = None, bounds=None,
                      minima: Sequence = (), minimum_value: float | None = None) -> Potential:
        """Wrap plain callables as a potential.

        ``f`` maps ``x`` of shape ``(..., dim)`` to values of shape ``(...)`` and
        ``grad`` to gradients of shape ``(..., dim)`` (both vectorized over
        leading axes). Without ``grad``, the gradient is a central finite
        difference of ``f`` (2·dim calls of ``f`` per gradient).
        """
        if not callable(f):
            raise TypeError(f"f must be callable, got {_describe(f)}")
        for label, g in (("grad", grad), ("hessian", hessian)):
            if g is not None and not callable(g):
                raise TypeError(f"{label} must be callable or None, got {_describe(g)}")
        return FunctionPotential(f, grad, hessian, dim=dim, name=name or getattr(f, "__name__", "function"),
                                 bounds=bounds, minima=minima, minimum_value=minimum_value)

    @classmethod
    def from_expression(cls, expression: str, *, variables: Sequence[str] | None = None, name: str | None = None,
                        bounds=None) -> Potential:
        """A potential from a formula in x, y, z (or x0, x1, …, or declared ``variables``), with exact
        derivatives; the text is parsed by a whitelisted grammar and never evaluated as Python.
        See :func:`newtonopt.expression.potential_from_expression`."""
        return ExpressionPotential(expression, variables=variables, name=name, bounds=bounds)

    @classmethod
    def from_torch(cls, fn: Callable, dim: int, *, dtype=None, name: str | None = None, **meta) -> Potential:
        """A potential from a torch function of one point (a tensor of shape (dim,) to a scalar); gradient,
        Hessian–vector products and Hessian by torch.func, batched by vmap (optional extra ``[torch]``).
        See :func:`newtonopt.potentials.autodiff.potential_from_torch`."""
        from .potentials.autodiff import potential_from_torch

        return potential_from_torch(fn, dim, dtype=dtype, name=name, **meta)

    @classmethod
    def from_jax(cls, fn: Callable, dim: int, *, name: str | None = None, **meta) -> Potential:
        """A potential from a JAX function of one point; derivatives by jax.grad/jvp/hessian, jit-compiled,
        in float64 scoped to its own calls (optional extra ``[jax]``).
        See :func:`newtonopt.potentials.autodiff.potential_from_jax`."""
        from .potentials.autodiff import potential_from_jax

        return potential_from_jax(fn, dim, name=name, **meta)

    @classmethod
    def from_torch_module(cls, model, loss_fn: Callable, data, *, batch_size: int | None = None,
                          replace: bool = False, seed=0, **options) -> Potential:
        """The loss of a torch ``nn.Module`` over ``data = (X, y)`` as a potential of its flattened parameters,
        full batch or minibatches with the package's sampling rules.
        See :func:`newtonopt.potentials.autodiff.potential_from_torch_module`."""
        from .potentials.autodiff import potential_from_torch_module

        return potential_from_torch_module(model, loss_fn, data, batch_size=batch_size, replace=replace, seed=seed,
                                           **options)

    # ------------------------------------------------------------------ internals
    def _prepare(self, x) -> np.ndarray:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            if not (np.issubdtype(x.dtype, np.integer) or x.dtype == bool):
                raise TypeError(f"x must be an array of real numbers, got dtype {x.dtype}")
            x = x.astype(np.float64)
        if x.ndim == 0 and self.dim == 1:
            x = x.reshape(1)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}) for {self.name}, got shape {x.shape}")
        return x

    @staticmethod
    def _out(x, out):
        if out is None:
            return np.empty_like(x)
        if out.shape != x.shape:
            raise ValueError(f"out must have shape {x.shape}, got {out.shape}")
        return out

    def _counted_value_and_gradient(self, x, out):
        """Deprecated alias of :meth:`evaluate_into`, kept for one release (0.1 → 0.2).

        Integrators written outside the package copied this call from ours; they should call
        :meth:`evaluate_into`, which does exactly the same.
        """
        warnings.warn("Potential._counted_value_and_gradient is deprecated and will be removed in the next "
                      "release; call Potential.evaluate_into(x, out), which does the same",
                      DeprecationWarning, stacklevel=2)
        return self.evaluate_into(x, out)

    def _overrides(self, method: str) -> bool:
        return getattr(type(self), method) is not getattr(Potential, method)

    def _value(self, x):
        if self._overrides("_value_and_gradient"):
            return self._value_and_gradient(x, np.empty_like(x))
        raise NotImplementedError(f"{type(self).__name__} must implement _value")

    def _gradient(self, x, out):
        if self._overrides("_value_and_gradient"):
            self._value_and_gradient(x, out)
            return out
        return finite_difference_gradient(self._value, x, out)

    def _value_and_gradient(self, x, out):
        value = self._value(x)
        self._gradient(x, out)
        return value

    def _hessian(self, x):
        return finite_difference_hessian(lambda y: self._gradient(y, np.empty_like(y)), x)

    def _hvp(self, x, v):
        if self._overrides("_hessian"):
            return np.einsum("...ij,...j->...i", self._hessian(x), v)
        return finite_difference_hvp(lambda y: self._gradient(y, np.empty_like(y)), x, v)


class FunctionPotential(Potential):
    """A potential built from plain callables by :meth:`Potential.from_function`."""

    def __init__(self, f, grad, hessian, *, dim, **meta):
        super().__init__(dim, **meta)
        self._f, self._grad, self._hess = f, grad, hessian

    def _value(self, x):
        return np.asarray(self._f(x), dtype=x.dtype)

    def _gradient(self, x, out):
        if self._grad is None:
            return finite_difference_gradient(self._value, x, out)
        g = np.asarray(self._grad(x))
        if g.shape != x.shape:
            raise ValueError(f"grad of {self.name!r} returned shape {g.shape} for x of shape {x.shape}")
        np.copyto(out, g)
        return out

    def _hessian(self, x):
        if self._hess is None:
            return super()._hessian(x)
        return np.asarray(self._hess(x), dtype=x.dtype)

    def _hvp(self, x, v):
        if self._hess is None:
            return finite_difference_hvp(lambda y: self._gradient(y, np.empty_like(y)), x, v)
        return np.einsum("...ij,...j->...i", self._hessian(x), v)


class ExpressionPotential(Potential):
    """A potential given by a formula; value, gradient and Hessian are exact symbolic derivatives.

    Parameters
    ----------
    expression : str
        The formula, in the grammar of :mod:`newtonopt.formula`.
    variables : sequence of str, optional
        The variable names in coordinate order (default: x, y, z or x0, x1, …).
    name : str, optional
        A display name (default: the formula).
    bounds : array_like of shape (dim, 2), optional
        A box for plots.

    Notes
    -----
    The gradient is derived on first use (reverse-mode symbolic differentiation,
    :func:`newtonopt.formula.gradient`), so a formula in many variables is built at once. Hessian–vector
    products and the Hessian are forward-mode derivatives of the gradient's program
    (:meth:`newtonopt.formula.Program.jvp`, all dim directions in one pass for the Hessian): exact, at a
    few times the cost of a gradient, and never a symbolic Hessian, whose size can grow like dim² times
    the formula's.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    def __init__(self, expression: str, *, variables: Sequence[str] | None = None, name: str | None = None,
                 bounds=None):
        parsed = _formula.parse(expression, variables)
        self.expression, self.variables, self.formula = expression, list(parsed.variables), parsed
        self._value_program: _formula.Program | None = None
        self._gradient_nodes: list | None = None
        self._gradient_program: _formula.Program | None = None
        self._both_program: _formula.Program | None = None
        super().__init__(parsed.dim, name=name or expression, bounds=bounds)

    # ---------------------------------------------------------------- derivatives, built on first use
    @property
    def gradient_nodes(self) -> list:
        """The expression graph of each partial derivative ∂V/∂x_i."""
        if self._gradient_nodes is None:
            self._gradient_nodes = _formula.gradient(self.formula.graph, self.formula.root, self.dim)
        return self._gradient_nodes

    def _gradient_code(self) -> _formula.Program:
        if self._gradient_program is None:
            self._gradient_program = _formula.Program(self.gradient_nodes)
        return self._gradient_program

    # ---------------------------------------------------------------- evaluation
    def _columns(self, x):
        return [x[..., i] for i in range(self.dim)]

    def _fill(self, target, values) -> None:
        for i, v in enumerate(values):
            target[..., i] = v  # a constant derivative broadcasts

    def _value(self, x):
        if self._value_program is None:
            self._value_program = _formula.Program([self.formula.root])
        (v,) = self._value_program(self._columns(x))
        return np.broadcast_to(np.asarray(v, dtype=x.dtype), x.shape[:-1]).copy()

    def _gradient(self, x, out):
        self._fill(out, self._gradient_code()(self._columns(x)))
        return out

    def _value_and_gradient(self, x, out):
        # one program for V and ∇V, so the sub-expressions they share are evaluated once
        if self._both_program is None:
            self._both_program = _formula.Program([self.formula.root, *self.gradient_nodes])
        v, *g = self._both_program(self._columns(x))
        self._fill(out, g)
        return np.broadcast_to(np.asarray(v, dtype=x.dtype), x.shape[:-1]).copy()

    def _hessian(self, x):
        identity = np.eye(self.dim, dtype=x.dtype)
        _, rows = self._gradient_code().jvp(self._columns(x), list(identity))
        h = np.zeros(x.shape + (self.dim,), dtype=x.dtype)
        for i, row in enumerate(rows):
            if row is not None:  # None: this gradient component does not depend on x
                h[..., i, :] = row
        return h

    def _hvp(self, x, v):
        tangents = [v[..., i][..., None] for i in range(self.dim)]
        _, dots = self._gradient_code().jvp(self._columns(x), tangents)
        out = np.zeros_like(x)
        for i, d in enumerate(dots):
            if d is not None:
                out[..., i] = d[..., 0]
        return out


# ---------------------------------------------------------------------- finite differences
def _fd_steps(x):
    # Central differences: error ~ h² f''' + eps f / h, balanced at h ~ eps^(1/3).
    return _EPS ** (1.0 / 3.0) * np.maximum(1.0, np.abs(x))


def finite_difference_gradient(value: Callable, x: np.ndarray, out: np.ndarray | None = None):
    """Central finite-difference gradient of a batched scalar function ``value``."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x) if out is None else out
    h = _fd_steps(x)
    for k in range(x.shape[-1]):
        xp = x.copy()
        xm = x.copy()
        xp[..., k] += h[..., k]
        xm[..., k] -= h[..., k]
        out[..., k] = (np.asarray(value(xp)) - np.asarray(value(xm))) / (xp[..., k] - xm[..., k])
    return out


def finite_difference_hessian(gradient: Callable, x: np.ndarray):
    """Symmetrized central finite-difference Hessian from a batched gradient."""
    x = np.asarray(x, dtype=np.float64)
    dim = x.shape[-1]
    hess = np.empty(x.shape + (dim,))
    h = _fd_steps(x)
    for k in range(dim):
        xp = x.copy()
        xm = x.copy()
        xp[..., k] += h[..., k]
        xm[..., k] -= h[..., k]
        hess[..., :, k] = (gradient(xp) - gradient(xm)) / (xp[..., k] - xm[..., k])[..., None]
    return 0.5 * (hess + np.swapaxes(hess, -1, -2))


def finite_difference_hvp(gradient: Callable, x: np.ndarray, v: np.ndarray):
    """Central finite difference of the gradient along ``v``: (∇V(x+hv) − ∇V(x−hv)) / 2h."""
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    vmax = np.max(np.abs(v), axis=-1, keepdims=True)
    xmax = np.max(np.abs(x), axis=-1, keepdims=True)
    h = _EPS ** (1.0 / 3.0) * np.maximum(1.0, xmax) / np.where(vmax > 0, vmax, 1.0)
    result = (gradient(x + h * v) - gradient(x - h * v)) / (2.0 * h)
    return np.where(vmax > 0, result, 0.0)


def check_gradient(potential: Potential, x, *, relative_to: float | None = None) -> float:
    """Worst relative error between ``potential.gradient`` and central finite differences.

    The error of each particle is ``max_i |g_i − fd_i| / s`` with
    ``s = max(max_i |g_i|, max_i |fd_i|, floor)``; ``floor`` (default
    ``1e-6·(1 + |V(x)|)``) keeps the ratio meaningful at a stationary point.
    A correct analytic gradient gives ~1e-8 or less; a wrong one gives O(1).
    Evaluations made here are not added to ``potential.counts``.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a Potential, got {_describe(potential)}")
    saved = dict(potential.counts)
    try:
        x = potential._prepare(x).astype(np.float64)
        g = potential.gradient(x)
        fd = finite_difference_gradient(potential._value, x)
        v = np.abs(np.asarray(potential.value(x)))
    finally:
        potential.counts.update(saved)
    floor = 1e-6 * (1.0 + v) if relative_to is None else np.full_like(v, relative_to)
    scale = np.maximum(np.maximum(np.max(np.abs(g), axis=-1), np.max(np.abs(fd), axis=-1)), floor)
    return float(np.max(np.max(np.abs(g - fd), axis=-1) / scale))


def validate_evaluation(potential: Potential, x: np.ndarray, value, grad) -> None:
    """Raise ValueError when V or ∇V at ``x`` has the wrong shape or is non-finite."""
    value = np.asarray(value)
    if value.shape != x.shape[:-1]:
        raise ValueError(
            f"potential {potential.name!r} returned a value of shape {value.shape} for x of shape {x.shape}; "
            f"expected {x.shape[:-1]}")
    if grad.shape != x.shape:
        raise ValueError(
            f"potential {potential.name!r} returned a gradient of shape {grad.shape}; expected {x.shape}")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"potential {potential.name!r} is not finite at x0: value {_describe(value)}")
    if not np.all(np.isfinite(grad)):
        raise ValueError(f"potential {potential.name!r} has a non-finite gradient at x0: {_describe(grad)}")
