"""Every method of the package, for the tests that run them all (as diffrax's ``all_ode_solvers``).

Built from the one method registry (:mod:`newtonopt.integrators.registry`): a method added there is
run by every test that uses this list, with the default setting below, until a test gives it its own.
Tests whose numbers depend on their settings (golden hashes, measured float32 bounds, code paths
such as AMSGrad or a centred RMSprop) keep them, by class name, and pass them to :func:`every_method`.
"""

from __future__ import annotations

from collections.abc import Callable

from newtonopt.integrators.registry import METHODS

#: The learning rate the default settings start from (the registry's ``settings(lr)``): stable on the
#: tests' quadratics (λ ≤ 100), on Rosenbrock from (−1.2, 1) and on small Lennard-Jones clusters.
SAFE_LR = 1e-3

#: Every method's class name, in registry order.
NAMES: tuple[str, ...] = tuple(m.cls.__name__ for m in METHODS)
#: The methods that draw random numbers: their factories take ``seed=``.
STOCHASTIC: frozenset[str] = frozenset(m.cls.__name__ for m in METHODS if m.stochastic)
#: The methods with a momentum (``order == 2``).
SECOND_ORDER: frozenset[str] = frozenset(m.cls.__name__ for m in METHODS if m.second_order)

_BY_NAME = {m.cls.__name__: m for m in METHODS}


def default(name: str) -> Callable:
    """The registry's setting at :data:`SAFE_LR` (seed 0 unless given for a stochastic method)."""
    entry = _BY_NAME[name]
    if entry.stochastic:
        return lambda seed=0: entry.build(SAFE_LR, seed=seed)
    return lambda: entry.build(SAFE_LR)


def every_method(own: dict[str, Callable] | None = None) -> dict[str, Callable]:
    """A factory for every registered method, by class name in registry order.

    Parameters
    ----------
    own : dict, optional
        The calling test's own factories by class name; they replace the defaults. A name the
        registry does not know is an error (a renamed or removed method must not go untested
        silently).
    """
    own = dict(own or {})
    unknown = sorted(set(own) - set(NAMES))
    assert not unknown, f"settings for methods the registry does not know: {unknown}"
    return {name: own.get(name) or default(name) for name in NAMES}


def missing_from(table: dict) -> list[str]:
    """The registered methods a hand-made table lacks (for tables no default can fill, e.g. of parameters)."""
    return [name for name in NAMES if name not in table]
