"""Potentials from formulas: ``'6*x**2 + 9*y**2 - 12*x - 14*y + 3'``, differentiated exactly.

The text is parsed by :mod:`newtonopt.formula` (a grammar of its own, never ``eval`` or sympy), so
a formula from a user, a file or the command line can denote arithmetic and nothing else. No
optional dependency is needed. :class:`ExpressionPotential` itself is defined in
:mod:`newtonopt.potential`, beside the base class whose ``from_expression`` builds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .potential import ExpressionPotential, Potential

__all__ = ["ExpressionPotential", "potential_from_expression"]


def potential_from_expression(expression: str, *, variables: Sequence[str] | None = None, name: str | None = None,
                              bounds=None) -> Potential:
    """A potential from a formula in x, y, z (or x0, x1, …, or names you declare).

    Parameters
    ----------
    expression : str
        E.g. ``'6*x**2 + 9*y**2 - 12*x - 14*y + 3'`` or ``'(1 - x)**2 + 100*(y - x**2)**2'``.
        Numbers, the variables, + − * / ** (or ^), unary ±, parentheses, the constants pi and e,
        and the functions exp, log, sqrt, sin, cos, tan, sinh, cosh, tanh, asin, acos, atan, abs.
    variables : sequence of str, optional
        Names of the coordinates in order, e.g. ``['a', 'b']``; the dimension is their number.
    name : str, optional
        A display name (default: the formula).
    bounds : array_like of shape (dim, 2), optional
        A box for plots.

    Returns
    -------
    Potential
        Value, gradient and Hessian are exact derivatives of the formula.

    Raises
    ------
    ValueError
        A formula outside the grammar or its limits, naming the offending piece and its column
        (see :mod:`newtonopt.formula`). No text is ever evaluated as Python.
    """
    return ExpressionPotential(expression, variables=variables, name=name, bounds=bounds)
