"""Classic test functions of optimization: Rosenbrock, Himmelblau, Beale, Rastrigin.

The 2-D functions are written per coordinate column (``x[..., 0]``, ``x[..., 1]``), which is
what an ensemble stored in Fortran order makes contiguous, and share work between V and ∇V.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_int, positive
from ..core.reductions import fold
from ._base import LibraryPotential
from ._refine import newton_stationary


class Rosenbrock(LibraryPotential):
    r"""Rosenbrock's valley, V(x) = Σᵢ b·(xᵢ₊₁ − xᵢ²)² + (a − xᵢ)², i = 1 … dim − 1.

    A long, curved, flat-bottomed valley: easy to find, hard to follow. The global minimum is
    V = 0 at (a, a², …) for dim = 2 and at (1, …, 1) for a = 1; for a ≠ 1 and dim > 2 its position
    has no closed form and ``minima`` is left empty. At the minimum (a = 1, b = 100, dim = 2) the
    Hessian [[802, −400], [−400, 200]] has κ ≈ 2508.

    References
    ----------
    Rosenbrock, H. H. (1960). An automatic method for finding the greatest or least value of a
    function. The Computer Journal 3(3), 175-184.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    def __init__(self, dim: int = 2, a: float = 1.0, b: float = 100.0):
        dim = as_int("dim", dim, low=2)
        self.a, self.b = float(a), positive("b", b)
        if not np.isfinite(self.a):
            raise ValueError(f"a must be finite, got {a!r}")
        minima = []
        if dim == 2:
            minima = [([self.a, self.a**2], 0.0)]
        elif self.a == 1.0:
            minima = [(np.ones(dim), 0.0)]
        bounds = [[-2.0, 2.0], [-1.0, 3.0]] if dim == 2 else None
        super().__init__(dim, name="Rosenbrock" if dim == 2 else f"Rosenbrock ({dim}-D)", bounds=bounds,
                         minima=minima)

    def _value_and_gradient(self, x, out):
        a, b = self.a, self.b
        if self.dim == 2:
            x0, x1 = x[..., 0], x[..., 1]
            r = x1 - x0 * x0  # valley residual
            s = a - x0
            out[..., 1] = (2.0 * b) * r
            out[..., 0] = -2.0 * s - (4.0 * b) * x0 * r
            return b * r * r + s * s
        head, tail = x[..., :-1], x[..., 1:]
        r = tail - head * head
        s = a - head
        out[...] = 0.0
        out[..., :-1] = -2.0 * s - (4.0 * b) * head * r
        out[..., 1:] += (2.0 * b) * r
        return fold(b * r * r + s * s)

    def _value(self, x):
        head, tail = x[..., :-1], x[..., 1:]
        r = tail - head * head
        return fold(self.b * r * r + (self.a - head) ** 2)

    def _hessian(self, x):
        b = self.b
        head, tail = x[..., :-1], x[..., 1:]
        hess = np.zeros(x.shape + (self.dim,), dtype=x.dtype)
        idx = np.arange(self.dim - 1)
        diag = np.zeros_like(x)
        diag[..., :-1] += 2.0 - 4.0 * b * (tail - 3.0 * head * head)
        diag[..., 1:] += 2.0 * b
        hess[..., np.arange(self.dim), np.arange(self.dim)] = diag
        off = -4.0 * b * head
        hess[..., idx, idx + 1] = off
        hess[..., idx + 1, idx] = off
        return hess


class Himmelblau(LibraryPotential):
    r"""Himmelblau's function, V(x, y) = (x² + y − 11)² + (x + y² − 7)².

    Four minima, all with V = 0: (3, 2), (−2.805118, 3.131313), (−3.779310, −3.283186) and
    (3.584428, −1.848127) (refined to machine precision by Newton's method at construction);
    a local maximum near (−0.271, −0.923) and four saddles.

    References
    ----------
    Himmelblau, D. M. (1972). Applied Nonlinear Programming. McGraw-Hill.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    _STARTS = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))

    def __init__(self):
        self.dim = 2
        minima = [(newton_stationary(self._grad1, self._hessian, p), 0.0) for p in self._STARTS]
        minima = [(m, float(self._value(m))) for m, _ in minima]
        super().__init__(2, name="Himmelblau", bounds=[[-5.0, 5.0], [-5.0, 5.0]], minima=minima)

    def _grad1(self, x):
        out = np.empty(2)
        self._value_and_gradient(x, out)
        return out

    def _value_and_gradient(self, x, out):
        x0, x1 = x[..., 0], x[..., 1]
        u = x0 * x0 + x1 - 11.0
        v = x0 + x1 * x1 - 7.0
        out[..., 0] = 4.0 * u * x0 + 2.0 * v
        out[..., 1] = 2.0 * u + 4.0 * v * x1
        return u * u + v * v

    def _value(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return (x0 * x0 + x1 - 11.0) ** 2 + (x0 + x1 * x1 - 7.0) ** 2

    def _hessian(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        h = np.empty(x.shape + (2,), dtype=x.dtype)
        h[..., 0, 0] = 12.0 * x0 * x0 + 4.0 * x1 - 42.0
        h[..., 1, 1] = 4.0 * x0 + 12.0 * x1 * x1 - 26.0
        h[..., 0, 1] = h[..., 1, 0] = 4.0 * (x0 + x1)
        return h


class Beale(LibraryPotential):
    r"""Beale's function, V(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)².

    A sharp valley with flat plateaus; the global minimum V = 0 is at (3, 0.5).

    References
    ----------
    Beale, E. M. L. (1958). On an iterative method for finding a local minimum of a function of
    more than one variable. Tech. Rep. 25, Statistical Techniques Research Group, Princeton.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    _C = (1.5, 2.25, 2.625)

    def __init__(self):
        super().__init__(2, name="Beale", bounds=[[-4.5, 4.5], [-4.5, 4.5]], minima=[([3.0, 0.5], 0.0)])

    def _value_and_gradient(self, x, out):
        x0, x1 = x[..., 0], x[..., 1]
        value = 0.0
        gx = 0.0
        gy = 0.0
        yk = 1.0  # y^(k−1)
        for k, c in enumerate(self._C, start=1):
            ykk = yk * x1  # y^k
            r = c - x0 + x0 * ykk
            value = value + r * r
            gx = gx + 2.0 * r * (ykk - 1.0)
            gy = gy + 2.0 * r * (k * x0 * yk)
            yk = ykk
        out[..., 0] = gx
        out[..., 1] = gy
        return value

    def _value(self, x):
        return self._value_and_gradient(x, np.empty_like(x))

    def _hessian(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        h = np.zeros(x.shape + (2,), dtype=x.dtype)
        for k, c in enumerate(self._C, start=1):
            r = c - x0 + x0 * x1**k
            rx = x1**k - 1.0
            ry = k * x0 * x1 ** (k - 1)
            rxy = k * x1 ** (k - 1)
            ryy = k * (k - 1) * x0 * x1 ** (k - 2) if k > 1 else 0.0
            h[..., 0, 0] += 2.0 * rx * rx
            h[..., 0, 1] += 2.0 * (rx * ry + r * rxy)
            h[..., 1, 1] += 2.0 * (ry * ry + r * ryy)
        h[..., 1, 0] = h[..., 0, 1]
        return h


class Rastrigin(LibraryPotential):
    r"""Rastrigin's function, V(x) = A·dim + Σᵢ (xᵢ² − A·cos 2πxᵢ).

    An egg crate on a bowl: a local minimum near every integer point, the global one V = 0 at the
    origin. The curvature at the bottom of every well is 2 + 4π²A, so gradient descent needs
    lr < 2/(2 + 4π²A) ≈ 0.005 for A = 10.

    References
    ----------
    Rastrigin, L. A. (1974). Systems of extremal control. Nauka, Moscow.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    def __init__(self, dim: int = 2, A: float = 10.0):
        dim = as_int("dim", dim, low=1)
        self.A = positive("A", A)
        bounds = [[-5.12, 5.12]] * dim if dim == 2 else None
        super().__init__(dim, name="Rastrigin" if dim == 2 else f"Rastrigin ({dim}-D)", bounds=bounds,
                         minima=[(np.zeros(dim), 0.0)])

    def _value_and_gradient(self, x, out):
        phase = (2.0 * np.pi) * x
        np.sin(phase, out=out)
        np.multiply(out, 2.0 * np.pi * self.A, out=out)
        out += 2.0 * x
        return self.A * self.dim + fold(x * x - self.A * np.cos(phase))

    def _value(self, x):
        return self.A * self.dim + fold(x * x - self.A * np.cos(2.0 * np.pi * x))

    def _hessian(self, x):
        diag = 2.0 + 4.0 * np.pi**2 * self.A * np.cos(2.0 * np.pi * x)
        h = np.zeros(x.shape + (self.dim,), dtype=x.dtype)
        h[..., np.arange(self.dim), np.arange(self.dim)] = diag
        return h
