"""Data for the data-driven potentials: Fisher's Iris (shipped) and seeded synthetic generators."""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np

from ._validation import as_int, nonnegative


def load_iris():
    """Fisher's Iris data (150 × 4, three classes), read from the copy shipped with the package.

    Returns ``(X, y, feature_names, target_names)``; ``y`` holds the class indices 0, 1, 2.
    Source and licence (CC BY 4.0, UCI Machine Learning Repository; Fisher 1936) are in
    ``newtonopt/data/README.md``.
    """
    text = resources.files("newtonopt").joinpath("data/iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    data = np.array(body, dtype=np.float64)
    X, y = data[:, :4], data[:, 4].astype(np.int64)
    feature_names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    return X, y, feature_names, header[2:]


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def make_regression(n: int = 200, dim: int = 3, noise: float = 0.1, seed=None):
    """Linear data y = Xθ + noise·ξ with X, θ standard normal. Returns ``(X, y, theta)``."""
    n, dim = as_int("n", n, low=1), as_int("dim", dim, low=1)
    noise = nonnegative("noise", noise)
    rng = _rng(seed)
    X = rng.standard_normal((n, dim))
    theta = rng.standard_normal(dim)
    return X, X @ theta + noise * rng.standard_normal(n), theta


def make_blobs(n: int = 200, dim: int = 2, separation: float = 2.0, seed=None):
    """Two Gaussian blobs with unit covariance whose centres are ``separation`` apart; labels 0/1."""
    n, dim = as_int("n", n, low=2), as_int("dim", dim, low=1)
    rng = _rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    centre = np.zeros(dim)
    centre[0] = separation / 2
    X = rng.standard_normal((n, dim)) + np.where(y[:, None] == 1, centre, -centre)
    return X, y


def make_moons(n: int = 200, noise: float = 0.1, seed=None):
    """Two interleaving half circles (a classic test of non-linear classifiers); labels 0/1."""
    n = as_int("n", n, low=2)
    noise = nonnegative("noise", noise)
    rng = _rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    return X + noise * rng.standard_normal((n, 2)), y


def train_test_split(X, y, test_fraction: float = 0.25, seed=None):
    """A random split: ``(X_train, X_test, y_train, y_test)``."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    order = _rng(seed).permutation(len(X))
    n_test = max(1, int(round(test_fraction * len(X))))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def standardize(X_train, *others):
    """Scale features to zero mean and unit variance using the training set's statistics."""
    X_train = np.asarray(X_train, dtype=np.float64)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = [(X_train - mean) / std] + [(np.asarray(o, dtype=np.float64) - mean) / std for o in others]
    return scaled[0] if not others else tuple(scaled)


def add_intercept(X):
    """X with a column of ones appended, so that a linear model's last weight is its intercept."""
    X = np.asarray(X, dtype=np.float64)
    return np.column_stack([X, np.ones(len(X))])
