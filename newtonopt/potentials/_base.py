"""The base of the library's potentials: public evaluations that are quiet far outside the domain.

Far from its minima a library potential overflows: at x = 1e200, x² is inf. That is the right
answer (V = +inf), and the run loop already treats it as a divergence inside its own
``np.errstate``; but a user calling ``V.value(x)`` got numpy's RuntimeWarnings, and ``-W error``
turned them into exceptions. Here the public methods evaluate with floating-point warnings off.

The hot path (``evaluate_into``, what an integrator's step calls) is left alone:
an ``np.errstate`` costs about 1 µs, as much as a whole step of a 2-D problem, and the run loop
silences the warnings once for the whole run.
"""

from __future__ import annotations

import functools

import numpy as np

from ..potential import Potential

_PUBLIC = ("value", "gradient", "value_and_gradient", "hessian", "hvp")


def _quiet(method):
    @functools.wraps(method)
    def quiet(self, *args, **kwargs):
        with np.errstate(all="ignore"):  # half the cost of naming the four kinds (~0.8 µs against 1.7)
            return method(self, *args, **kwargs)

    quiet.__quiet__ = True
    return quiet


class LibraryPotential(Potential):
    """A :class:`~newtonopt.Potential` whose public evaluations raise no floating-point warnings.

    Overflow gives ±inf and an undefined result (inf − inf) NaN, as IEEE arithmetic does. A subclass
    whose V is +inf wherever its formula gives NaN at a finite x (two overflowing terms of opposite
    sign, where the dominant one is known to be positive) sets ``_nan_value_is_infinite = True``, and
    ``value`` then reports that limit. Public methods a subclass defines are wrapped the same way.
    """

    #: True when a NaN value at a finite x always stands for V = +inf (see the class docstring).
    _nan_value_is_infinite: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _PUBLIC:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__quiet__", False):
                setattr(cls, name, _quiet(method))

    @_quiet
    def value(self, x):
        """V(x), shape ``x.shape[:-1]``: +inf (not a warning) where it overflows."""
        return self._limit(x, Potential.value(self, x))

    gradient = _quiet(Potential.gradient)
    hessian = _quiet(Potential.hessian)
    hvp = _quiet(Potential.hvp)

    @_quiet
    def value_and_gradient(self, x, out: np.ndarray | None = None):
        """``(V(x), ∇V(x))``, quiet where they overflow."""
        value, grad = Potential.value_and_gradient(self, x, out)
        return self._limit(x, value), grad

    def _limit(self, x, value: np.ndarray) -> np.ndarray:
        """Replace a NaN value at a finite x by +inf when the subclass knows that to be the limit."""
        if self._nan_value_is_infinite:
            nan = np.isnan(value)
            if nan.any():
                nan &= np.all(np.isfinite(self._prepare(x)), axis=-1)
                value[nan] = np.inf
        return value
