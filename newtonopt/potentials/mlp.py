"""A small multilayer perceptron as a potential: its weights are the particle's position."""

from __future__ import annotations

import numpy as np

from .._validation import _describe, as_int
from .data import EmpiricalRisk, _as_generator, _sigmoid


def _relu(z):
    return np.maximum(z, 0.0)


# name: (φ, φ' written in terms of the activation a = φ(z), which is all the backward pass keeps)
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
    "relu": (_relu, lambda a: (a > 0.0).astype(a.dtype)),  # the subgradient 0 at z = 0
    "sigmoid": (_sigmoid, lambda a: a * (1.0 - a)),
}
_LOSSES = ("mse", "cross_entropy")


class MLP(EmpiricalRisk):
    r"""A multilayer perceptron trained on (X, y); all its weights form one flat parameter vector θ.

    Forward pass for layer widths (n₀, n₁, …, n_L): a⁰ = x, zˡ = aˡ⁻¹·Wˡ + bˡ (Wˡ of shape
    nˡ⁻¹ × nˡ), aˡ = φ(zˡ) for the hidden layers, and a linear output z^L. Loss per sample:
    ½·|z^L − y|² (``loss="mse"``, y of shape (n,) for one output or (n, n_L)), or the cross-entropy
    −log softmax(z^L)_y = −z^L_y + logsumexp(z^L) (``loss="cross_entropy"``, y integer class labels
    0 … n_L − 1; the log-softmax is shifted by max z^L, stable for any logits). V is the mean over
    samples plus ½·l2·|θ|².

    The gradient is backpropagation, the chain rule run backwards over a batch of S samples:
    δ^L = ∂ℓ/∂z^L (z^L − y, or softmax(z^L) − onehot(y)), ∂V/∂Wˡ = aˡ⁻¹ᵀ·δˡ/S, ∂V/∂bˡ = Σ_s δˡ/S,
    δˡ⁻¹ = (δˡ·Wˡᵀ) ⊙ φ'(zˡ⁻¹), each a matrix product over the whole batch. An ensemble θ of shape
    (..., dim) runs as batched matrix products (no loop over particles).

    θ stores layer after layer W (row-major, nˡ⁻¹ × nˡ) then b (nˡ); :meth:`unflatten` gives the
    views, so every integrator applies to the network unchanged. :meth:`initial_parameters` draws
    Glorot-uniform weights, Wˡ ~ U(−a, a) with a = √(6/(nˡ⁻¹ + nˡ)) — equal variance of the
    signal forward and of the gradient backward (Glorot & Bengio 2010) — and zero biases.

    Parameters
    ----------
    X : array_like (n, n₀)
    y : array_like (n,) of class labels (cross_entropy) or (n,) / (n, n_L) of targets (mse)
    layers : sequence of int
        Widths from input to output, e.g. (4, 16, 3); ``layers[0]`` must equal ``X.shape[1]``.
    activation : {'tanh', 'relu', 'sigmoid'}
        φ of the hidden layers.
    loss : {'mse', 'cross_entropy'}
    l2 : float
        Weight decay ½·l2·|θ|².
    seed : int, numpy Generator or None
        Seed of :meth:`initial_parameters` when it is called without one.

    Notes
    -----
    The landscape is not convex: permuting hidden units maps a minimum to another of equal depth,
    and ReLU networks have kinks (V is only piecewise smooth). There is no analytic Hessian;
    ``hessian``/``hvp`` are central differences of the analytic gradient.

    References
    ----------
    Rumelhart, D. E., Hinton, G. E. & Williams, R. J. (1986). Learning representations by
    back-propagating errors. Nature 323, 533-536.
    Glorot, X. & Bengio, Y. (2010). Understanding the difficulty of training deep feedforward
    neural networks. AISTATS, PMLR 9, 249-256.
    """

    def __init__(self, X, y, layers, activation: str = "tanh", loss: str = "mse", l2: float = 0.0, seed=None, *,
                 name: str | None = None):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {list(_LOSSES)}, got {loss!r}")
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) < 2:
            raise ValueError(f"layers must list at least the input and output widths, got {_describe(layers)}")
        self.layers = tuple(as_int(f"layers[{i}]", w, low=1) for i, w in enumerate(layers))
        X_shape = np.shape(X)
        if len(X_shape) == 2 and X_shape[1] != self.layers[0]:
            raise ValueError(f"layers[0] = {self.layers[0]} must equal the number of features X.shape[1] = "
                             f"{X_shape[1]}")
        if seed is not None:
            _as_generator(seed)  # checks its type now rather than at the first initial_parameters()
        self.activation, self.loss_name, self.seed = activation, loss, seed
        self._act, self._dact = _ACTIVATIONS[activation]
        self._layout = []  # per layer: W from a to b (shape (fan_in, fan_out)), b from b to c
        offset = 0
        for fan_in, fan_out in zip(self.layers[:-1], self.layers[1:]):
            a, b = offset, offset + fan_in * fan_out
            offset = b + fan_out
            self._layout.append((a, b, offset, (fan_in, fan_out)))
        n_out = self.layers[-1]
        label = name or f"MLP {self.layers}"
        if loss == "cross_entropy":
            super().__init__(X, y, offset, l2=l2, name=label, y_kind="class")
            if self.y.max() >= n_out:
                raise ValueError(f"y has class label {int(self.y.max())}, but the output layer has only {n_out} "
                                 f"units (labels 0 … {n_out - 1})")
            self._eye = np.eye(n_out)
            self._targets = self._eye[self.y]  # one-hot rows: δ^L = softmax − onehot
        else:
            super().__init__(X, y, offset, l2=l2, name=label)
            targets = self.y[:, None] if self.y.ndim == 1 else self.y
            if targets.shape[1] != n_out:
                raise ValueError(f"y must have shape (n, {n_out}) for {n_out} outputs with loss 'mse', got shape "
                                 f"{self.y.shape}")
            self._targets = targets

    # ------------------------------------------------------------------ parameters
    def unflatten(self, theta) -> list:
        """[(W¹, b¹), (W², b²), …] of θ (shape (..., dim)): views when θ's slices allow, else copies."""
        theta = np.asarray(theta)
        if theta.shape[-1:] != (self.dim,):
            raise ValueError(f"theta must have shape (..., {self.dim}), got shape {theta.shape}")
        return self._params(theta)

    def _params(self, theta):
        lead = theta.shape[:-1]
        return [(theta[..., a:b].reshape(lead + shape), theta[..., b:c]) for a, b, c, shape in self._layout]

    def initial_parameters(self, seed=None, shape: tuple = ()) -> np.ndarray:
        """Glorot-uniform weights Wˡ ~ U(−a, a), a = √(6/(nˡ⁻¹ + nˡ)), and zero biases.

        ``seed`` defaults to the constructor's; ``shape`` gives an ensemble of independent
        initializations, an array of shape ``shape + (dim,)``.
        """
        rng = _as_generator(self.seed if seed is None else seed)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
        if not isinstance(shape, (tuple, list)):
            raise TypeError(f"shape must be an int or a tuple of ints, got {_describe(shape)}")
        shape = tuple(as_int(f"shape[{i}]", s, low=0) for i, s in enumerate(shape))
        theta = np.zeros(shape + (self.dim,))
        for a, b, _, (fan_in, fan_out) in self._layout:
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            theta[..., a:b] = rng.uniform(-limit, limit, shape + (fan_in * fan_out,))
        return theta

    # ------------------------------------------------------------------ forward and backward
    def _forward(self, theta, Xb):
        """Activations a⁰ … a^L (a^L = z^L, the logits) and the layers' (W, b)."""
        params = self._params(theta)
        acts = [Xb]
        last = len(params) - 1
        for i, (W, b) in enumerate(params):
            z = acts[-1] @ W
            z += b if b.ndim == 1 else b[..., None, :]  # biases broadcast over the batch axis
            acts.append(z if i == last else self._act(z))
        return acts, params

    def _pass(self, theta, Xb, Yb, out):
        """Mean loss over the S rows of Xb (targets Yb), batched over θ's leading axes; ∇ into ``out``."""
        acts, params = self._forward(theta, Xb)
        logits, S = acts[-1], Xb.shape[-2]
        if self.loss_name == "mse":
            delta = logits - Yb
            loss = (delta * delta).sum(axis=(-2, -1)) * (0.5 / S)
        else:
            shift = logits - logits.max(axis=-1, keepdims=True)
            e = np.exp(shift)
            total = e.sum(axis=-1, keepdims=True)
            logp = shift - np.log(total)  # log-softmax
            loss = (logp * Yb).sum(axis=(-2, -1)) * (-1.0 / S)
            if out is None:
                return loss
            e /= total
            delta = e - Yb  # softmax − onehot
        if out is None:
            return loss
        delta *= 1.0 / S
        lead = theta.shape[:-1]
        flat = out.ndim == 1 and out.flags.c_contiguous  # one particle: write ∂V/∂W straight into θ's layout
        for layer in range(len(params) - 1, -1, -1):
            a, b, c, shape = self._layout[layer]
            acts_t = acts[layer].swapaxes(-1, -2)
            if flat:
                np.matmul(acts_t, delta, out=out[a:b].reshape(shape))
            else:
                out[..., a:b] = (acts_t @ delta).reshape(lead + (b - a,))
            np.add.reduce(delta, axis=-2, out=out[..., b:c])
            if layer:
                delta = delta @ params[layer][0].swapaxes(-1, -2)
                delta *= self._dact(acts[layer])
        return loss

    def _batch_loss(self, theta, idx, out):
        if idx is None:
            return self._pass(theta, self.X, self._targets, out)
        return self._pass(theta, self.X[idx], self._targets[idx], out)

    def _one(self, theta, Xb, yb):
        """Loss and gradient of one particle on given rows (yb: labels or targets as in the constructor)."""
        Yb = self._eye[yb] if self.loss_name == "cross_entropy" else np.reshape(yb, (len(Xb), -1))
        grad = np.empty(self.dim)
        return self._pass(theta, Xb, Yb, grad), grad

    # ------------------------------------------------------------------ using the network
    def predict(self, theta, X=None) -> np.ndarray:
        """The network's outputs z^L (logits for cross_entropy) for the rows of X (default: the
        training data), shape ``theta.shape[:-1] + (samples, n_L)``."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (self.dim,):
            raise ValueError(f"theta must have shape (..., {self.dim}), got shape {theta.shape}")
        return self._forward(theta, self._features(X))[0][-1]

    def accuracy(self, theta, X=None, y=None):
        """Classification accuracy: argmax of the logits (cross_entropy) or output > ½ (mse, one output);
        a float for one θ, an array for an ensemble."""
        out = self.predict(theta, X)
        y = self.y if y is None else np.asarray(y)
        if len(y) != out.shape[-2]:
            raise ValueError(f"X and y must have the same number of samples, got {out.shape[-2]} and {len(y)}")
        if self.loss_name == "cross_entropy":
            hit = np.mean(np.argmax(out, axis=-1) == y, axis=-1)
        elif out.shape[-1] == 1:
            hit = np.mean((out[..., 0] > 0.5) == (np.reshape(y, -1) > 0.5), axis=-1)
        else:
            raise ValueError(f"accuracy needs a classifier; this MLP regresses {out.shape[-1]} outputs with mse")
        return float(hit) if np.ndim(hit) == 0 else hit
