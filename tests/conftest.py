import multiprocessing

import numpy as np
import pytest

from newtonopt.potentials import Quadratic

# JAX and torch start threads when imported, and forking a process that has threads can deadlock
# (Python warns so). The few tests with process pools (sweep, docs/scale.md) therefore spawn theirs.
multiprocessing.set_start_method("spawn", force=True)


@pytest.fixture
def seed_1d():
    """The seeds' one-dimensional example V(x) = 6x² − 12x + 3 (minimum V(1) = −3)."""
    return Quadratic([12.0], [-12.0], 3.0)


@pytest.fixture
def seed_2d():
    """The seeds' two-dimensional example V = 6x² + 9y² − 12x − 14y + 3 (minimum at (1, 7/9))."""
    return Quadratic([12.0, 18.0], [-12.0, -14.0], 3.0)


def random_spd(rng, dim, lam_min=0.1, lam_max=10.0):
    """A random symmetric positive definite matrix with eigenvalues in [lam_min, lam_max]."""
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    lam = rng.uniform(lam_min, lam_max, size=dim)
    lam[0], lam[-1] = lam_min, lam_max
    A = (q * lam) @ q.T
    return 0.5 * (A + A.T), lam
