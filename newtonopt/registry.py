"""Names for the command line beyond the package's own methods: potentials, and scipy's methods.

Each potential entry carries a conventional start and a safe default step size,
so that ``newtonopt compare --potential NAME`` works without further flags. The package's
methods are listed once, in :mod:`newtonopt.integrators.registry`; scipy's are here because
they are no integrators, only names the command line passes on to ``scipy.optimize.minimize``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import potentials as P


@dataclass(frozen=True)
class PotentialEntry:
    make: Callable[[int | None], object]
    start: Callable[[object], np.ndarray]
    description: str
    lr: float  # a learning rate that is stable from the default start (about 1/λ_max along the way)


def _lj_start(V):
    return V.initial_positions(seed=0)


POTENTIALS: dict[str, PotentialEntry] = {
    "rosenbrock": PotentialEntry(lambda d: P.Rosenbrock(dim=d or 2), lambda V: np.tile([-1.2, 1.0], V.dim // 2 + 1)[
        : V.dim], "Rosenbrock's banana-shaped valley, lowest (0) at (1, 1); any --dim", 1e-3),
    "himmelblau": PotentialEntry(lambda d: P.Himmelblau(), lambda V: np.array([0.0, 0.0]),
                                 "Himmelblau's function: four valleys, all as deep (0)", 1e-2),
    "beale": PotentialEntry(lambda d: P.Beale(), lambda V: np.array([1.0, 1.0]),
                            "Beale's function: flat plateaus and steep walls, lowest (0) at (3, 0.5)", 1e-2),
    "muller-brown": PotentialEntry(lambda d: P.MullerBrown(), lambda V: np.array([-0.2, 1.0]),
                                   "Müller–Brown, a model chemical reaction: three valleys joined by two passes", 1e-4),
    "double-well": PotentialEntry(lambda d: P.DoubleWell(), lambda V: np.array([0.4, 1.0]),
                                  "two valleys side by side, one deeper than the other", 5e-2),
    "rastrigin": PotentialEntry(lambda d: P.Rastrigin(dim=d or 2), lambda V: np.full(V.dim, 2.2),
                                "Rastrigin's egg crate: many dips around the lowest (0) at 0; any --dim", 2e-3),
    "lennard-jones": PotentialEntry(lambda d: P.LennardJones(n_atoms=d or 13), _lj_start,
                                    "atoms pulling on each other (Lennard-Jones); --dim atoms, default 13", 1e-3),
    "quadratic": PotentialEntry(lambda d: P.Quadratic(np.logspace(0, 2, d or 2)), lambda V: np.ones(V.dim),
                                "a long narrow bowl (curvatures 1 to 100), lowest (0) at 0; any --dim", 1e-2),
    "seed-1d": PotentialEntry(lambda d: P.Quadratic([12.0], [-12.0], 3.0, name="6x² − 12x + 3"),
                              lambda V: np.array([-0.9]), "the parabola 6x² − 12x + 3, lowest (−3) at x = 1", 0.03),
    "seed-2d": PotentialEntry(lambda d: P.Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0,
                                                    name="6x² + 9y² − 12x − 14y + 3"),
                              lambda V: np.array([0.0, 0.0]), "the bowl 6x² + 9y² − 12x − 14y + 3, lowest at (1, 7/9)",
                              0.05),
}


@dataclass(frozen=True)
class ScipyEntry:
    target: str  # the method name scipy.optimize.minimize takes
    description: str
    # The scipy options the command line passes on (``cg:c2=0.01``): line-search and memory settings only.
    # Tolerances and budgets (gtol, ftol, maxiter…) stay out: the shared stopping rule sets them.
    settings: tuple[str, ...] = ()


SCIPY_METHODS: dict[str, ScipyEntry] = {
    "cg": ScipyEntry("CG", "scipy's nonlinear conjugate gradient (Polak–Ribière)", ("c1", "c2")),
    "bfgs": ScipyEntry("BFGS", "scipy's BFGS quasi-Newton", ("c1", "c2")),
    "lbfgs": ScipyEntry("L-BFGS-B", "scipy's limited-memory BFGS", ("maxcor", "maxls")),
    "newton-cg": ScipyEntry("Newton-CG", "scipy's truncated Newton with Hessian-vector products", ("c1", "c2")),
}


def lookup(kind: str, name: str, table: dict):
    """The entry called ``name``; a ValueError listing close matches otherwise."""
    key = name.strip().lower()
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key, list(table), n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"unknown {kind} {name!r}{hint} (known: {', '.join(table)})")
