"""The compiled thermostat noise (newtonopt.backends.numba_noise) against the numpy reference.

The reference is :class:`newtonopt.noise.CounterNormal` (and the ln and sin/cos of
:mod:`newtonopt.core.elementary` it uses): the numba kernels do the same uint64 and IEEE operations in
the same order, so every number must be equal bit for bit (compared as uint64 bit patterns, so that
−0.0 ≠ +0.0 and a NaN would be caught), for any key, step (up to 2⁶⁴ − 1) and dimension.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import newtonopt as no
from newtonopt.core.elementary import exp, log_into, sincos_turns_into
from newtonopt.noise import CounterNormal, seed_keys
from newtonopt.potentials import Quadratic

numba = pytest.importorskip("numba")

from newtonopt.backends import numba_noise as nn  # noqa: E402

DIMS = (1, 2, 3, 4, 17)
STEPS = (0, 1, 2, 1000, 2**40, 2**64 - 1)
SEEDS = (0, 1, 20260101, 2**64 - 1)


@numba.njit(cache=False, error_model="numpy", _nrt=False)
def _fill_all(keys, step, out):
    """As a compiled loop would call it: a loop over the particles (keys in the columns' order)."""
    for i in range(keys.shape[0]):
        nn.fill_column(keys[i], step, out, i)


@numba.njit(cache=False, error_model="numpy", _nrt=False)
def _normal_all(keys, step, out):
    dim = out.shape[0]
    for i in range(keys.shape[0]):
        for d in range(dim):
            out[d, i] = nn.normal(keys[i], step, d, dim)


@numba.njit(cache=False, error_model="numpy", _nrt=False)
def _log_all(u, out):
    for i in range(u.shape[0]):
        out[i] = nn.log(u[i])


@numba.njit(cache=False, error_model="numpy", _nrt=False)
def _sincos_all(u, s, c):
    for i in range(u.shape[0]):
        s[i], c[i] = nn.sincos_turns(u[i])


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def _reference(keys: np.ndarray, dim: int, step: int) -> np.ndarray:
    out = np.empty(keys.shape + (dim,))
    return CounterNormal(keys, dim).fill(step, out)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dim", DIMS)
def test_normals_equal_counter_normal_bitwise(seed, dim):
    """An ensemble of shape (4, 3): every particle's normals, for steps from 0 to 2⁶⁴ − 1."""
    keys = seed_keys(seed, (4, 3))
    flat = keys.reshape(-1, order="F")  # the compiled loops' particle order (Fortran)
    for step in STEPS:
        ref = _reference(keys, dim, step).reshape(-1, dim, order="F").T  # (dim, n), columns in `flat`'s order
        got = np.empty((dim, flat.size))
        _fill_all(flat, np.uint64(step), got)
        np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=f"fill_column, step {step}")
        got[...] = np.nan
        _normal_all(flat, np.uint64(step), got)
        np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=f"normal, step {step}")
        one = np.empty(dim)
        nn.fill_particle(flat[5], np.uint64(step), one)
        np.testing.assert_array_equal(_bits(one), _bits(ref[:, 5]), err_msg=f"fill_particle, step {step}")


def test_step_as_int64_and_key_as_python_int():
    """A loop's step counter is an int64: steps below 2⁶³ give the same numbers as a uint64 step, and a
    negative int64 wraps mod 2⁶⁴ as ``fill``'s ``step % 2**64`` does. A key passed as a Python int too."""
    keys = seed_keys(3, (6,))
    for dim in (1, 4, 5):
        for step in (0, 7, 2**62 + 3):
            ref = _reference(keys, dim, step).T
            got = np.empty((dim, keys.size))
            _fill_all(keys, np.int64(step), got)
            np.testing.assert_array_equal(_bits(got), _bits(ref))
        ref = _reference(keys, dim, 2**64 - 5).T  # = step −5 mod 2⁶⁴
        _fill_all(keys, np.int64(-5), got)
        np.testing.assert_array_equal(_bits(got), _bits(ref))
        assert _bits(nn.normal(int(keys[2]), 11, dim - 1, dim)) == _bits(_reference(keys, dim, 11)[2, dim - 1])


def test_seed_array_keys():
    """Keys from an array of seeds (each particle as a single run with its own seed)."""
    seeds = np.array([[5, 0], [2**40, 17]])
    keys = seed_keys(seeds, (2, 2))
    flat = keys.reshape(-1, order="F")
    for dim in DIMS:
        ref = _reference(keys, dim, 12345).reshape(-1, dim, order="F").T
        got = np.empty((dim, flat.size))
        _fill_all(flat, np.uint64(12345), got)
        np.testing.assert_array_equal(_bits(got), _bits(ref))


@pytest.mark.parametrize("d, dim", [(3, 3), (-1, 3), (0, 0)])
def test_normal_rejects_a_coordinate_out_of_range(d, dim):
    with pytest.raises(ValueError, match="0 <= d < dim"):
        nn.normal(np.uint64(1), np.uint64(0), d, dim)

    @numba.njit(cache=False, error_model="numpy", _nrt=False)
    def inside(d, dim):  # raised from inside a compiled caller too
        return nn.normal(np.uint64(1), np.uint64(0), d, dim)

    with pytest.raises(ValueError, match="0 <= d < dim"):
        inside(d, dim)


def _uniform_edges() -> np.ndarray:
    """u ∈ (0, 1] at the kernels' edges: 2⁻⁵³ and 1, powers of two (frexp's exponent steps) and √½·2⁻ᵏ
    (ln's mantissa fold) with their neighbours, and k/8 (sin/cos's rint ties and quadrant boundaries) ± a
    few ulp, also on the 2⁻⁵³ grid the counter uses."""
    edges = [2.0**-53, 1.0, 1.0 - 2.0**-53, 1.0 - 2.0**-52]
    for k in range(0, 54):
        for centre in (2.0**-k, math.sqrt(0.5) * 2.0**-k):
            v = centre
            for _ in range(3):
                edges.append(v)
                v = np.nextafter(v, 0.0)
            v = centre
            for _ in range(3):
                v = np.nextafter(v, 2.0)
                edges.append(v)
    for k in range(1, 9):
        for delta in range(-3, 4):
            edges.append(k / 8 + delta * 2.0**-53)
            edges.append(float(np.nextafter(k / 8, 0.0)) if delta < 0 else float(np.nextafter(k / 8, 2.0)))
    u = np.array(edges, dtype=np.float64)
    return u[(u > 0.0) & (u <= 1.0)]


def test_log_and_sincos_kernels_bitwise():
    """10⁵ uniforms from the counter's grid (multiples of 2⁻⁵³ in (0, 1]) plus the edges."""
    rng = np.random.default_rng(20261129)
    grid = ((rng.integers(0, 2**53, size=100_000, dtype=np.uint64) + np.uint64(1)) * 2.0**-53)
    u = np.concatenate([grid, _uniform_edges()])
    n = u.size
    m, t, w = (np.empty(n) for _ in range(3))
    ref = log_into(u, np.empty(n), m, t, w, np.empty(n, dtype=np.int32), np.empty(n, dtype=bool))
    got = np.empty(n)
    _log_all(u, got)
    np.testing.assert_array_equal(_bits(got), _bits(ref))
    assert got[u == 1.0][0] == 0.0 and got[u == 2.0**-53][0] == pytest.approx(-53 * math.log(2.0), rel=1e-15)

    u0 = np.concatenate([[0.0], u])  # sin/cos take [0, 1]
    n0 = u0.size
    s_ref, c_ref = np.empty(n0), np.empty(n0)
    sincos_turns_into(u0, s_ref, c_ref, *(np.empty(n0) for _ in range(3)), np.empty(n0, bool), np.empty(n0, bool))
    s, c = np.empty(n0), np.empty(n0)
    _sincos_all(u0, s, c)
    np.testing.assert_array_equal(_bits(s), _bits(s_ref))
    np.testing.assert_array_equal(_bits(c), _bits(c_ref))
    # The signed zeros at the quarter turns are part of the bits: sin π = −0.0 here (quadrant 2 negates +0).
    assert _bits(s[u0 == 0.5][0]) == _bits(-0.0)


def test_normal_moments_sanity():
    """A sanity check, not a test of the generator: over 10⁵ draws (an ensemble at one step, and one
    particle over many steps) the mean is within 5 standard errors (1/√N) of 0 and the variance within 5
    standard errors (√(2/N) for a normal sample) of 1."""
    n = 100_000
    keys = seed_keys(99, (n // 2,))
    across = np.empty((2, keys.size))
    _fill_all(keys, np.uint64(3), across)

    @numba.njit(cache=False, error_model="numpy", _nrt=False)
    def over_steps(key, out):
        for k in range(out.shape[0]):
            out[k] = nn.normal(key, np.uint64(k), 0, 1)

    along = np.empty(n)
    over_steps(keys[0], along)
    for draws in (across.ravel(), along):
        assert abs(draws.mean()) < 5.0 / math.sqrt(draws.size)
        assert abs(draws.var() - 1.0) < 5.0 * math.sqrt(2.0 / draws.size)


_DIGEST = """
import hashlib, numpy as np
from newtonopt.noise import CounterNormal, seed_keys
h = hashlib.sha256()
for dim in (1, 2, 3, 4, 17):
    keys = seed_keys(20260101, (64,))
    out = np.empty((64, dim))
    for step in (0, 1, 1000, 2**64 - 1):
        h.update(CounterNormal(keys, dim).fill(step, out).tobytes())
print(h.hexdigest())
"""


def test_reference_is_the_same_with_baseline_cpu_kernels():
    """numpy's reference itself does not depend on the SIMD kernels numpy picks: the same digest with
    AVX2/AVX-512 dispatch switched off (``NPY_DISABLE_CPU_FEATURES``) and OpenBLAS at its baseline core."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout's newtonopt
    here = subprocess.run([sys.executable, "-c", _DIGEST], capture_output=True, text=True, env=env, check=True)
    env.update(OPENBLAS_CORETYPE="Prescott", NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR")
    base = subprocess.run([sys.executable, "-c", _DIGEST], capture_output=True, text=True, env=env, check=True)
    assert here.stdout.strip() and base.stdout.strip() == here.stdout.strip()


def test_langevin_runs_draw_step_k_in_the_update_from_k_steps():
    """The convention a compiled loop must follow, read off the numpy runs: the update that takes a run
    from k to k + 1 steps draws ``step = k`` (the first draws 0), one ``fill_column`` per particle with
    the keys ``seed_keys(seed, particle_shape)``. Each step is replayed here with the methods' own formulas
    (OverdampedLangevin: x += √(2·lr·T)·ξ − lr·∇V; Langevin: BAOAB) and must give the recorded x bitwise."""
    a = np.array([1.0, 3.0, 0.5])  # V = ½·Σ aᵢxᵢ², ∇V = a·x
    x0 = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]])
    keys = seed_keys(42, (2,))
    xi = np.empty((3, 2))
    dt, temperature, n = 0.1, 0.7, 6

    recorded = np.asarray(no.simulate(Quadratic(a), no.OverdampedLangevin(dt, 1.0, temperature, seed=42), x0, n).x)
    scale, x = math.sqrt(2.0 * dt * temperature), x0.copy()
    for k in range(n):
        _fill_all(keys, np.int64(k), xi)
        x = x + (scale * xi.T - dt * (a * x))
        np.testing.assert_array_equal(x, recorded[k + 1], err_msg=f"OverdampedLangevin, step {k + 1}")

    recorded = np.asarray(no.simulate(Quadratic(a), no.Langevin(dt, 1.0, 1.0, temperature, seed=42), x0, n).x)
    c = float(exp(-1.0 * dt / 1.0))
    sigma = math.sqrt((1.0 - c * c) * 1.0 * temperature)
    x, p = x0.copy(), np.zeros_like(x0)
    for k in range(n):
        p = p - 0.5 * dt * (a * x)
        x = x + 0.5 * dt / 1.0 * p
        _fill_all(keys, np.int64(k), xi)
        p = p * c
        p = p + sigma * xi.T
        x = x + 0.5 * dt / 1.0 * p
        p = p - 0.5 * dt * (a * x)
        np.testing.assert_array_equal(x, recorded[k + 1], err_msg=f"Langevin, step {k + 1}")
