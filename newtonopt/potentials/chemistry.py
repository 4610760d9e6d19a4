"""Potentials from chemistry: the Müller–Brown surface and Lennard-Jones clusters."""

from __future__ import annotations

import numpy as np

from .._validation import as_int
from ..core.reductions import fold
from ._base import LibraryPotential
from ._refine import newton_stationary

# Müller & Brown (1979), Table 1.
_MB_A = (-200.0, -100.0, -170.0, 15.0)
_MB_a = (-1.0, -1.0, -6.5, 0.7)
_MB_b = (0.0, 0.0, 11.0, 0.6)
_MB_c = (-10.0, -10.0, -6.5, 0.7)
_MB_X = (1.0, 0.0, -0.5, -1.0)
_MB_Y = (0.0, 0.5, 1.5, 1.0)


class MullerBrown(LibraryPotential):
    r"""The Müller–Brown surface, V(x, y) = Σₖ Aₖ·exp(aₖ(x − x⁰ₖ)² + bₖ(x − x⁰ₖ)(y − y⁰ₖ) + cₖ(y − y⁰ₖ)²).

    The standard two-dimensional model of a chemical reaction: three minima, MA ≈ (−0.558, 1.442)
    with V ≈ −146.70, MB ≈ (0.623, 0.028) with V ≈ −108.17 and MC ≈ (−0.050, 0.467) with V ≈ −80.77,
    joined by two saddle points (``saddles``), all refined to machine precision at construction.

    Evaluation is the formula as written, term by term, for one particle or an ensemble (whose
    coordinate columns are contiguous in the Fortran order simulate keeps).

    References
    ----------
    Müller, K. & Brown, L. D. (1979). Location of saddle points and minimum energy paths by a
    constrained simplex optimization procedure. Theor. Chim. Acta 53, 75-93.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    _MINIMA = ((-0.558, 1.442), (0.623, 0.028), (-0.050, 0.467))
    # Far out (|x| ≳ 1e154) an exponent a·dx² + b·dx·dy + c·dy² can evaluate to inf − inf; the three wells'
    # forms are negative definite and the fourth term's positive definite, so V there is +inf.
    _nan_value_is_infinite = True
    _SADDLES = ((-0.822, 0.624), (0.212, 0.293))

    def __init__(self):
        self.dim = 2
        minima = [newton_stationary(self._grad1, self._hessian, p) for p in self._MINIMA]
        self.saddles = [(s, float(self._value(s))) for s in
                        (newton_stationary(self._grad1, self._hessian, p) for p in self._SADDLES)]
        super().__init__(2, name="Müller–Brown", bounds=[[-1.5, 1.2], [-0.4, 2.0]],
                         minima=[(m, float(self._value(m))) for m in minima])

    def _grad1(self, x):
        out = np.empty(2)
        self._value_and_gradient(x, out)
        return out

    def _value_and_gradient(self, x, out):
        # The four terms as written, for one particle or a whole ensemble alike (one formula, so a particle
        # gets the same bits alone or in any ensemble); e·(∂ of the exponent) is each term's gradient.
        x0, x1 = x[..., 0], x[..., 1]
        value = gx = gy = 0.0
        for A, a, b, c, X, Y in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X, _MB_Y):
            dx, dy = x0 - X, x1 - Y
            e = A * np.exp(a * dx * dx + b * dx * dy + c * dy * dy)
            value = value + e
            gx = gx + e * (2.0 * a * dx + b * dy)
            gy = gy + e * (b * dx + 2.0 * c * dy)
        out[..., 0] = gx
        out[..., 1] = gy
        return value

    def _value(self, x):
        return np.asarray(self._value_and_gradient(x, np.empty_like(x)), dtype=x.dtype)

    def _hessian(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        h = np.zeros(x.shape + (2,), dtype=x.dtype)
        for A, a, b, c, X, Y in zip(_MB_A, _MB_a, _MB_b, _MB_c, _MB_X, _MB_Y):
            dx, dy = x0 - X, x1 - Y
            e = A * np.exp(a * dx * dx + b * dx * dy + c * dy * dy)
            px, py = 2 * a * dx + b * dy, b * dx + 2 * c * dy
            h[..., 0, 0] += e * (px * px + 2 * a)
            h[..., 1, 1] += e * (py * py + 2 * c)
            h[..., 0, 1] += e * (px * py + b)
        h[..., 1, 0] = h[..., 0, 1]
        return h


# Putative global minima of LJ clusters in reduced units, from the Cambridge Cluster Database
# (Wales & Doye, J. Phys. Chem. A 101, 5111, 1997).
LJ_GLOBAL_MINIMA = {2: -1.0, 3: -3.0, 4: -6.0, 5: -9.103852, 6: -12.712062, 7: -16.505384, 8: -19.821489,
                    9: -24.113360, 10: -28.422532, 11: -32.765970, 12: -37.967600, 13: -44.326801,
                    14: -47.845157, 15: -52.322627, 16: -56.815742, 17: -61.317995, 18: -66.530949,
                    19: -72.659782, 20: -77.177043}


class LennardJones(LibraryPotential):
    r"""A cluster of n atoms interacting pairwise by V(r) = 4(r⁻¹² − r⁻⁶) (reduced units ε = σ = 1).

    Positions are flattened: x has shape (..., 3·n_atoms) as (x₁, y₁, z₁, x₂, …). A pair has its
    minimum −1 at r = 2^(1/6). ``minimum_value`` is the putative global minimum from the Cambridge
    Cluster Database for n ≤ 20 (e.g. −44.326801 for the 13-atom icosahedron); ``minima`` stays
    empty because the minimizer is unique only up to rotations, translations and permutations.

    References
    ----------
    Jones, J. E. (1924). Proc. R. Soc. Lond. A 106, 463-477. Wales, D. J. & Doye, J. P. K. (1997).
    Global optimization by basin-hopping and the lowest energy structures of Lennard-Jones clusters
    containing up to 110 atoms. J. Phys. Chem. A 101, 5111-5116.
    """

    particlewise = True  # each particle's V from its own coordinates (chunked evaluation)

    # r⁻¹² − r⁻⁶ is inf − inf when two atoms coincide (r² rounds to 0), where V is +inf.
    _nan_value_is_infinite = True

    def __init__(self, n_atoms: int = 13):
        self.n_atoms = as_int("n_atoms", n_atoms, low=2)
        self._i, self._j = np.triu_indices(self.n_atoms, k=1)
        # Atom a receives +f from its pairs (a, b > a) and −f from its pairs (b < a, a): for each atom the
        # n − 1 pairs it belongs to, in order of the partner, and their signs (summed in a fixed order).
        n, pair = self.n_atoms, np.empty((self.n_atoms, self.n_atoms), dtype=np.intp)
        pair[self._i, self._j] = pair[self._j, self._i] = np.arange(len(self._i))
        partners = [[b for b in range(n) if b != a] for a in range(n)]
        self._atom_pairs = np.array([[pair[a, b] for b in partners[a]] for a in range(n)])
        self._atom_signs = np.array([[1.0 if b > a else -1.0 for b in partners[a]] for a in range(n)])[..., None]
        super().__init__(3 * self.n_atoms, name=f"Lennard-Jones {self.n_atoms}",
                         minimum_value=LJ_GLOBAL_MINIMA.get(self.n_atoms))

    def initial_positions(self, seed=None, spacing: float = 1.15, jitter: float = 0.1) -> np.ndarray:
        """A compact random start: atoms on the sites of a cubic grid nearest the centre
        (spacing ≈ the pair distance), shuffled and jittered by ``jitter``; flattened to (3·n_atoms,)."""
        rng = np.random.default_rng(seed)
        m = int(np.ceil(self.n_atoms ** (1 / 3))) + 2
        g = np.arange(m) - (m - 1) / 2
        sites = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
        order = np.argsort(np.linalg.norm(sites, axis=1) + 1e-3 * rng.random(len(sites)))
        chosen = sites[order[: self.n_atoms]] * spacing
        return (chosen + jitter * rng.uniform(-1, 1, chosen.shape)).reshape(-1)

    def _pairs(self, x):
        pos = x.reshape(x.shape[:-1] + (self.n_atoms, 3))
        d = pos[..., self._i, :] - pos[..., self._j, :]
        r2 = fold(d * d)
        return pos, d, r2

    def _value_and_gradient(self, x, out):
        pos, d, r2 = self._pairs(x)
        inv6 = 1.0 / (r2 * r2 * r2)
        value = fold(4.0 * (inv6 * inv6 - inv6))
        # dV/dr · (1/r) = −24(2r⁻¹⁴ − r⁻⁸): the pair force along d.
        coef = -24.0 * (2.0 * inv6 * inv6 - inv6) / r2
        f = coef[..., None] * d
        out[...] = fold(self._atom_signs * f[..., self._atom_pairs, :], axis=-2).reshape(out.shape)
        return value

    def _value(self, x):
        _, _, r2 = self._pairs(x)
        inv6 = 1.0 / (r2 * r2 * r2)
        return fold(4.0 * (inv6 * inv6 - inv6))
