"""Potentials from formulas: ``'6*x**2 + 9*y**2 - 12*x - 14*y + 3'``, differentiated exactly.

The text is parsed by :mod:`newtonopt.formula` (a grammar of its own, never ``eval`` or sympy), so
a formula from a user, a file or the command line can denote arithmetic and nothing else. No
optional dependency is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import formula as _formula
from .potential import Potential


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
    The gradient and the Hessian are derived on first use (reverse-mode symbolic differentiation,
    :func:`newtonopt.formula.gradient`), so a formula in many variables is built at once and pays
    for its Hessian only if one is asked for.
    """

    def __init__(self, expression: str, *, variables: Sequence[str] | None = None, name: str | None = None,
                 bounds=None):
        parsed = _formula.parse(expression, variables)
        self.expression, self.variables, self.formula = expression, list(parsed.variables), parsed
        self._value_program: _formula.Program | None = None
        self._gradient_nodes: list | None = None
        self._gradient_program: _formula.Program | None = None
        self._hessian_program: _formula.Program | None = None
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

    def _hessian_code(self) -> _formula.Program:
        if self._hessian_program is None:
            graph = self.formula.graph
            rows = [_formula.gradient(graph, g, self.dim) for g in self.gradient_nodes]
            self._hessian_program = _formula.Program([h for row in rows for h in row])
        return self._hessian_program

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
        entries = self._hessian_code()(self._columns(x))
        h = np.empty(x.shape + (self.dim,), dtype=x.dtype)
        for k, v in enumerate(entries):
            h[..., k // self.dim, k % self.dim] = v
        return h


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
