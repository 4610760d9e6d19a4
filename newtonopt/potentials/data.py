"""Data losses: V(θ) = mean over samples of a per-sample loss, and minibatches of it.

The full-data loss is a deterministic landscape; a minibatch view replaces its gradient at
every step by that of a random subset of the data. The difference is a random force — SGD's
temperature (Mandt, Hoffman & Blei 2017). Evaluation counts of data losses are in samples:
a full gradient of one particle costs n, a minibatch gradient costs its batch size, so methods
with different batch sizes compare fairly per epoch.
"""

from __future__ import annotations

import numpy as np

from .._validation import _describe, as_int, nonnegative
from ..potential import Potential


def _check_data(X, y, *, y_kind: str = "real"):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (samples × features), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"X must hold numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X and y must have the same number of samples, got len(X) = {len(X)} and "
                         f"len(y) = {len(y)}")
    if not np.all(np.isfinite(X)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"X must be finite, got {_describe(X[bad])} at index {bad}")
    if y_kind == "binary":
        if not np.all(np.isin(y, (0, 1))):
            raise ValueError(f"y must hold the labels 0 and 1, got {_describe(np.unique(y))}")
        y = y.astype(np.float64)
    elif y_kind == "class":
        if not np.issubdtype(y.dtype, np.integer) or np.any(y < 0):
            raise ValueError(f"y must hold non-negative integer class labels, got {_describe(y[:5])}")
    else:
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"y must be finite, got {_describe(y[~np.isfinite(y)][:3])}")
    return X, y


class EmpiricalRisk(Potential):
    """Base class: V(θ) = (1/n)·Σᵢ ℓ(θ; xᵢ, yᵢ) + ½·l2·|θ|².

    Subclasses implement ``_batch_loss(theta, idx)`` returning the mean loss and its gradient
    over the samples ``idx`` (None: all), batched over the leading axes of ``theta``; ``idx`` may
    be one index array shared by all particles or one row of indices per particle.
    """

    def __init__(self, X, y, dim: int, *, l2: float = 0.0, name: str, minima=(), y_kind: str = "real"):
        self.X, self.y = _check_data(X, y, y_kind=y_kind)
        self.n = len(self.X)
        self.l2 = nonnegative("l2", l2)
        self.cost = self.n
        super().__init__(dim, name=name, minima=minima)

    # -- to implement
    def _batch_loss(self, theta, idx):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- Potential protocol
    def _loss(self, theta, idx):
        value, grad = self._batch_loss(theta, idx)
        if self.l2:
            value = value + 0.5 * self.l2 * np.sum(theta * theta, axis=-1)
            grad = grad + self.l2 * theta
        return value, grad

    def _value_and_gradient(self, x, out):
        value, grad = self._loss(x, None)
        out[...] = grad
        return value

    def _value(self, x):
        return self._loss(x, None)[0]

    def full_value(self, x):
        """The loss over the whole data set (uncounted): the landscape a minibatch run samples."""
        return self._value(self._prepare(x))

    def per_sample_gradients(self, theta) -> np.ndarray:
        """∇ℓ(θ; xᵢ, yᵢ) for every sample i, shape (n, dim) (without the l2 term): the raw material of
        SGD's noise."""
        theta = np.asarray(theta, dtype=np.float64)
        rows = np.arange(self.n)[:, None]
        _, grads = self._batch_loss(np.broadcast_to(theta, (self.n, self.dim)), rows)
        return grads

    def minibatch(self, batch_size: int, seed=None, *, replace: bool = False) -> MinibatchView:
        """A stochastic view whose gradient at each step is that of a fresh minibatch (see :class:`MinibatchView`)."""
        return MinibatchView(self, batch_size, seed, replace=replace)


class MinibatchView(Potential):
    """The loss of ``parent`` seen through random minibatches of ``batch_size`` samples.

    Each gradient evaluation draws the next batch of a random permutation of the data, so within
    an epoch every sample is used once (without replacement); the ``n mod batch_size`` samples left
    at the end of an epoch are skipped, and a fresh permutation starts the next epoch. Each particle
    of an ensemble is an independent replica with its own stream of batches (its own thermal noise).
    ``batch_size = n`` is batch gradient descent (the full data in order, bitwise the full gradient);
    ``batch_size = 1`` is SGD.

    With ``replace=True`` every batch is drawn independently (samples with replacement): the i.i.d.
    noise that continuous-time analyses of SGD assume.

    The value returned with each gradient is the minibatch loss — what the optimizer sees, and what
    the run's ledger records; :meth:`full_value` gives the full-data loss. ``value(x)`` alone is
    also the full-data loss. Counts are in samples (``batch_size`` per particle per evaluation).
    """

    def __init__(self, parent: EmpiricalRisk, batch_size: int, seed=None, *, replace: bool = False):
        if not isinstance(parent, EmpiricalRisk):
            raise TypeError(f"parent must be a data loss (EmpiricalRisk), got {_describe(parent)}")
        batch_size = as_int("batch_size", batch_size, low=1)
        if batch_size > parent.n:
            raise ValueError(f"batch_size must be at most the number of samples {parent.n}, got {batch_size}")
        self.parent, self.batch_size, self.replace = parent, batch_size, bool(replace)
        self.cost = batch_size
        if isinstance(seed, np.random.Generator):
            self.rng = seed
        else:
            if isinstance(seed, (float, str, bool)):
                raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
            self.rng = np.random.default_rng(seed)
        self.batches_per_epoch = parent.n // batch_size
        self._order = None  # permutations of the current epoch, shape particles + (n,)
        self._position = self.batches_per_epoch  # forces a new permutation at the first draw
        self.samples_seen = 0
        super().__init__(parent.dim, name=f"{parent.name} (batch {batch_size})", minima=parent.minima,
                         minimum_value=parent.minimum_value)

    @property
    def epochs(self) -> float:
        """Data passes so far (samples seen per particle / n)."""
        return self.samples_seen / self.parent.n

    def _next_batch(self, shape: tuple):
        n, S = self.parent.n, self.batch_size
        if S == n and not self.replace:
            self.samples_seen += n
            return None
        if self.replace:
            self.samples_seen += S
            return self.rng.integers(0, n, size=shape + (S,))
        if self._order is None or self._order.shape[:-1] != shape or self._position >= self.batches_per_epoch:
            # Independent permutations per particle, vectorized: argsort of uniform keys.
            self._order = np.argsort(self.rng.random(shape + (n,)), axis=-1, kind="stable")
            self._position = 0
        lo = self._position * S
        self._position += 1
        self.samples_seen += S
        return self._order[..., lo:lo + S]

    def _value_and_gradient(self, x, out):
        idx = self._next_batch(x.shape[:-1])
        value, grad = self.parent._loss(x, idx)
        out[...] = grad
        return value

    def _value(self, x):
        return self.parent._value(x)

    def full_value(self, x):
        return self.parent.full_value(x)

    def curvature_bounds(self, x=None):
        return self.parent.curvature_bounds(x)

    def _hessian(self, x):
        return self.parent._hessian(x)

    def get_state(self) -> dict:
        """The random state and the position in the epoch, JSON-serializable, for a bitwise resume."""
        return {"rng": self.rng.bit_generator.state, "position": self._position,
                "order": None if self._order is None else self._order.tolist(), "samples_seen": self.samples_seen}

    def set_state(self, state: dict) -> None:
        """Restore what :meth:`get_state` returned."""
        self.rng.bit_generator.state = state["rng"]
        self._position = int(state["position"])
        self._order = None if state["order"] is None else np.asarray(state["order"], dtype=np.int64)
        self.samples_seen = int(state["samples_seen"])


def _gather(M, idx):
    """Rows of M for a shared index vector (shape (S,)) or per-particle index rows (shape (..., S))."""
    return M if idx is None else M[idx]


class LeastSquares(EmpiricalRisk):
    r"""Linear regression: V(θ) = (1/2n)·|Xθ − y|² + ½·l2·|θ|².

    ∇V = Xᵀ(Xθ − y)/n + l2·θ, ∇²V = XᵀX/n + l2·I (constant), and the exact minimizer solves
    (XᵀX/n + l2·I)·θ* = Xᵀy/n; it is in ``minima`` and the Hessian's extreme eigenvalues in
    ``curvature_bounds()``. Add a column of ones to X for an intercept (``datasets.add_intercept``).

    References
    ----------
    Legendre, A.-M. (1805). Nouvelles méthodes pour la détermination des orbites des comètes.
    Gauss, C. F. (1809). Theoria motus corporum coelestium.
    """

    def __init__(self, X, y, l2: float = 0.0, *, name: str = "least squares"):
        X_, y_ = _check_data(X, y)
        n, d = X_.shape
        l2 = nonnegative("l2", l2)
        H = X_.T @ X_ / n + l2 * np.eye(d)
        self._lam = np.linalg.eigvalsh(H)
        minima = ()
        if self._lam[0] > 1e-12 * max(1.0, self._lam[-1]):
            theta = np.linalg.solve(H, X_.T @ y_ / n)
            r = X_ @ theta - y_
            minima = [(theta, 0.5 * float(r @ r) / n + 0.5 * l2 * float(theta @ theta))]
        self._H = H
        super().__init__(X_, y_, d, l2=l2, name=name, minima=minima)

    def curvature_bounds(self, x=None):
        return float(self._lam[0]), float(self._lam[-1])

    def _batch_loss(self, theta, idx):
        Xb, yb = _gather(self.X, idx), _gather(self.y, idx)
        if Xb.ndim == 2:  # shared rows: one matrix product for all particles
            r = theta @ Xb.T - yb
            grad = r @ Xb / len(yb)
        else:  # per-particle rows
            r = np.einsum("...sd,...d->...s", Xb, theta) - yb
            grad = np.einsum("...s,...sd->...d", r, Xb) / yb.shape[-1]
        return 0.5 * np.mean(r * r, axis=-1), grad

    def _hessian(self, x):
        return np.broadcast_to(self._H, x.shape + (self.dim,)).copy()


class LogisticRegression(EmpiricalRisk):
    r"""Binary logistic regression: V(θ) = (1/n)·Σ [log(1 + e^{zᵢ}) − yᵢ·zᵢ] + ½·l2·|θ|², zᵢ = xᵢ·θ.

    Labels are 0/1. ∇V = Xᵀ(σ(z) − y)/n + l2·θ and ∇²V = Xᵀ·diag(σ(1 − σ))·X/n + l2·I; the softplus
    is evaluated as ``logaddexp(0, z)``, stable for any z. Add a column of ones for an intercept.

    References
    ----------
    Cox, D. R. (1958). The regression analysis of binary sequences. J. R. Stat. Soc. B 20, 215-242.
    """

    def __init__(self, X, y, l2: float = 0.0, *, name: str = "logistic regression"):
        X_, y_ = _check_data(X, y, y_kind="binary")
        super().__init__(X_, y_, X_.shape[1], l2=l2, name=name, y_kind="binary")

    def _batch_loss(self, theta, idx):
        Xb, yb = _gather(self.X, idx), _gather(self.y, idx)
        z = theta @ Xb.T if Xb.ndim == 2 else np.einsum("...sd,...d->...s", Xb, theta)
        loss = np.mean(np.logaddexp(0.0, z) - yb * z, axis=-1)
        resid = 0.5 * (1.0 + np.tanh(0.5 * z)) - yb  # σ(z) − y, with σ written stably
        grad = resid @ Xb / yb.shape[-1] if Xb.ndim == 2 else np.einsum("...s,...sd->...d", resid, Xb) / yb.shape[-1]
        return loss, grad

    def _hessian(self, x):
        z = x @ self.X.T
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        w = s * (1.0 - s)
        H = np.einsum("...s,sd,se->...de", w, self.X, self.X) / self.n
        return H + self.l2 * np.eye(self.dim)

    def predict_proba(self, theta, X=None):
        """σ(x·θ) for the rows of X (default: the training data)."""
        X = self.X if X is None else np.asarray(X, dtype=np.float64)
        return 0.5 * (1.0 + np.tanh(0.5 * (X @ np.asarray(theta))))

    def accuracy(self, theta, X=None, y=None) -> float:
        """The fraction of samples whose label is predicted right (threshold ½)."""
        y = self.y if y is None else np.asarray(y)
        return float(np.mean((self.predict_proba(theta, X) > 0.5) == (y > 0.5)))
