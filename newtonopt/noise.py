"""Counter-based Gaussian noise: the random force of a heat bath, reproducible per particle.

Each particle owns a stream keyed by (seed, particle index); the normal numbers of
step k are a pure function of (key, k, coordinate). That buys three things a
physicist expects from a thermostat: the same seed gives bitwise the same run; a
particle's noise does not depend on how many other particles run beside it (an
ensemble equals its particles run one by one with ``seed`` arrays); and a run
resumed at step k continues bitwise, since no generator state has to be saved.

The bits come from SplitMix64 (Steele, Lea & Flood 2014), whose output function
passes BigCrush; each key starts its own SplitMix64 sequence at a hashed offset.
Uniforms with 53 random bits are turned into normals by the Box–Muller transform
(Box & Muller 1958), both values of each pair used. Its ln, sin and cos are the package's own
(:mod:`newtonopt.core.elementary`: + − × ÷ in a fixed order), not numpy's SIMD kernels, so
the noise, and a thermostat's run, is the same on every CPU.
"""

from __future__ import annotations

import numbers

import numpy as np

from .core.elementary import log_into, sincos_turns_into

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(z: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """SplitMix64's finalizer, in place on a uint64 array (``scratch``, of z's shape, avoids allocating)."""
    if not isinstance(z, np.ndarray):  # a numpy scalar (one particle): make it an array to work in place
        z = np.array(z)
    if scratch is None:
        scratch = np.empty_like(z)
    for shift, multiplier in ((_S30, _M1), (_S27, _M2)):
        np.right_shift(z, shift, out=scratch)
        np.bitwise_xor(z, scratch, out=z)
        np.multiply(z, multiplier, out=z)
    np.right_shift(z, _S31, out=scratch)
    np.bitwise_xor(z, scratch, out=z)
    return z


def fixed_seed(seed):
    """An integrator's ``seed`` made concrete: a Generator or None becomes an int drawn once, so that every
    copy of the integrator (schedules make one per step) shares one set of noise streams."""
    if isinstance(seed, (float, str, bool, np.bool_)):
        raise TypeError(f"seed must be an int, an array of ints, a numpy Generator or None, got {seed!r}")
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    return seed


def seed_keys(seed, shape: tuple) -> np.ndarray:
    """One 64-bit stream key per particle of an ensemble of shape ``shape``.

    ``seed`` is an int (particle i of the ensemble gets key(seed, i)), an array of
    ints with the ensemble's shape (particle i gets key(seed[i], 0): the same as a
    single run with seed ``seed[i]``), a numpy Generator (an int is drawn from
    it), or None (fresh entropy).
    """
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63))
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"seed must be an int, an array of ints or a numpy Generator, got {seed!r}")
    if isinstance(seed, numbers.Integral):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        n = int(np.prod(shape)) if shape else 1
        index = np.arange(n, dtype=np.uint64).reshape(shape)
        base = np.full(shape, np.uint64(seed % 2**64), dtype=np.uint64)
    else:
        base = np.asarray(seed)
        if not np.issubdtype(base.dtype, np.integer):
            raise TypeError(f"seed must be an int, an array of ints or a numpy Generator, got dtype {base.dtype}")
        if base.shape != shape:
            raise ValueError(f"seed has shape {base.shape}, but the ensemble has shape {shape}")
        if np.any(base < 0):
            raise ValueError("seed must be non-negative")
        base = base.astype(np.uint64)
        index = np.zeros(shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        key = _mix(base * _GOLDEN + np.uint64(0x632BE59BD9B4E019))
        key ^= _mix(index * _M1 + np.uint64(0x1D8E4E27C47D124F))
        return _mix(key)


class CounterNormal:
    """Standard normal numbers for an array of shape ``shape + (dim,)``, a pure function of the step.

    Parameters
    ----------
    keys : ndarray of uint64, shape ``shape``
        Per-particle stream keys from :func:`seed_keys`.
    dim : int
        Coordinates per particle.
    """

    def __init__(self, keys: np.ndarray, dim: int):
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.dim = dim
        self.pairs = (dim + 1) // 2
        shape = self.keys.shape
        # Counter offsets within one step: particle key + (2·pair + half) golden increments.
        lanes = np.arange(2 * self.pairs, dtype=np.uint64) * _GOLDEN
        with np.errstate(over="ignore"):
            self._base = (self.keys[..., None] + lanes).reshape(shape + (2 * self.pairs,))
        self._bits = np.empty_like(self._base)
        self._scratch = np.empty_like(self._base)
        self._offset = np.empty(shape + (1,), dtype=np.uint64)
        self._u = np.empty(shape + (2 * self.pairs,), dtype=np.float64)
        half = shape + (self.pairs,)
        self._r, self._sin, self._cos = (np.empty(half) for _ in range(3))
        self._work = [np.empty(half) for _ in range(3)]  # scratch of the package's own ln, sin and cos
        self._exponent = np.empty(half, dtype=np.int32)
        self._flags = [np.empty(half, dtype=bool) for _ in range(2)]
        self._step_stride = np.uint64((2 * self.pairs * int(_GOLDEN)) % 2**64)

    def fill(self, step: int, out: np.ndarray) -> np.ndarray:
        """Write the N(0, 1) numbers of ``step`` into ``out`` (shape ``keys.shape + (dim,)``)."""
        bits, u, r = self._bits, self._u, self._r
        with np.errstate(over="ignore"):
            # The offset goes to its own buffer: an input overlapping `out` would make numpy copy the whole array.
            np.multiply(self._step_stride, np.uint64(step % 2**64), out=self._offset)
            np.add(self._base, self._offset, out=bits)
            _mix(bits, self._scratch)
        bits >>= _S11
        np.add(bits, np.uint64(1), out=bits)  # 1 … 2⁵³: the uniform lies in (0, 1], so log is finite
        np.multiply(bits, 2.0**-53, out=u)
        u1, u2 = u[..., : self.pairs], u[..., self.pairs:]
        a, b, c = self._work
        log_into(u1, r, a, b, c, self._exponent, self._flags[0])  # not np.log: its SIMD kernel varies by CPU
        np.multiply(r, -2.0, out=r)
        np.sqrt(r, out=r)
        sincos_turns_into(u2, self._sin, self._cos, a, b, c, *self._flags)  # sin 2πu₂, cos 2πu₂
        d, p = self.dim, self.pairs
        np.multiply(self._cos[..., : d - p], r[..., : d - p], out=out[..., p:])
        np.multiply(self._sin, r, out=out[..., :p])
        return out
