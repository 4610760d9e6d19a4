"""Data losses: V(θ) = mean over samples of a per-sample loss, and minibatches of it.

The full-data loss (the empirical risk) is a deterministic landscape; a minibatch view replaces
its gradient at every step by that of a random subset of the data. The difference is a random
force of zero mean — SGD's temperature (Mandt, Hoffman & Blei 2017). Evaluation counts of data
losses are in samples: a full gradient of one particle costs n, a minibatch gradient costs its
batch size, so methods with different batch sizes compare fairly per epoch.

References
----------
Robbins, H. & Monro, S. (1951). A stochastic approximation method. Ann. Math. Stat. 22, 400-407.
Mandt, S., Hoffman, M. D. & Blei, D. M. (2017). Stochastic gradient descent as approximate
Bayesian inference. JMLR 18(134), 1-35.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._kernels import n_particles, rowdot
from .._validation import _describe, as_int, nonnegative
from ..core.reductions import fold, matvec, vecmat
from ..potential import Minimum
from ._base import LibraryPotential


def _check_data(X, y, *, y_kind: str = "real"):
    """X as a finite float64 (n, d) array and y checked against X; y_kind is 'real', 'binary' or 'class'."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-D array (samples × features), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer) or X.dtype == bool):
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise ValueError(f"X must be finite, got {_describe(X[bad])} at index {bad}")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"X and y must have the same number of samples, got len(X) = {len(X)} and "
                         f"len(y) = {len(y) if y.ndim else 'a scalar'}")
    if not (np.issubdtype(y.dtype, np.floating) or np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise TypeError(f"y must hold real numbers, got dtype {y.dtype}")
    if y.dtype != bool and not np.all(np.isfinite(y)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(y))[0])
        raise ValueError(f"y must be finite, got {_describe(y[bad])} at index {bad}")
    if y_kind == "real":
        if y.ndim > 2:
            raise ValueError(f"y must have shape (n,) or (n, outputs), got shape {y.shape}")
        return X, y.astype(np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
    if y_kind == "binary":
        if not np.all((y == 0) | (y == 1)):
            raise ValueError(f"y must hold the labels 0 and 1, got {_describe(np.unique(y))}")
        return X, y.astype(np.float64)
    if np.any(y != np.round(y)) or np.any(y < 0):  # class indices: integers (or integral floats) >= 0
        raise ValueError(f"y must hold non-negative integer class labels, got {_describe(np.unique(y))}")
    return X, y.astype(np.int64)


def _as_generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {_describe(seed)}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {_describe(seed)}")
    return np.random.default_rng(seed)


def _jsonable(obj):
    """A bit generator's state with its numpy arrays and scalars turned into lists and ints."""
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


_STATE_KEYS = ("n", "batch_size", "replace", "shared", "rng", "epoch_rng", "particles", "position", "samples_seen")


def _gather(M, idx):
    """Rows of M for a shared index vector (shape (S,)) or per-particle index rows (shape (..., S))."""
    return M if idx is None else M[idx]


class EmpiricalRisk(LibraryPotential):
    r"""Base class of data losses: V(θ) = (1/n)·Σᵢ ℓ(θ; xᵢ, yᵢ) + ½·l2·|θ|².

    ``value``/``gradient`` are over the full data set; :meth:`minibatch` gives a stochastic view.
    Evaluation counts are in samples: one particle's full-data value, gradient, Hessian or
    Hessian-vector product adds n to ``counts`` (``cost = n``), so a full-batch method and a
    minibatch method compare per epoch.

    Subclasses implement ``_batch_loss(theta, idx, out)``: the mean loss over the samples ``idx``
    (None: all n; an index vector of shape (S,) shared by every particle; or one row of indices per
    particle, shape ``theta.shape[:-1] + (S,)``), batched over the leading axes of ``theta``, writing
    the mean gradient (without the l2 term) into ``out`` unless ``out`` is None.

    Parameters
    ----------
    X : array_like (n, d)
        Features, finite.
    y : array_like (n,) or (n, k)
        Targets or labels (see the subclass).
    dim : int, optional
        Number of parameters (default d).
    l2 : float
        Weight of the ridge term ½·l2·|θ|² (a harmonic tether to θ = 0, stiffness l2).
    """

    def __init__(self, X, y, dim: int | None = None, *, l2: float = 0.0, name: str, minima=(),
                 minimum_value: float | None = None, y_kind: str = "real"):
        self.X, self.y = _check_data(X, y, y_kind=y_kind)
        self.n = len(self.X)
        self.l2 = nonnegative("l2", l2)
        self.cost = self.n
        super().__init__(self.X.shape[1] if dim is None else dim, name=name, minima=minima,
                         minimum_value=minimum_value)

    # -- to implement
    def _batch_loss(self, theta, idx, out):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- Potential protocol
    def _loss(self, theta, idx, out):
        value = self._batch_loss(theta, idx, out)
        if self.l2:
            value = value + 0.5 * self.l2 * rowdot(theta, theta)
            if out is not None:
                out += self.l2 * theta
        return value

    def _value_and_gradient(self, x, out):
        return self._loss(x, None, out)

    def _value(self, x):
        return self._loss(x, None, None)

    def hessian(self, x):
        """The Hessian of the full-data loss, shape ``x.shape + (dim,)``; counts n samples per particle."""
        return self._in_samples(super().hessian, x)

    def hvp(self, x, v):
        """The full-data Hessian-vector product ∇²V(x)·v; counts n samples per particle."""
        return self._in_samples(super().hvp, x, v)

    def _in_samples(self, method, *args):
        before = self.counts["hessian"]
        result = method(*args)
        self.counts["hessian"] = before + (self.counts["hessian"] - before) * self.n
        return result

    def full_value(self, x):
        """The loss over the whole data set, not counted: a diagnostic of the landscape a run samples."""
        return np.array(self._value(self._prepare(x)))

    def per_sample_gradients(self, theta) -> np.ndarray:
        """∇ℓ(θ; xᵢ, yᵢ) for every sample i at one θ, shape (n, dim), without the l2 term: the raw
        material of SGD's noise (its covariance is the diffusion matrix of the random force)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},), got shape {theta.shape}")
        out = np.empty((self.n, self.dim))
        self._batch_loss(np.broadcast_to(theta, (self.n, self.dim)), np.arange(self.n)[:, None], out)
        return out

    def _features(self, X):
        """The training features (X None) or X checked to have this model's number of features."""
        if X is None:
            return self.X
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.X.shape[1]:
            raise ValueError(f"X must have shape (samples, {self.X.shape[1]}), got shape {X.shape}")
        return X

    def minibatch(self, batch_size: int, seed=None, *, replace: bool = False, shared: bool = False) -> MinibatchView:
        """A stochastic view whose every gradient is that of a fresh minibatch (see :class:`MinibatchView`)."""
        return MinibatchView(self, batch_size, seed, replace=replace, shared=shared)


class MinibatchView(LibraryPotential):
    r"""The loss of ``parent`` seen through random minibatches of ``batch_size`` samples.

    Each gradient evaluation uses the next batch of a random permutation of the data, so within an
    epoch every sample is used once (without replacement). An epoch has ⌊n/S⌋ batches of exactly
    S = ``batch_size`` samples: the n mod S samples left at the end of a permutation are dropped
    (PyTorch's ``drop_last=True``), and the next epoch draws a fresh permutation, so each sample is
    dropped with probability (n mod S)/n per epoch and none is favoured. ``batch_size = n`` is batch
    gradient descent (the full data, bitwise the full gradient); ``batch_size = 1`` is SGD.

    Physics: the minibatch gradient is ∇V(θ) + ξ with E[ξ] = 0 and covariance (C(θ)/S)·(n − S)/(n − 1)
    (C the covariance of the per-sample gradients; the last factor is the finite-population correction
    of sampling without replacement, 1 with replacement). A step −lr·ξ is a random kick; matching its
    covariance lr²·C/S to the Langevin kick 2·lr·T gives SGD a temperature T = lr·C/(2S) (times the
    same correction without replacement), a matrix unless C is isotropic (Mandt, Hoffman & Blei 2017;
    :func:`newtonopt.analysis.sgd_temperature`).

    Parameters
    ----------
    parent : EmpiricalRisk
        The full-data loss; the view shares its data, ``dim``, ``minima`` and Hessian.
    batch_size : int
        Samples per gradient, 1 ≤ batch_size ≤ n.
    seed : int, numpy Generator or None
        The same seed gives bitwise the same batches. A Generator is used (and advanced) in place.
    replace : bool
        Draw every batch independently, with replacement: the i.i.d. noise that continuous-time
        analyses of SGD assume (no epochs, nothing dropped).
    shared : bool
        Ensembles (x of shape (..., dim)): by default every particle is an independent replica with
        its own stream of batches (its own thermal noise). ``shared=True`` gives all particles the
        same batch at each step — one data stream, as several starts trained on one loader see it
        (common random numbers: differences between particles are then due to the starts alone).

    Notes
    -----
    Values: the value returned with each gradient (``value_and_gradient`` and the run loop) is the
    minibatch loss — what the optimizer sees, and what a run records as its potential energy. The
    full-data loss is :meth:`full_value` (not counted, for diagnostics) or :meth:`value` (counted as
    n samples per particle, since it is what it costs).

    Counts are in samples: a minibatch evaluation adds ``batch_size`` per particle to
    ``counts['gradient']`` (and to ``counts['value']`` for the minibatch loss computed with it),
    whether or not the particles share the batch; Hessians are the full data's and add n.
    ``epochs`` is the number of data passes per particle. A change in the number of particles
    between calls starts a new epoch.

    :meth:`get_state`/:meth:`set_state` save and restore the random state and the position in the
    epoch as a JSON-serializable dict, so that a run resumes bitwise (``simulate`` does this).
    """

    def __init__(self, parent: EmpiricalRisk, batch_size: int, seed=None, *, replace: bool = False,
                 shared: bool = False):
        if not isinstance(parent, EmpiricalRisk):
            raise TypeError(f"parent must be a data loss (EmpiricalRisk), got {_describe(parent)}")
        batch_size = as_int("batch_size", batch_size, low=1)
        if batch_size > parent.n:
            raise ValueError(f"batch_size must be at most the number of samples n = {parent.n}, got {batch_size}")
        self.parent, self.batch_size = parent, batch_size
        self.replace, self.shared = bool(replace), bool(shared)
        self.cost = batch_size
        self.rng = _as_generator(seed)
        self.batches_per_epoch = parent.n // batch_size
        self._order = None  # the permutation(s) of the current epoch, shape (particles...) + (n,)
        self._epoch_rng = None  # the bit generator's state just before _order was drawn
        self._position = self.batches_per_epoch  # the next batch of the epoch; here: draw a new epoch first
        self.samples_seen = 0
        super().__init__(parent.dim, name=f"{parent.name} (batch {batch_size})", bounds=parent.bounds,
                         minima=parent.minima, minimum_value=parent.minimum_value)

    @property
    def n(self) -> int:
        """Number of samples of the data set."""
        return self.parent.n

    @property
    def epochs(self) -> float:
        """Data passes so far per particle: samples seen by one particle / n."""
        return self.samples_seen / self.parent.n

    # -- the stream of batches
    def _draw_order(self, shape: tuple) -> np.ndarray:
        n = self.parent.n
        if not shape:
            return self.rng.permutation(n)
        return self.rng.permuted(np.broadcast_to(np.arange(n), shape + (n,)), axis=-1)

    def _next_batch(self, shape: tuple):
        n, S = self.parent.n, self.batch_size
        self.samples_seen += S
        if self.shared:
            shape = ()
        if self.replace:
            return self.rng.integers(0, n, size=shape + (S,))
        if S == n:
            return None  # every sample once: the full data in order, so the gradient is the full one bitwise
        if self._position >= self.batches_per_epoch or self._order is None or self._order.shape[:-1] != shape:
            self._epoch_rng = self.rng.bit_generator.state
            self._order = self._draw_order(shape)
            self._position = 0
        lo = self._position * S
        self._position += 1
        return self._order[..., lo:lo + S]

    # -- Potential protocol
    def _value_and_gradient(self, x, out):
        return self.parent._loss(x, self._next_batch(x.shape[:-1]), out)

    def _value(self, x):
        return self.parent._value(x)

    def value(self, x):
        """The full-data loss V(x) (counted as n samples per particle); see :meth:`full_value`."""
        x = self._prepare(x)
        self.counts["value"] += n_particles(x) * self.parent.n
        return np.array(self.parent._value(x))

    def full_value(self, x):
        """The full-data loss, not counted."""
        return self.parent.full_value(x)

    def hessian(self, x):
        """The full-data Hessian (counted as n samples per particle)."""
        return self._in_samples(super().hessian, x)

    def hvp(self, x, v):
        """The full-data Hessian-vector product (counted as n samples per particle)."""
        return self._in_samples(super().hvp, x, v)

    _in_samples = EmpiricalRisk._in_samples

    def _hessian(self, x):
        return self.parent._hessian(x)

    def _hvp(self, x, v):
        return self.parent._hvp(x, v)

    def curvature_bounds(self, x=None):
        return self.parent.curvature_bounds(x)

    # -- resumable randomness
    def get_state(self) -> dict:
        """The random state and the position in the epoch as a JSON-serializable dict.

        The current epoch's permutation is not stored but redrawn from the generator's state at the
        start of the epoch (``epoch_rng``), so the state stays small for any n and ensemble.
        """
        return {"n": self.parent.n, "batch_size": self.batch_size, "replace": self.replace, "shared": self.shared,
                "rng": _jsonable(self.rng.bit_generator.state),
                "epoch_rng": None if self._order is None else _jsonable(self._epoch_rng),
                "particles": None if self._order is None else list(self._order.shape[:-1]),
                "position": self._position, "samples_seen": self.samples_seen}

    def set_state(self, state: dict) -> None:
        """Restore what :meth:`get_state` returned (of a view with the same n, batch size and sampling).

        The state is checked before anything changes: a state that does not fit leaves the view as it was.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from get_state(), got {_describe(state)}")
        missing = [k for k in _STATE_KEYS if k not in state]
        if missing:
            raise ValueError(f"state must be a dict from get_state(), got one without the keys {missing} (a state "
                             "saved by an older newtonopt cannot be resumed bitwise)")
        mine = {"n": self.parent.n, "batch_size": self.batch_size, "replace": self.replace, "shared": self.shared}
        theirs = {k: state[k] for k in mine}
        if theirs != mine:
            raise ValueError(f"state belongs to a view with {theirs}, not to this one with {mine}")
        position = as_int("state['position']", state["position"], low=0)
        if position > self.batches_per_epoch:
            raise ValueError(f"state['position'] must be at most {self.batches_per_epoch} (batches per epoch), got "
                             f"{position}")
        samples_seen = as_int("state['samples_seen']", state["samples_seen"], low=0)
        particles = None
        if state["epoch_rng"] is not None:
            if not isinstance(state["particles"], (list, tuple)):
                raise TypeError(f"state['particles'] must be a list of ints, got {_describe(state['particles'])}")
            particles = tuple(as_int(f"state['particles'][{i}]", p, low=0) for i, p in enumerate(state["particles"]))
        bit_generator = self.rng.bit_generator
        saved = bit_generator.state
        try:
            if particles is not None:  # redraw the current epoch's permutation(s)
                key = "epoch_rng"
                bit_generator.state = state["epoch_rng"]
                epoch_rng = bit_generator.state
                order = self._draw_order(particles)
            else:
                epoch_rng = order = None
            key = "rng"
            bit_generator.state = state["rng"]
        except (TypeError, ValueError, KeyError) as exc:
            bit_generator.state = saved
            raise ValueError(f"state[{key!r}] is not a state of this view's {type(bit_generator).__name__} "
                             f"generator: {exc}") from None
        self._order, self._epoch_rng = order, epoch_rng
        self._position, self.samples_seen = position, samples_seen


class LeastSquares(EmpiricalRisk):
    r"""Linear regression: V(θ) = (1/2n)·|Xθ − y|² + ½·l2·|θ|².

    ∇V = Xᵀ(Xθ − y)/n + l2·θ and ∇²V = XᵀX/n + l2·I, constant: the landscape is a quadratic bowl
    whose normal modes are the Hessian's eigenvectors. The exact minimizer solves the normal
    equations (XᵀX/n + l2·I)·θ* = Xᵀy/n; it is computed by ``numpy.linalg.lstsq`` on the
    equivalent stacked system [X; √(n·l2)·I]·θ ≈ [y; 0] (no squaring of the condition number) and
    stored in ``minima`` — or, when XᵀX/n + l2·I is singular, only its value in ``minimum_value``
    (the minimizers form a line or plane). ``curvature_bounds()`` gives the Hessian's exact
    extreme eigenvalues (λ_min, λ_max). Add a column of ones to X for an intercept
    (:func:`newtonopt.datasets.add_intercept`).

    Parameters
    ----------
    X : array_like (n, d)
    y : array_like (n,)
    l2 : float
        Ridge weight (≥ 0).

    References
    ----------
    Legendre, A.-M. (1805). Nouvelles méthodes pour la détermination des orbites des comètes.
    Gauss, C. F. (1809). Theoria motus corporum coelestium.
    """

    def __init__(self, X, y, l2: float = 0.0, *, name: str = "least squares"):
        super().__init__(X, y, l2=l2, name=name)
        if self.y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of targets, got shape {self.y.shape}")
        n, d = self.X.shape
        self._H = self.X.T @ self.X / n + self.l2 * np.eye(d)
        self._lam = np.linalg.eigvalsh(self._H)
        A, b = self.X, self.y
        if self.l2:
            A = np.vstack([self.X, np.sqrt(n * self.l2) * np.eye(d)])
            b = np.concatenate([self.y, np.zeros(d)])
        theta, _, rank, _ = np.linalg.lstsq(A, b, rcond=None)
        value = float(self._value(theta))
        if rank == d and self._lam[0] > 0:
            self.minima = [Minimum(theta, value)]
        self.minimum_value = value

    def curvature_bounds(self, x=None):
        return float(self._lam[0]), float(self._lam[-1])

    def _batch_loss(self, theta, idx, out):
        Xb, yb = _gather(self.X, idx), _gather(self.y, idx)
        S = yb.shape[-1]
        # Xb is (S, d), rows shared by every particle, or (..., S, d), rows per particle; the products
        # are fixed-order sums (core.reductions), not BLAS, so every CPU gives the same bits.
        r = matvec(Xb, theta) - yb
        if out is not None:
            out[...] = vecmat(r, Xb) / S
        return 0.5 / S * fold(r * r)

    def _hessian(self, x):
        return np.broadcast_to(self._H, x.shape + (self.dim,)).copy()

    def _hvp(self, x, v):
        return v @ self._H  # H is symmetric: v·H = (H·v)ᵀ

    def predict(self, theta, X=None) -> np.ndarray:
        """Xθ for the rows of X (default: the training data), batched over the leading axes of θ."""
        return np.asarray(theta, dtype=np.float64) @ self._features(X).T


def _sigmoid(z):
    """σ(z) = 1/(1 + e^{−z}) without overflow for any z and to full relative precision in both tails:
    1/(1 + e^{−|z|}) for z ≥ 0, e^{−|z|}/(1 + e^{−|z|}) for z < 0."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


class LogisticRegression(EmpiricalRisk):
    r"""Binary logistic regression (mean cross-entropy) with labels y ∈ {0, 1}.

    V(θ) = (1/n)·Σᵢ [softplus(zᵢ) − yᵢ·zᵢ] + ½·l2·|θ|², zᵢ = xᵢ·θ, softplus(z) = log(1 + eᶻ),
    which is −(1/n)·Σ [yᵢ·log σ(zᵢ) + (1 − yᵢ)·log(1 − σ(zᵢ))]. The softplus is evaluated as
    ``logaddexp(0, z)``, stable for any z. ∇V = Xᵀ(σ(z) − y)/n + l2·θ and
    ∇²V = Xᵀ·diag(σ(z)(1 − σ(z)))·X/n + l2·I, so λ_max ≤ λ_max(XᵀX)/(4n) + l2 everywhere. There is
    no intercept flag: add a column of ones to X (:func:`newtonopt.datasets.add_intercept`). On
    separable data with l2 = 0 the minimum is at infinity (|θ| grows for ever); use l2 > 0.

    References
    ----------
    Cox, D. R. (1958). The regression analysis of binary sequences. J. R. Stat. Soc. B 20, 215-242.
    """

    def __init__(self, X, y, l2: float = 0.0, *, name: str = "logistic regression"):
        super().__init__(X, y, l2=l2, name=name, y_kind="binary")

    def _batch_loss(self, theta, idx, out):
        Xb, yb = _gather(self.X, idx), _gather(self.y, idx)
        S = yb.shape[-1]
        z = matvec(Xb, theta)  # fixed-order sums, as in LeastSquares
        loss = fold(np.logaddexp(0.0, z) - yb * z) / S
        if out is not None:
            out[...] = vecmat(_sigmoid(z) - yb, Xb) / S
        return loss

    def _hessian(self, x):
        s = _sigmoid(x @ self.X.T)
        H = np.einsum("...s,sd,se->...de", s * (1.0 - s), self.X, self.X) / self.n
        return H + self.l2 * np.eye(self.dim)

    def _hvp(self, x, v):
        s = _sigmoid(x @ self.X.T)
        return (s * (1.0 - s) * (v @ self.X.T)) @ self.X / self.n + self.l2 * v

    def predict_proba(self, theta, X=None) -> np.ndarray:
        """σ(x·θ) for the rows of X (default: the training data), batched over the leading axes of θ."""
        return _sigmoid(np.asarray(theta, dtype=np.float64) @ self._features(X).T)

    def accuracy(self, theta, X=None, y=None):
        """The fraction of samples whose label is predicted right (threshold ½); one per particle."""
        p = self.predict_proba(theta, X)
        y = self.y if y is None else np.asarray(y)
        if y.shape != p.shape[-1:]:
            raise ValueError(f"y must have shape ({p.shape[-1]},), one label per row of X, got shape {y.shape}")
        hit = np.mean((p > 0.5) == (y > 0.5), axis=-1)
        return float(hit) if np.ndim(hit) == 0 else hit
