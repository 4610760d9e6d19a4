"""A small multilayer perceptron as a potential: its weights are the particle's position."""

from __future__ import annotations

import numpy as np

from .._validation import _describe, as_int
from .data import EmpiricalRisk, _gather

_ACTIVATIONS = {
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "sigmoid": (lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), lambda z, a: a * (1.0 - a)),
}


class MLP(EmpiricalRisk):
    r"""A multilayer perceptron trained on (X, y); all weights form one flat parameter vector θ.

    Forward pass for layer widths (n₀, n₁, …, n_L): a⁰ = x, zˡ = aˡ⁻¹Wˡ + bˡ, aˡ = φ(zˡ) for the
    hidden layers, and the output z^L is linear. Loss per sample: ½|z^L − y|² (``loss="mse"``) or
    −log softmax(z^L)_y (``loss="cross_entropy"``, y an integer class). The gradient is
    backpropagation — the chain rule run backwards: δ^L = ∂ℓ/∂z^L, ∂ℓ/∂Wˡ = aˡ⁻¹ᵀδˡ, ∂ℓ/∂bˡ = Σδˡ,
    δˡ⁻¹ = (δˡWˡᵀ)·φ'(zˡ⁻¹).

    θ stores each layer's W (row-major, nˡ⁻¹ × nˡ) then b (nˡ), layer after layer; ``unflatten``
    gives the views. ``initial_parameters(seed)`` draws Glorot-uniform weights (Glorot & Bengio 2010)
    and zero biases.

    Parameters
    ----------
    X : array (n, n₀)
    y : array (n,) of class labels (cross_entropy) or (n,) / (n, n_L) of targets (mse)
    layers : tuple of int
        Widths from input to output, e.g. (4, 8, 3); layers[0] must equal X.shape[1].
    activation : {'tanh', 'relu', 'sigmoid'}
    loss : {'mse', 'cross_entropy'}
    l2 : float
        Weight penalty ½·l2·|θ|².
    seed : int or None
        Seed of ``initial_parameters()`` when called without one.

    References
    ----------
    Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning representations by
    back-propagating errors. Nature 323, 533-536.
    """

    def __init__(self, X, y, layers=(4, 8, 3), activation: str = "tanh", loss: str = "mse", l2: float = 0.0,
                 seed=None, *, name: str | None = None):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if loss not in ("mse", "cross_entropy"):
            raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
        if not isinstance(layers, (tuple, list)) or len(layers) < 2:
            raise ValueError(f"layers must list at least the input and output widths, got {layers!r}")
        self.layers = tuple(as_int(f"layers[{i}]", w, low=1) for i, w in enumerate(layers))
        X_arr = np.asarray(X)
        if X_arr.ndim != 2 or X_arr.shape[1] != self.layers[0]:
            raise ValueError(f"layers[0] = {self.layers[0]} must equal the number of features X.shape[1], got X of "
                             f"shape {X_arr.shape}")
        self.activation, self.loss_name, self.seed = activation, loss, seed
        self._act, self._dact = _ACTIVATIONS[activation]
        shapes = []
        for fan_in, fan_out in zip(self.layers[:-1], self.layers[1:]):
            shapes += [(fan_in, fan_out), (fan_out,)]
        self._shapes = shapes
        sizes = [int(np.prod(s)) for s in shapes]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)])
        dim = int(self._offsets[-1])
        n_out = self.layers[-1]
        if loss == "cross_entropy":
            super().__init__(X, y, dim, l2=l2, name=name or f"MLP {self.layers}", y_kind="class")
            if np.max(self.y) >= n_out:
                raise ValueError(f"y has class {int(np.max(self.y))}, but the output layer has only {n_out} units")
        else:
            super().__init__(X, y, dim, l2=l2, name=name or f"MLP {self.layers}")
            if self.y.ndim == 1:
                if n_out != 1:
                    raise ValueError(f"mse with {n_out} outputs needs y of shape (n, {n_out}), got {self.y.shape}")
                self.y = self.y[:, None]
            elif self.y.shape[1] != n_out:
                raise ValueError(f"y has {self.y.shape[1]} columns but the output layer has {n_out} units")

    def unflatten(self, theta) -> list:
        """[(W¹, b¹), (W², b²), …] as views of θ (shape (..., dim))."""
        theta = np.asarray(theta)
        lead = theta.shape[:-1]
        parts = [theta[..., a:b].reshape(lead + s) for a, b, s in zip(self._offsets[:-1], self._offsets[1:],
                                                                      self._shapes)]
        return list(zip(parts[0::2], parts[1::2]))

    def initial_parameters(self, seed=None) -> np.ndarray:
        """Glorot-uniform weights W ~ U(−a, a), a = √(6/(fan_in + fan_out)), and zero biases."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        theta = np.zeros(self.dim)
        for (W, _), (fan_in, fan_out) in zip(self.unflatten(theta), zip(self.layers[:-1], self.layers[1:])):
            a = np.sqrt(6.0 / (fan_in + fan_out))
            W[...] = rng.uniform(-a, a, W.shape)
        return theta

    def _forward(self, theta, Xb):
        """Pre-activations and activations of every layer for one particle."""
        zs, acts = [], [Xb]
        params = self.unflatten(theta)
        for i, (W, b) in enumerate(params):
            z = acts[-1] @ W + b
            zs.append(z)
            acts.append(self._act(z) if i < len(params) - 1 else z)
        return zs, acts, params

    def _one(self, theta, Xb, yb):
        zs, acts, params = self._forward(theta, Xb)
        out, m = acts[-1], len(Xb)
        if self.loss_name == "mse":
            diff = out - yb
            loss = 0.5 * np.sum(diff * diff) / m
            delta = diff / m
        else:
            shift = out - out.max(axis=1, keepdims=True)
            logsum = np.log(np.sum(np.exp(shift), axis=1, keepdims=True))
            logp = shift - logsum
            loss = -np.mean(logp[np.arange(m), yb])
            delta = np.exp(logp)
            delta[np.arange(m), yb] -= 1.0
            delta /= m
        grad = np.empty(self.dim)
        gparts = self.unflatten(grad)
        for layer in range(len(params) - 1, -1, -1):
            gW, gb = gparts[layer]
            np.matmul(acts[layer].T, delta, out=gW)
            np.sum(delta, axis=0, out=gb)
            if layer:
                delta = (delta @ params[layer][0].T) * self._dact(zs[layer - 1], acts[layer])
        return loss, grad

    def _batch_loss(self, theta, idx):
        lead = theta.shape[:-1]
        flat = theta.reshape(-1, self.dim)
        values = np.empty(len(flat))
        grads = np.empty_like(flat)
        idx_rows = None if idx is None or np.ndim(idx) == 1 else np.asarray(idx).reshape(-1, np.shape(idx)[-1])
        for p in range(len(flat)):  # particles loop; each particle's pass is whole-batch matrix products
            rows = idx if idx_rows is None else idx_rows[p]
            values[p], grads[p] = self._one(flat[p], _gather(self.X, rows), _gather(self.y, rows))
        return values.reshape(lead), grads.reshape(theta.shape)

    def predict(self, theta, X=None) -> np.ndarray:
        """The network's outputs z^L for the rows of X (default: the training data)."""
        X = self.X if X is None else np.asarray(X, dtype=np.float64)
        return self._forward(np.asarray(theta, dtype=np.float64), X)[1][-1]

    def accuracy(self, theta, X=None, y=None) -> float:
        """Classification accuracy (cross_entropy: argmax; mse with one output: threshold ½)."""
        out = self.predict(theta, X)
        y = self.y if y is None else np.asarray(y)
        if self.loss_name == "cross_entropy":
            return float(np.mean(np.argmax(out, axis=1) == y))
        if out.shape[1] == 1:
            return float(np.mean((out[:, 0] > 0.5) == (np.reshape(y, -1) > 0.5)))
        raise ValueError(f"accuracy needs a classifier; this MLP regresses {_describe(out.shape[1])} outputs")
