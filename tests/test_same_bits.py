"""The same bits everywhere: one particle alone equals the same particle in any ensemble, and the
golden trajectories hash the same on every CPU.

The references are the package's own promises (docs/scale.md, "The same bits on every CPU"): the
arithmetic of a run is elementwise IEEE operations and fixed-order sums (newtonopt.core.reductions),
so no result may depend on the ensemble around a particle, its memory layout, or the processor.
CI also runs this file under OPENBLAS_CORETYPE=Prescott, NPY_DISABLE_CPU_FEATURES and (on AVX-512
machines) OPENBLAS_CORETYPE=SkylakeX, which put other CPUs' kernels on one machine.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

import newtonopt as no
from newtonopt.core.elementary import log_into, sincos_turns_into
from newtonopt.core.reductions import fold, rowdot
from newtonopt.potentials import Beale, Himmelblau, LeastSquares, LennardJones, MullerBrown, Quadratic, Rosenbrock

from . import golden
from .methods import STOCHASTIC

RECORDED = ("x", "potential_energy", "kinetic_energy", "dissipated", "grad_norm", "p")


def test_golden_hashes():
    expected = json.loads(golden.HASHES.read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(key for key, _ in golden.cases())
    changed = [key for key, args in golden.cases() if golden.digest(golden.run(*args)) != expected[key]]
    assert changed == [], f"these golden trajectories changed bits (regenerate only on purpose): {changed}"


def _potentials():
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    return {
        "quadratic-diag-2": Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0),
        "quadratic-dense-3": golden._rotated_quadratic(),
        "quadratic-diag-16": Quadratic(np.linspace(1.0, 8.0, 16), b=np.linspace(-1, 1, 16)),
        "quadratic-diag-17": Quadratic(np.linspace(1.0, 8.0, 17)),
        "rosenbrock-2": Rosenbrock(2), "rosenbrock-3": Rosenbrock(3), "rosenbrock-4": Rosenbrock(4),
        "rosenbrock-16": Rosenbrock(16), "rosenbrock-33": Rosenbrock(33),
        "himmelblau": Himmelblau(), "beale": Beale(),
        # exp enters: one machine's numpy exp for a particle alone and for a column of particles (one formula,
        # one kernel), so here too a particle's bits cannot depend on its ensemble
        "muller-brown": MullerBrown(),
        "lennard-jones-3": LennardJones(3), "lennard-jones-7": LennardJones(7),
        "least-squares": LeastSquares(X, y, l2=0.1),
        "formula": no.Potential.from_expression("(x0 - 1)**2 + x1**2*x2**2/4 + sqrt(1 + x0**2) + x1/(2 + x2**2)"),
    }


POTENTIALS = _potentials()


def _starts(V, n):
    if isinstance(V, LennardJones):
        base = V.initial_positions(seed=1)
    else:
        base = np.linspace(0.3, 1.1, V.dim)
    return base + np.random.default_rng(V.dim).uniform(-0.1, 0.1, (n, V.dim))


def _method(name, seed):
    make = golden.METHODS[name]
    return make(seed=seed) if name in STOCHASTIC else make()


@pytest.mark.parametrize("potential", sorted(POTENTIALS))
@pytest.mark.parametrize("method", sorted(golden.METHODS))
def test_one_particle_alone_equals_its_place_in_an_ensemble(method, potential):
    V = POTENTIALS[potential]
    X0 = _starts(V, 5)
    seeds = np.array([3, 1, 4, 1, 5])
    ensemble = no.simulate(V, _method(method, seeds), X0, n_steps=40, record="all")
    of_one = no.simulate(V, _method(method, seeds[2:3]), X0[2:3], n_steps=40, record="all")  # shape (1, dim)
    for i in (0, 2):
        alone = no.simulate(V, _method(method, int(seeds[i])), X0[i], n_steps=40, record="all")
        for name in RECORDED:
            a, e = getattr(alone, name), getattr(ensemble, name)
            if a is None:
                assert e is None
                continue
            np.testing.assert_array_equal(a, e[:, i], err_msg=f"{name} of particle {i}")
            if i == 2:  # and as an ensemble of one (its small-particle sums take a path of their own)
                np.testing.assert_array_equal(a, getattr(of_one, name)[:, 0], err_msg=f"{name}, ensemble of one")


@pytest.mark.parametrize("method", ["HeavyBall", "Langevin", "FIRE"])
def test_any_chunking_of_an_ensemble_gives_the_same_bits(method):
    V = POTENTIALS["rosenbrock-4"]
    X0 = _starts(V, 12)
    seeds = np.arange(12)
    whole = no.simulate(V, _method(method, seeds), X0, n_steps=60, record="all")
    for cut in (1, 5):
        parts = [no.simulate(V, _method(method, seeds[s]), X0[s], n_steps=60, record="all")
                 for s in (slice(0, cut), slice(cut, 12))]
        for name in RECORDED:
            if getattr(whole, name) is not None:
                joined = np.concatenate([getattr(p, name) for p in parts], axis=1)
                np.testing.assert_array_equal(getattr(whole, name), joined, err_msg=name)


# ---------------------------------------------------------------------------------------------- the parts
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 16, 17, 100, 1023])
def test_the_fold_is_one_order_for_any_layout(n):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((6, n))
    B = rng.standard_normal((6, n))
    rows = [rowdot(A[i], B[i]) for i in range(6)]
    assert rows == rowdot(A, B).tolist() == rowdot(np.asfortranarray(A), np.asfortranarray(B)).tolist()
    assert rows == rowdot(A[::-1], B[::-1]).tolist()[::-1]
    # the order written in core.reductions, spelled out for four terms: (s0 + s2) + (s1 + s3)
    if n == 4:
        s = A[0] * B[0]
        assert rows[0] == (s[0] + s[2]) + (s[1] + s[3])
    # within the pairwise bound of the exactly rounded sum (math.fsum)
    import math
    exact = [math.fsum(A[i] * B[i]) for i in range(6)]
    bound = np.ceil(np.log2(max(n, 2))) * np.finfo(float).eps * np.abs(A * B).sum(axis=1)
    assert np.all(np.abs(np.array(rows) - exact) <= bound + 1e-300)


def _documented_order(s: np.ndarray) -> float:
    """core.reductions' order for a long sum, written as its docstring says: the halving fold of each block
    of BLOCK consecutive terms, level by level, then the halving fold of the block sums."""
    from newtonopt.core.reductions import BLOCK

    def halve(t):
        t = list(t)
        while len(t) > 1:
            h = len(t) // 2
            t = [t[i] + t[i + h] for i in range(h)] + ([t[2 * h]] if len(t) % 2 else [])
        return t[0]

    return halve([halve(s[lo:lo + BLOCK]) for lo in range(0, len(s), BLOCK)])


@pytest.mark.parametrize("blocks", [2.5, 3])
def test_long_sums_keep_the_documented_order(blocks):
    """Beyond one block the numpy fold halves whole blocks together after a point (fewer numpy calls) and
    the compiled fold indexes halves as views: both must still be the documented order, bit for bit."""
    from newtonopt.core.reductions import BLOCK

    n = int(blocks * BLOCK) + (3 if blocks != 3 else 0)
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((2, n)), rng.standard_normal((2, n))
    expected = [_documented_order(a[i] * b[i]) for i in range(2)]
    assert rowdot(a[0], b[0]) == expected[0]
    assert rowdot(a, b).tolist() == expected
    assert fold((a * b).copy()).tolist() == expected
    assert fold(np.asfortranarray(a * b)).tolist() == expected
    if importlib.util.find_spec("numba") is not None:
        from newtonopt.backends import numba_loops

        assert numba_loops.fold(a[0] * b[0], n) == expected[0]


def test_fold_of_an_empty_axis_is_zero():
    assert fold(np.empty((3, 0))).tolist() == [0.0, 0.0, 0.0]


def test_the_noise_functions_are_accurate_against_the_correctly_rounded_libm():
    """ln u, sin 2πu and cos 2πu of the package within a few ulp of Python's math module."""
    import math

    rng = np.random.default_rng(2)
    u = (rng.integers(0, 2**53, 20_000, dtype=np.uint64) + np.uint64(1)).astype(np.float64) * 2.0**-53
    u = np.concatenate([u, [2.0**-53, 0.125, 0.25, 0.5, 0.75, 1.0 - 2.0**-53, 1.0]])
    n = u.size
    out, m, t, w = (np.empty(n) for _ in range(4))
    log_into(u, out, m, t, w, np.empty(n, np.int32), np.empty(n, bool))
    ref = np.array([math.log(v) for v in u])
    ulps = np.abs(out - ref) / np.spacing(np.maximum(np.abs(ref), 1e-300))
    assert ulps.max() <= 4
    s, c, q, x, x2 = (np.empty(n) for _ in range(5))
    sincos_turns_into(u, s, c, q, x, x2, np.empty(n, bool), np.empty(n, bool))
    ref_s = np.array([math.sin(2 * math.pi * v) for v in u])
    ref_c = np.array([math.cos(2 * math.pi * v) for v in u])
    # 2π·u is itself rounded (and so is math's argument): compare in absolute terms, a few ulp of 1
    assert np.abs(s - ref_s).max() < 4e-15 and np.abs(c - ref_c).max() < 4e-15
    # the quarter turns are exact: u = ¼, ½, ¾, 1
    assert (s[-5], c[-5], s[-4], c[-4], s[-3], c[-3], s[-1], c[-1]) == (1.0, 0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize("potential", sorted(name for name, V in POTENTIALS.items() if V.particlewise))
def test_a_large_ensemble_evaluated_in_chunks_has_the_same_bits(potential):
    # The run loop's evaluation takes a particlewise potential's large ensemble CHUNK_PARTICLES at a time
    # (newtonopt.potential.CHUNK_PARTICLES); the chunks must change nothing against one whole evaluation.
    from newtonopt.potential import CHUNK_PARTICLES

    V = POTENTIALS[potential]
    X = np.asfortranarray(_starts(V, 2 * CHUNK_PARTICLES + 3))
    chunked, whole = np.empty_like(X), np.empty_like(X)
    values = np.array(V.evaluate_into(X, chunked))
    np.testing.assert_array_equal(values, V._value_and_gradient(X, whole))
    np.testing.assert_array_equal(chunked, whole)


def test_only_stateless_particlewise_potentials_are_chunked():
    # A minibatch loss draws a batch per call, a Python function may do anything: neither may be cut up.
    assert no.potentials.MullerBrown.particlewise and no.potentials.Quadratic.particlewise
    assert not no.Potential.particlewise
    assert not no.Potential.from_function(lambda x: (x ** 2).sum(-1), dim=2).particlewise
