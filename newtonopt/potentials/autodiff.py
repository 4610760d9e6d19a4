"""Potentials from automatic differentiation: your own loss written in torch or JAX (optional extras).

``fn`` maps one point, a tensor of shape (dim,), to a scalar tensor. Its gradient is
``torch.func.grad``, its Hessian–vector product forward-over-reverse (``torch.func.jvp`` of the
gradient), its Hessian ``torch.func.hessian``, each batched over the leading axes of x by
``torch.func.vmap``, so an ensemble is one call. Arrays go in and come out as numpy arrays; the
evaluations are counted like every potential's.

References
----------
Paszke, A. et al. (2019). PyTorch: an imperative style, high-performance deep learning library.
NeurIPS. Pearlmutter, B. A. (1994). Fast exact multiplication by the Hessian. Neural Computation
6(1), 147-160 (the forward-over-reverse Hessian–vector product).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from .._validation import _describe
from ..potential import Potential
from .data import EmpiricalRisk


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("Potential.from_torch needs PyTorch, which is not installed: "
                          "pip install 'newtonopt[torch]' (or pip install torch)") from None
    return torch


class TorchPotential(Potential):
    """A potential whose value is a torch function and whose derivatives are torch's autodiff.

    Parameters
    ----------
    fn : callable
        Maps a tensor of shape (dim,) to a scalar tensor; written with torch operations.
    dim : int
        Number of coordinates.
    dtype : torch.dtype, optional
        The dtype of the evaluation (default torch.float64).
    name, bounds, minima, minimum_value
        As for :class:`~newtonopt.potential.Potential`.
    """

    def __init__(self, fn: Callable, dim: int, *, dtype=None, name: str | None = None, bounds=None,
                 minima=(), minimum_value: float | None = None):
        torch = _torch()
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {_describe(fn)}")
        self.fn = fn
        self.torch_dtype = torch.float64 if dtype is None else dtype
        if not isinstance(self.torch_dtype, torch.dtype) or not self.torch_dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        func = torch.func
        self._value_fn = func.vmap(fn)
        self._grad_fn = func.vmap(func.grad_and_value(fn))
        self._hvp_fn = func.vmap(lambda x, v: func.jvp(func.grad(fn), (x,), (v,))[1])
        self._hessian_fn = func.vmap(func.hessian(fn))
        super().__init__(dim, name=name or getattr(fn, "__name__", "torch function"), bounds=bounds,
                         minima=minima, minimum_value=minimum_value)
        probe = fn(torch.zeros(self.dim, dtype=self.torch_dtype))
        if not isinstance(probe, torch.Tensor) or probe.ndim != 0:
            raise ValueError(f"fn must map a tensor of shape ({self.dim},) to a scalar tensor, got "
                             f"{type(probe).__name__} of shape {tuple(getattr(probe, 'shape', ()))}")

    def _flat(self, x: np.ndarray):
        torch = _torch()
        return torch.as_tensor(np.ascontiguousarray(x.reshape(-1, self.dim)), dtype=self.torch_dtype)

    def _back(self, tensor, shape: tuple, dtype) -> np.ndarray:
        return tensor.detach().numpy().astype(dtype, copy=False).reshape(shape)

    def _value(self, x):
        return self._back(self._value_fn(self._flat(x)), x.shape[:-1], x.dtype)

    def _gradient(self, x, out):
        grad, _ = self._grad_fn(self._flat(x))
        out[...] = self._back(grad, x.shape, x.dtype)
        return out

    def _value_and_gradient(self, x, out):
        grad, value = self._grad_fn(self._flat(x))
        out[...] = self._back(grad, x.shape, x.dtype)
        return self._back(value, x.shape[:-1], x.dtype)

    def _hvp(self, x, v):
        return self._back(self._hvp_fn(self._flat(x), self._flat(v)), x.shape, x.dtype)

    def _hessian(self, x):
        return self._back(self._hessian_fn(self._flat(x)), x.shape + (self.dim,), x.dtype)


def potential_from_torch(fn: Callable, dim: int, *, dtype=None, name: str | None = None, bounds=None,
                         minima=(), minimum_value: float | None = None) -> Potential:
    """A potential from a torch function of one point; derivatives by torch's autodiff.

    Parameters
    ----------
    fn : callable
        ``fn(x)`` with x a tensor of shape (dim,) returns a scalar tensor.
    dim : int
        Number of coordinates.
    dtype : torch.dtype, optional
        Evaluation dtype (default float64).

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> V = potential_from_torch(lambda x: (1 - x[0])**2 + 100 * (x[1] - x[0]**2)**2, dim=2)  # doctest: +SKIP
    >>> V.gradient([0.0, 0.0])  # doctest: +SKIP
    array([-2.,  0.])
    """
    return TorchPotential(fn, dim, dtype=dtype, name=name, bounds=bounds, minima=minima,
                          minimum_value=minimum_value)


def _jax():
    try:
        import jax
    except ImportError:
        raise ImportError("Potential.from_jax needs JAX, which is not installed: "
                          "pip install 'newtonopt[jax]' (or pip install jax)") from None
    return jax


class JaxPotential(Potential):
    """A potential whose value is a JAX function and whose derivatives are JAX's autodiff.

    ``jax.grad`` for the gradient, forward-over-reverse ``jax.jvp`` of it for Hessian–vector
    products, ``jax.hessian``, each ``jax.vmap``-ed over the leading axes and ``jax.jit``-compiled.
    Every evaluation runs inside ``jax.enable_x64(True)``, a context manager that scopes 64-bit
    arithmetic to these calls: the user's global JAX configuration is not changed.

    Parameters
    ----------
    fn : callable
        Maps an array of shape (dim,) to a scalar, written with ``jax.numpy``.
    dim : int
        Number of coordinates.
    name, bounds, minima, minimum_value
        As for :class:`~newtonopt.potential.Potential`.
    """

    def __init__(self, fn: Callable, dim: int, *, name: str | None = None, bounds=None, minima=(),
                 minimum_value: float | None = None):
        jax = _jax()
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {_describe(fn)}")
        self.fn = fn
        self._x64 = jax.enable_x64
        self._value_fn = jax.jit(jax.vmap(fn))
        self._both_fn = jax.jit(jax.vmap(jax.value_and_grad(fn)))
        self._hvp_fn = jax.jit(jax.vmap(lambda x, v: jax.jvp(jax.grad(fn), (x,), (v,))[1]))
        self._hessian_fn = jax.jit(jax.vmap(jax.hessian(fn)))
        super().__init__(dim, name=name or getattr(fn, "__name__", "JAX function"), bounds=bounds, minima=minima,
                         minimum_value=minimum_value)
        with self._x64(True):
            probe = np.asarray(fn(jax.numpy.zeros(self.dim)))
        if probe.shape != ():
            raise ValueError(f"fn must map an array of shape ({self.dim},) to a scalar, got shape {probe.shape}")

    def _call(self, fn, *arrays, shape: tuple, dtype):
        flat = [np.ascontiguousarray(a.reshape(-1, self.dim), dtype=np.float64) for a in arrays]
        with self._x64(True):
            result = fn(*flat)
        if isinstance(result, tuple):
            return tuple(np.asarray(r).astype(dtype, copy=False) for r in result)
        return np.asarray(result).astype(dtype, copy=False).reshape(shape)

    def _value(self, x):
        return self._call(self._value_fn, x, shape=x.shape[:-1], dtype=x.dtype)

    def _value_and_gradient(self, x, out):
        value, grad = self._call(self._both_fn, x, shape=(), dtype=x.dtype)
        out[...] = grad.reshape(x.shape)
        return value.reshape(x.shape[:-1])

    def _gradient(self, x, out):
        self._value_and_gradient(x, out)
        return out

    def _hvp(self, x, v):
        return self._call(self._hvp_fn, x, v, shape=x.shape, dtype=x.dtype)

    def _hessian(self, x):
        return self._call(self._hessian_fn, x, shape=x.shape + (self.dim,), dtype=x.dtype)


def potential_from_jax(fn: Callable, dim: int, *, name: str | None = None, bounds=None, minima=(),
                       minimum_value: float | None = None) -> Potential:
    """A potential from a JAX function of one point; derivatives by JAX's autodiff (see :class:`JaxPotential`)."""
    return JaxPotential(fn, dim, name=name, bounds=bounds, minima=minima, minimum_value=minimum_value)


class TorchModuleRisk(EmpiricalRisk):
    """The mean loss of a torch ``nn.Module`` over a data set, as a function of its flattened parameters.

    V(θ) = loss_fn(model_θ(X), y) (+ ½·l2·|θ|²), θ the module's parameters in the order of
    ``model.parameters()`` flattened as ``torch.nn.utils.parameters_to_vector`` does. The module is
    evaluated by ``torch.func.functional_call`` with θ, batched over particles by ``vmap``, so an
    ensemble of replicas is one call; gradients by ``torch.func.grad``. As a data loss it counts in
    samples and has :meth:`minibatch` views with the same sampling rules as the package's own (so SGD's
    temperature and ensembles of replicas work unchanged).

    Parameters
    ----------
    model : torch.nn.Module
        Copied (and converted to ``dtype``); the original is not changed.
    loss_fn : callable
        ``loss_fn(output, target)`` returning the MEAN loss over the batch (e.g. ``nn.MSELoss()``,
        ``nn.CrossEntropyLoss()`` with their default ``reduction='mean'``).
    data : tuple (X, y)
        Arrays or tensors: X of shape (n, features), y of shape (n,) or (n, outputs); integer y are
        class labels.
    l2 : float
        Ridge weight.
    dtype : torch.dtype, optional
        Evaluation dtype (default float64).
    """

    def __init__(self, model, loss_fn: Callable, data, *, l2: float = 0.0, dtype=None, name: str | None = None):
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {_describe(model)}")
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable, got {_describe(loss_fn)}")
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise TypeError(f"data must be a pair (X, y), got {_describe(data)}")
        X, y = (d.detach().cpu().numpy() if isinstance(d, torch.Tensor) else np.asarray(d) for d in data)
        self.torch_dtype = torch.float64 if dtype is None else dtype
        self.model = copy.deepcopy(model).to(self.torch_dtype)
        self.loss_fn = loss_fn
        self._names = [name for name, _ in self.model.named_parameters()]
        self._shapes = [p.shape for _, p in self.model.named_parameters()]
        sizes = [int(np.prod(s)) for s in self._shapes]
        self._bounds = np.cumsum([0, *sizes])
        labels = np.issubdtype(y.dtype, np.integer)
        super().__init__(X, y, dim=int(self._bounds[-1]), l2=l2, name=name or type(model).__name__,
                         y_kind="class" if labels else "real")
        self._X = torch.as_tensor(self.X, dtype=self.torch_dtype)
        self._y = torch.as_tensor(self.y) if labels else torch.as_tensor(self.y, dtype=self.torch_dtype)
        func = torch.func

        def loss(theta, Xb, yb):
            params = {n: theta[a:b].view(s) for n, a, b, s in
                      zip(self._names, self._bounds[:-1], self._bounds[1:], self._shapes)}
            return loss_fn(func.functional_call(self.model, params, (Xb,)), yb)

        self._loss_shared = func.vmap(loss, in_dims=(0, None, None))
        self._loss_each = func.vmap(loss, in_dims=(0, 0, 0))
        self._both_shared = func.vmap(func.grad_and_value(loss), in_dims=(0, None, None))
        self._both_each = func.vmap(func.grad_and_value(loss), in_dims=(0, 0, 0))

    def initial_parameters(self) -> np.ndarray:
        """The module's own parameters θ₀ (its initialization), flattened: a natural start."""
        torch = _torch()
        return torch.nn.utils.parameters_to_vector(self.model.parameters()).detach().numpy().astype(np.float64)

    def _batch_loss(self, theta, idx, out):
        torch = _torch()
        lead = theta.shape[:-1]
        T = torch.as_tensor(np.ascontiguousarray(theta.reshape(-1, self.dim)), dtype=self.torch_dtype)
        if idx is None or np.ndim(idx) == 1:  # one batch for every particle
            rows = slice(None) if idx is None else torch.as_tensor(idx)
            args, both, only = (self._X[rows], self._y[rows]), self._both_shared, self._loss_shared
        else:  # a batch per particle
            rows = torch.as_tensor(np.asarray(idx).reshape(-1, np.shape(idx)[-1]))
            args, both, only = (self._X[rows], self._y[rows]), self._both_each, self._loss_each
        if out is None:
            values = only(T, *args)
        else:
            grads, values = both(T, *args)
            out[...] = grads.detach().numpy().reshape(theta.shape)
        return values.detach().numpy().astype(np.float64).reshape(lead)


def potential_from_torch_module(model, loss_fn: Callable, data, *, batch_size: int | None = None,
                                replace: bool = False, seed=0, l2: float = 0.0, dtype=None,
                                name: str | None = None) -> Potential:
    """A torch model's loss over a data set as a potential of its flattened parameters.

    Full batch by default; with ``batch_size`` a minibatch view (:meth:`EmpiricalRisk.minibatch`)
    drawn without replacement, epoch by epoch (``replace=True``: with replacement), from ``seed``.
    See :class:`TorchModuleRisk`; a minibatch view's ``parent`` is the full-data loss, whose
    ``initial_parameters()`` is the module's own initialization.
    """
    risk = TorchModuleRisk(model, loss_fn, data, l2=l2, dtype=dtype, name=name)
    if batch_size is None:
        return risk
    return risk.minibatch(batch_size, seed=seed, replace=replace)
