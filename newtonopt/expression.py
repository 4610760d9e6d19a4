"""Potentials from formulas: '6*x**2 + 9*y**2 - 12*x - 14*y + 3', differentiated exactly by sympy.

sympy is optional: it is imported when a formula is used, with a clear message when it is missing.
"""

from __future__ import annotations

import re

import numpy as np

from .potential import Potential

_XYZ = ("x", "y", "z")
_INDEXED = re.compile(r"^x(\d+)$")
_ALLOWED_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "atan", "asin", "acos",
                      "Abs", "pi", "E")


def _sympy():
    try:
        import sympy
    except ImportError:
        raise ImportError("a formula potential needs sympy, which is not installed: pip install sympy "
                          "(or pip install 'newtonopt[formula]')") from None
    return sympy


class ExpressionPotential(Potential):
    """A potential given by a formula; value, gradient and Hessian are sympy's exact derivatives,
    compiled to numpy (vectorized over leading axes)."""

    def __init__(self, expression: str, *, name: str | None = None, bounds=None):
        sympy = _sympy()
        if not isinstance(expression, str) or not expression.strip():
            raise ValueError(f"expression must be a non-empty formula string, got {expression!r}")
        if re.search(r"__|\blambda\b|\bimport\b|[;\[\]{}@`'\"\\]", expression):
            raise ValueError(f"expression {expression!r} contains characters or words a formula does not need")
        names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", expression))
        variables = self._variables(names, expression)
        local = {v: sympy.Symbol(v, real=True) for v in variables}
        local.update({f: getattr(sympy, f) for f in _ALLOWED_FUNCTIONS})
        unknown = names - set(local)
        if unknown:
            raise ValueError(f"expression {expression!r} uses unknown names {sorted(unknown)}; variables are x, y, z "
                             f"or x0, x1, …; functions: {', '.join(_ALLOWED_FUNCTIONS)}")
        try:
            expr = sympy.parse_expr(expression.replace("^", "**"), local_dict=local, global_dict={
                "Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational, "Symbol": sympy.Symbol},
                evaluate=True)
        except Exception as exc:
            raise ValueError(f"expression {expression!r} could not be parsed: {exc}") from None
        symbols = [local[v] for v in variables]
        if not isinstance(expr, sympy.Expr) or expr.free_symbols - set(symbols):
            raise ValueError(f"expression {expression!r} is not a formula in {variables}")
        grad = [sympy.diff(expr, s) for s in symbols]
        hess = [[sympy.diff(g, s) for s in symbols] for g in grad]
        self.expression, self.variables = expression, variables
        self._f = sympy.lambdify(symbols, expr, "numpy")
        self._g = [sympy.lambdify(symbols, g, "numpy") for g in grad]
        self._h = [[sympy.lambdify(symbols, h, "numpy") for h in row] for row in hess]
        super().__init__(len(symbols), name=name or expression, bounds=bounds)

    @staticmethod
    def _variables(names: set, expression: str) -> list[str]:
        indexed = sorted((n for n in names if _INDEXED.match(n)), key=lambda n: int(n[1:]))
        plain = [v for v in _XYZ if v in names]
        if indexed and plain:
            raise ValueError(f"expression {expression!r} mixes x, y, z with x0, x1, …: use one naming")
        if indexed:
            n = int(indexed[-1][1:]) + 1
            return [f"x{i}" for i in range(n)]
        if not plain:
            raise ValueError(f"expression {expression!r} has no variable: use x, y, z or x0, x1, …")
        return list(_XYZ[: _XYZ.index(plain[-1]) + 1])

    def _columns(self, x):
        return [x[..., i] for i in range(self.dim)]

    def _value(self, x):
        return np.broadcast_to(np.asarray(self._f(*self._columns(x)), dtype=x.dtype), x.shape[:-1]).copy()

    def _gradient(self, x, out):
        cols = self._columns(x)
        for i, g in enumerate(self._g):
            out[..., i] = g(*cols)  # a constant derivative broadcasts
        return out

    def _hessian(self, x):
        cols = self._columns(x)
        h = np.empty(x.shape + (self.dim,), dtype=x.dtype)
        for i, row in enumerate(self._h):
            for j, fn in enumerate(row):
                h[..., i, j] = fn(*cols)
        return h


def potential_from_expression(expression: str, *, name: str | None = None, bounds=None) -> Potential:
    """A potential from a formula in x, y, z (or x0, x1, …), e.g. ``'6*x**2 + 9*y**2 - 12*x - 14*y + 3'``.

    The dimension is the number of variables (x, y, z in that order, or x0 … xN). Derivatives are
    exact (sympy); only arithmetic and the functions sin, cos, tan, exp, log, sqrt, tanh, sinh, cosh,
    atan, asin, acos, Abs and the constants pi, E are allowed.
    """
    return ExpressionPotential(expression, name=name, bounds=bounds)
