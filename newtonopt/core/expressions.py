"""Array expressions: how a method writes its update rule, apart from how it is executed.

A method's rule is written on :class:`Field` objects (the run's per-coordinate arrays: positions,
gradient, momenta, moments) with the arithmetic of its formula::

    f.velocity *= c.momentum            # v ← μ·v
    f.velocity += f.grad                # v ← v + ∇V(x)
    f.x -= c.lr * f.velocity            # x ← x − lr·v

An operator between fields (or a field and a number) does not compute: it builds an
:class:`Expression`, a small tree of ufuncs. Assigning the tree to a field — ``f.x[...] = tree``,
or the augmented forms ``+=``, ``-=``, ``*=``, ``/=`` — hands it to the field's *backend*, which
evaluates it into the field's array. So the rule holds no buffers and no ``out=`` arguments, and
the backend decides how to execute it (the numpy backend: one ufunc per node, into scratch arrays
it keeps for the run, so a step allocates nothing of the problem's size).

The arithmetic is exactly the tree's, node by node, in IEEE double (or the fields' dtype): ``a + b·c``
is ``b·c`` rounded, then the sum rounded. No fused multiply-add, no reassociation. Coefficients
are Python floats or per-particle arrays of the ensemble's shape (one value per particle, applied
to each of its coordinates).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Expression", "Field", "NumpyEvaluator", "sqrt", "maximum", "per_particle_operand"]


class Expression:
    """A node of an array expression: ``ufunc(*args)``, evaluated when assigned to a :class:`Field`."""

    __slots__ = ("ufunc", "args")
    __array_ufunc__ = None  # ``array * field`` must build an expression too, not loop over the array

    def __init__(self, ufunc, *args):
        self.ufunc = ufunc
        self.args = args

    def __add__(self, other):
        return Expression(np.add, self, other)

    def __radd__(self, other):
        return Expression(np.add, other, self)

    def __sub__(self, other):
        return Expression(np.subtract, self, other)

    def __rsub__(self, other):
        return Expression(np.subtract, other, self)

    def __mul__(self, other):
        return Expression(np.multiply, self, other)

    def __rmul__(self, other):
        return Expression(np.multiply, other, self)

    def __truediv__(self, other):
        return Expression(np.divide, self, other)

    def __rtruediv__(self, other):
        return Expression(np.divide, other, self)

    def __neg__(self):
        return Expression(np.negative, self)

    def __repr__(self) -> str:
        return f"{self.ufunc.__name__}({', '.join(map(repr, self.args))})"


class Field(Expression):
    """A per-coordinate array of a run (shape ``(..., dim)``), updated in place by its backend.

    Parameters
    ----------
    array : ndarray
        The run's own array (never copied: the field writes into it).
    backend : object
        What evaluates an :class:`Expression` into ``array``: it has ``assign(out, expression)``.
    name : str
        For messages.
    """

    __slots__ = ("array", "backend", "name")

    def __init__(self, array: np.ndarray, backend, name: str = "field"):
        self.array = array
        self.backend = backend
        self.name = name

    def __setitem__(self, key, expression) -> None:
        if key is not Ellipsis:
            raise IndexError(f"assign a whole field: {self.name}[...] = expression")
        self.backend.assign(self.array, expression)

    def __iadd__(self, other):
        self.backend.assign(self.array, Expression(np.add, self, other))
        return self

    def __isub__(self, other):
        self.backend.assign(self.array, Expression(np.subtract, self, other))
        return self

    def __imul__(self, other):
        self.backend.assign(self.array, Expression(np.multiply, self, other))
        return self

    def __itruediv__(self, other):
        self.backend.assign(self.array, Expression(np.divide, self, other))
        return self

    def __repr__(self) -> str:
        return self.name


def sqrt(a) -> Expression:
    """√a, elementwise (IEEE square root: correctly rounded on every CPU)."""
    return Expression(np.sqrt, a)


def _maximum(a, b, out):
    return np.maximum(a, b, out=out)  # numpy deprecates out by position for maximum


def maximum(a, b) -> Expression:
    """max(a, b), elementwise."""
    return Expression(_maximum, a, b)


def per_particle_operand(value, out: np.ndarray):
    """A coefficient as an operand for arrays like ``out``: a number as it is, a per-particle array
    (the ensemble's shape ``out.shape[:-1]``) with a trailing axis, in ``out``'s dtype."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:  # one particle's value: a number, which numpy takes in out's dtype
            return float(value)
        if value.shape == out.shape[:-1]:
            return value.astype(out.dtype, copy=False)[..., None]
    return value


class NumpyEvaluator:
    """The reference execution of expressions: one numpy ufunc per node, in the tree's order.

    The root's ufunc writes into the target array; every inner node is evaluated into a scratch
    array of the target's shape, kept for the run (so after the first step nothing of the problem's
    size is allocated). A node's first inner operand reuses the node's own scratch array, the
    others take the next ones, so a tree of depth d needs at most d of them. The target is never
    used as scratch, so a rule may read the field it assigns anywhere in the tree. (Written for a
    small per-node cost: a 2-coordinate step is a few ufunc calls, and this runs around each.)
    """

    def __init__(self):
        self._pool: dict = {}  # shape -> scratch arrays, in slot order

    def assign(self, out: np.ndarray, expression) -> None:
        """Evaluate ``expression`` into ``out`` (in place)."""
        kind = type(expression)
        if kind is Expression:
            args = expression.args
            if len(args) == 2:
                a, b = args
                kind = type(a)
                if kind is Field:
                    a = a.array
                elif kind is Expression:
                    a = self._into(a, out, 0)
                elif kind is not float:
                    a = per_particle_operand(a, out)
                kind = type(b)
                if kind is Field:
                    b = b.array
                elif kind is Expression:
                    b = self._into(b, out, 1)
                elif kind is not float:
                    b = per_particle_operand(b, out)
                expression.ufunc(a, b, out)  # out by position: measurably cheaper on tiny arrays
            else:
                expression.ufunc(*[self._value(a, out, slot) for slot, a in enumerate(args)], out)
        elif kind is Field:
            np.copyto(out, expression.array)
        else:
            out[...] = per_particle_operand(expression, out)

    def _value(self, a, like: np.ndarray, slot: int):
        """Operand ``a`` ready for a ufunc: a field's array, a number, or an inner node in scratch ``slot``."""
        kind = type(a)
        if kind is Field:
            return a.array
        if kind is float:
            return a
        if kind is Expression:
            return self._into(a, like, slot)
        return per_particle_operand(a, like)

    def _into(self, node: Expression, like: np.ndarray, slot: int) -> np.ndarray:
        # Scratch arrays are shared by shape: every target of a run has the positions' dtype.
        try:
            buf = self._pool[like.shape][slot]
        except (KeyError, IndexError):
            free = self._pool.setdefault(like.shape, [])
            while len(free) <= slot:
                free.append(np.empty_like(like))
            buf = free[slot]
        args = node.args
        if len(args) == 2:
            a, b = args
            kind = type(a)
            if kind is Field:
                a = a.array
            elif kind is Expression:
                a = self._into(a, like, slot)  # the first inner operand is computed in this node's own buffer
                kind = type(b)
                if kind is Field:
                    b = b.array
                elif kind is Expression:
                    b = self._into(b, like, slot + 1)
                elif kind is not float:
                    b = per_particle_operand(b, like)
                node.ufunc(a, b, buf)
                return buf
            elif kind is not float:
                a = per_particle_operand(a, like)
            kind = type(b)
            if kind is Field:
                b = b.array
            elif kind is Expression:
                b = self._into(b, like, slot)
            elif kind is not float:
                b = per_particle_operand(b, like)
            node.ufunc(a, b, buf)
            return buf
        (a,) = args  # unary: −a, √a
        node.ufunc(self._into(a, like, slot) if type(a) is Expression else self._value(a, like, slot), buf)
        return buf
