"""Potentials from automatic differentiation: your own loss written in torch (an optional extra).

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

from collections.abc import Callable

import numpy as np

from .._validation import _describe
from ..potential import Potential


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
