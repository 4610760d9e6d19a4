"""Data for the data-driven potentials: Fisher's Iris (shipped) and seeded synthetic generators.

Every generator takes a ``seed`` (an int, a numpy Generator or None); the same seed gives bitwise
the same data. Nothing here uses the network: the Iris table is read from the package itself.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np

from ._validation import _describe, as_int, as_parameter, nonnegative
from .potentials.data import _as_generator

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def load_iris():
    """Fisher's Iris data (150 × 4, three classes of 50), read from the copy shipped with the package.

    Returns ``(X, y, feature_names, target_names)``: X of shape (150, 4) in centimetres (sepal
    length, sepal width, petal length, petal width), y the class indices 0, 1, 2 (setosa,
    versicolor, virginica). Setosa is linearly separable from the other two; versicolor and
    virginica overlap slightly.

    Source: the file ``sklearn/datasets/data/iris.csv`` of scikit-learn 1.9.1 (BSD-3-Clause
    package), which follows Fisher's paper — the UCI file differs at two points (samples 35 and
    38). Licence of the data: UCI Machine Learning Repository, CC BY 4.0
    (https://doi.org/10.24432/C56C76). Details in ``newtonopt/data/README.md``.

    References
    ----------
    Fisher, R. A. (1936). The use of multiple measurements in taxonomic problems. Annals of
    Eugenics 7(2), 179-188.
    """
    text = resources.files("newtonopt").joinpath("data").joinpath("iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    n_samples, n_features = int(header[0]), int(header[1])
    data = np.array(body, dtype=np.float64)
    if data.shape != (n_samples, n_features + 1):  # pragma: no cover - a damaged installation
        raise RuntimeError(f"iris.csv holds a table of shape {data.shape}; its header announces {header[:2]}")
    return data[:, :n_features], data[:, n_features].astype(np.int64), list(IRIS_FEATURES), header[2:]


def make_regression(n: int = 200, dim: int = 3, noise: float = 0.1, seed=None):
    """Linear data y = X·θ + noise·ξ with X, θ and ξ standard normal. Returns ``(X, y, theta)``.

    For :class:`~newtonopt.potentials.LeastSquares`: as n grows its minimizer tends to ``theta``,
    with a standard error ≈ noise/√n per coordinate.
    """
    n, dim = as_int("n", n, low=1), as_int("dim", dim, low=1)
    noise = nonnegative("noise", noise)
    rng = _as_generator(seed)
    X = rng.standard_normal((n, dim))
    theta = rng.standard_normal(dim)
    return X, X @ theta + noise * rng.standard_normal(n), theta


def make_blobs(n: int = 200, dim: int = 2, separation: float = 2.0, seed=None):
    """Two Gaussian blobs (a binary classification): ``(X, y)`` with labels 0/1 alternating.

    Class k has unit covariance and centre ±(separation/2)·e₁ (− for 0, + for 1), so the Bayes
    classifier is the plane x₁ = 0 and its error rate is Φ(−separation/2) (Φ the normal CDF).
    """
    n, dim = as_int("n", n, low=2), as_int("dim", dim, low=1)
    separation = nonnegative("separation", separation)
    rng = _as_generator(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    centre = np.zeros(dim)
    centre[0] = separation / 2
    X = rng.standard_normal((n, dim)) + np.where(y[:, None] == 1, centre, -centre)
    return X, y


def make_moons(n: int = 200, noise: float = 0.1, seed=None):
    """Two interleaving half circles, labels 0/1: ``(X, y)``, a classic test of non-linear classifiers.

    Class 0 lies on (cos t, sin t), class 1 on (1 − cos t, ½ − sin t), t ~ U(0, π), plus Gaussian
    noise of standard deviation ``noise``; no straight line separates them (an MLP can).
    """
    n = as_int("n", n, low=2)
    noise = nonnegative("noise", noise)
    rng = _as_generator(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    t = rng.uniform(0, np.pi, n)
    X = np.where(y[:, None] == 0, np.column_stack([np.cos(t), np.sin(t)]),
                 np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    return X + noise * rng.standard_normal((n, 2)), y


def train_test_split(X, y, test_fraction: float = 0.25, seed=None):
    """A random split: ``(X_train, X_test, y_train, y_test)``.

    The test set has round(test_fraction·n) samples (at least one, and at least one is left for
    training), drawn by a seeded permutation.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, got shapes {X.shape} and {y.shape}")
    if len(X) < 2:
        raise ValueError(f"X must have at least 2 samples to split, got {len(X)}")
    test_fraction = as_parameter("test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    if not isinstance(test_fraction, float):
        raise TypeError(f"test_fraction must be a number, got {_describe(test_fraction)}")
    order = _as_generator(seed).permutation(len(X))
    n_test = min(max(1, round(test_fraction * len(X))), len(X) - 1)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def standardize(X_train, *others):
    """Scale features to zero mean and unit variance with the training set's statistics.

    Returns the scaled ``X_train`` alone, or a tuple with every array of ``others`` scaled by the
    same mean and standard deviation (no information from a test set leaks into training). A
    constant feature is only centred.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim != 2:
        raise ValueError(f"X_train must be a 2-D array (samples × features), got shape {X_train.shape}")
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scaled = [(X_train - mean) / std] + [(np.asarray(o, dtype=np.float64) - mean) / std for o in others]
    return scaled[0] if not others else tuple(scaled)


def add_intercept(X):
    """X with a column of ones appended, so that a linear model's last weight is its intercept."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array (samples × features), got shape {X.shape}")
    return np.column_stack([X, np.ones(len(X))])
