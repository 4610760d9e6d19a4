"""Compiled whole loops (numba, no fastmath): a block of steps of a method on a potential, with the ledger.

Importing this module needs numba; :mod:`newtonopt.backends` imports it only when asked for the
compiled backend. Every function here is compiled with ``cache=True`` (kept on disk beside this
file, or in ``NUMBA_CACHE_DIR``) and ``error_model='numpy'`` (a division by zero gives ±inf or NaN,
as numpy's does, instead of raising).

One kernel per (method, potential)
----------------------------------
A method's coefficients arrive as a :class:`typing.NamedTuple` of its own class (:class:`HeavyBallRule`:
``lr``, ``momentum``…, one float64 array each, one entry per particle, so that ``c.lr[i]`` reads as the
method's formula), a potential's parameters as another (:class:`RosenbrockParams`, :class:`Formula`…).
:func:`rule_before`, :func:`rule_after` and :func:`evaluate` are resolved at compile time from those
classes (``numba.extending.overload``): each method's rule and each potential's formula is one small
function below, inlined into :func:`run_block`, which numba compiles once per pair of classes and keeps
on disk per pair (the classes pickle by reference, so the cache key is the same in every process). A
run compiles its own pair only, and a new method adds nothing to the other pairs' compile.

The same bits as the numpy reference
------------------------------------
Each line below is the numpy backend's arithmetic for one particle, written out: the same IEEE
operations on the same operands in the same association (``(4.0 * b) * x0 * r`` is
``((4.0 * b) * x0) * r`` in both), no fused multiply-add (numba contracts nothing without
fastmath), and every sum in the halving order of :mod:`newtonopt.core.reductions` (:func:`fold`).
Square roots are correctly rounded everywhere. So on potentials built from + − × ÷ √ a compiled run
equals the numpy run bit for bit. ``exp``, ``log``, ``sin``… here are the C library's (glibc's), where
numpy uses its own SIMD kernels: those can differ in the last bit.

Layout
------
Positions, gradients and momenta are passed as ``(dim, n)`` C-contiguous arrays: the transposed
view of an ensemble stored in Fortran order (``simulate`` stores them so), or of one particle. One
compiled signature then serves one particle and every ensemble. Per-particle quantities are 1-D of
length n; the method's coefficients are the fields of its rule tuple, taken from the State that the
method's own ``_configure`` filled, so no coefficient is recomputed here. A method's per-coordinate
memory is ``P``, ``Q``, ``R`` (momentum or velocity; Adam's m, v, v̂; RMSprop's buffer, square_avg,
grad_avg; Adagrad's Σg²; the thermostats' ξ, and the overdamped one's ∇V before the step and Δx),
also ``(dim, n)`` views of the State's arrays; its per-particle state is the rows of ``S`` (the step
count of Adam, Adagrad and the convex Nesterov, the thermostats' noise counter; FIRE's a, N and whether
it has started), copied back to the memory after each block (each rule tuple's docstring says which).

The thermostats' normals come from :mod:`newtonopt.backends.numba_noise`, compiled into the kernels
that call them: numba keys its disk cache on this file alone, so after an edit there touch this file.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numba.extending import overload

from . import numba_noise as _noise

# No reference counting (numba's NRT) in the kernels: they allocate nothing, and with it every call
# between them incremented and decremented each array argument's count with locked (atomic) instructions,
# which took ~85% of a particle-step (perf: the hot instructions were NRT_incref/NRT_decref's `lock incq`/
# `lock decq`; a 2-D quadratic GD particle-step fell from ~450 ns to ~65 ns without them). nogil: an
# ensemble's chunks of particles run this same kernel on several Python threads at once.
_JIT = {"cache": True, "error_model": "numpy", "nogil": True, "_nrt": False}
#: For the rules and evaluators picked by overload: numba compiles each one whole before inlining it (to type
#: it), so the wrappers that would let Python call it, which nothing does, are left out.
_JIT_INNER = {**_JIT, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

# Formula tape opcodes (newtonopt.formula's node ops).
OPS = ("const", "var", "add", "sub", "mul", "div", "neg", "ipow", "pow", "sign", "exp", "log", "sqrt", "sin",
       "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "abs")
MAX_EXACT_POWER = 64


#: The fold's block (newtonopt.core.reductions.BLOCK, checked at import: a constant here, so that the
#: compiled code, cached on disk, cannot disagree with it).
BLOCK = 1 << 16
#: One particle of a diagonal quadratic with at least this many coordinates takes the one-pass route
#: (_quad_diag_step); below, its bookkeeping costs more than the passes it saves.
ONE_PASS_MIN_DIM = 1024


# ---------------------------------------------------------------------------------------------- the types
# Methods: one float64 array per coefficient (an entry per particle, C-contiguous), flags as bools. The
# products a rule forms from its hyperparameters (1 − μ², lr/2…) are fields too, formed once as numpy
# forms them. FIRST_ORDER: the ledger records no kinetic energy.
class GradientDescentRule(NamedTuple):
    """x ← x − ∇V·lr; D += lr·|∇V|² (the previous step's)."""
    lr: np.ndarray
    FIRST_ORDER = True


class HeavyBallRule(NamedTuple):
    """v ← v·μ + ∇V; x ← x − v·lr; K = fold(v²)·lr/2; D += (1 − μ²)·K (the previous step's)."""
    lr: np.ndarray
    momentum: np.ndarray
    loss: np.ndarray  # 1 − μ²
    half_lr: np.ndarray
    minus_dt: np.ndarray  # the physical momentum is p = v·(−dt)
    FIRST_ORDER = False


class NesterovRule(NamedTuple):
    """As :class:`HeavyBallRule`, with x ← x − (v·μ + ∇V)·lr."""
    lr: np.ndarray
    momentum: np.ndarray
    loss: np.ndarray
    half_lr: np.ndarray
    minus_dt: np.ndarray
    FIRST_ORDER = False


class VelocityVerletRule(NamedTuple):
    """(friction: D += (1 − c²)·K, p ← p·c); p ← p − ∇V·dt/2; x ← x + p·dt/m; evaluate; p ← p − ∇V·dt/2;
    K = fold(p²)·1/(2m); (friction: D += (1 − c²)·K, p ← p·c, K ← K·c²)."""
    damping: np.ndarray  # c
    loss: np.ndarray  # 1 − c²
    keep: np.ndarray  # c²
    half_dt: np.ndarray
    dt_over_m: np.ndarray
    half_inv_m: np.ndarray
    damped: bool
    FIRST_ORDER = False


class ForwardEulerRule(NamedTuple):
    """(friction: D += 2·dt·γ/m·K); x ← x + dt/m·p; p ← p·(1 − dt·γ/m) − dt·∇V; K = 1/(2m)·fold(p²)."""
    dt: np.ndarray
    dt_over_m: np.ndarray
    keep: np.ndarray
    friction_loss: np.ndarray
    half_inv_m: np.ndarray
    damped: bool
    FIRST_ORDER = False


class AdamRule(NamedTuple):
    """Adam (AMSGrad optional, L2 weight decay), P, Q, R = m, v, v̂; S[0] = the step count."""
    lr: np.ndarray
    beta1: np.ndarray
    beta2: np.ndarray
    one_minus_beta1: np.ndarray
    one_minus_beta2: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    decays: bool
    amsgrad: bool
    FIRST_ORDER = True


class RMSpropRule(NamedTuple):
    """RMSprop (centred, momentum, weight decay optional), P, Q, R = buffer, square_avg, grad_avg."""
    lr: np.ndarray
    alpha: np.ndarray
    one_minus_alpha: np.ndarray
    eps: np.ndarray
    momentum: np.ndarray
    weight_decay: np.ndarray
    decays: bool
    centered: bool
    has_buffer: bool
    FIRST_ORDER = True


class AdagradRule(NamedTuple):
    """Adagrad (lr decay, weight decay optional), P = Σg²; S[0] = the step count."""
    lr: np.ndarray
    lr_decay: np.ndarray
    eps: np.ndarray
    weight_decay: np.ndarray
    decays: bool
    FIRST_ORDER = True


class FIRERule(NamedTuple):
    """FIRE, P = v; S = [a, N, started]; DT = each particle's adaptive dt."""
    maxstep: np.ndarray
    dtmax: np.ndarray
    Nmin: np.ndarray
    finc: np.ndarray
    fdec: np.ndarray
    astart: np.ndarray
    fa: np.ndarray
    FIRST_ORDER = False


class NesterovConvexRule(NamedTuple):
    """Su, Boyd & Candès's Nesterov, momentum β_k = (k − 1)/(k + 2), P = p; S[0] = k (the memory's)."""
    lr: np.ndarray
    dt: np.ndarray  # √s
    FIRST_ORDER = False


class RelativisticRule(NamedTuple):
    """Relativistic GD: friction half-flow, kick, drift at speed dt·c/√(|p|² + m²c²), evaluate, kick, half-flow."""
    damping: np.ndarray  # a = exp(−γ·dt/2)
    half_dt: np.ndarray
    dt_c: np.ndarray
    c: np.ndarray
    mc: np.ndarray
    m2c2: np.ndarray
    damped: bool
    FIRST_ORDER = False


#: Hamiltonian descent's kinetic energies (the ``kinetic`` field), in the order of
#: newtonopt.integrators.hamiltonian_descent.KINETIC.
KINETIC_QUADRATIC, KINETIC_RELATIVISTIC, KINETIC_POWER = range(3)


class HamiltonianDescentRule(NamedTuple):
    """Hamiltonian descent: p ← δ·(p − ε·∇V), x ← x + ε·∇k(p), with k quadratic, relativistic or |p|^a/a."""
    dt: np.ndarray  # ε
    damping: np.ndarray  # δ = 1/(1 + γ·ε)
    kinetic: int
    power: float
    FIRST_ORDER = False


class LangevinRule(NamedTuple):
    """BAOAB with the counter-based noise, P = p, Q = ξ (the memory's xi); S[0] = the step (the noise's counter)."""
    half_dt: np.ndarray
    half_dt_over_m: np.ndarray
    damping: np.ndarray  # c = exp(−γ·dt/m)
    sigma: np.ndarray  # √((1 − c²)·m·T)
    half_inv_m: np.ndarray
    keys: np.ndarray  # each particle's stream key (uint64)
    FIRST_ORDER = False


class OverdampedLangevinRule(NamedTuple):
    """Euler–Maruyama, P = ∇V before the step (the memory's grad_old), Q = ξ, R = Δx; S[0] = the step."""
    lr: np.ndarray
    noise_scale: np.ndarray
    keys: np.ndarray
    FIRST_ORDER = True


# Potentials.
class QuadraticDiag(NamedTuple):
    """½·xᵀdiag(A)x + b·x + c (``has_b`` False: no b term, b is zeros)."""
    c: float
    has_b: bool
    b: np.ndarray
    A: np.ndarray


class QuadraticDiagOnePass(NamedTuple):
    """A diagonal quadratic taken in one pass (:func:`_quad_diag_step`): one particle of at least
    ``ONE_PASS_MIN_DIM`` coordinates, a method of ``ONE_PASS_RULES`` (its own kernel, so that no other run
    compiles the one-pass route)."""
    c: float
    has_b: bool
    b: np.ndarray
    A: np.ndarray


class QuadraticDense(NamedTuple):
    """½·xᵀAx + b·x + c, A a (dim, dim) C-contiguous matrix."""
    c: float
    has_b: bool
    b: np.ndarray
    A: np.ndarray


class RosenbrockParams(NamedTuple):
    a: float
    b: float


class HimmelblauParams(NamedTuple):
    dim: int  # no parameter (numba types an empty named tuple poorly): the dimension, 2


class BealeParams(NamedTuple):
    dim: int


class MullerBrownParams(NamedTuple):
    """The four terms' (A, a, b, c, X, Y), flat."""
    terms: np.ndarray


class LennardJonesPairs(NamedTuple):
    """IP = [n_atoms, n_pairs, I (n_pairs), J (n_pairs), pair index (n_atoms²)]."""
    IP: np.ndarray


class DoubleWellParams(NamedTuple):
    barrier: float
    tilt: float
    stiffness: float


class RastriginParams(NamedTuple):
    A: float


class Formula(NamedTuple):
    """A formula's tape: FP = the constants by slot, IP = [n_code, n_out, (op, a, b, ivalue) × n_code, outs]."""
    FP: np.ndarray
    IP: np.ndarray


def _dispatch(stub, table: dict, default=None, inline: str = "always") -> None:
    """Resolve ``stub`` (a plain-Python placeholder) at compile time: the implementation in ``table`` for
    the class of its first argument's named tuple, inlined where it is called (by numba; with
    ``inline="never"`` a call that LLVM may inline)."""
    def typer(*args):
        return table.get(getattr(args[0], "instance_class", None), default)
    overload(stub, inline=inline, jit_options=_JIT_INNER, strict=False)(typer)



# An explicit signature: a lazily compiled _halve was compiled again for each literal lo or n (0) it is
# called with.
@numba.njit("float64(float64[::1], int64, int64)", **_JIT)
def _halve(s, lo, n):
    """The halving fold of ``s[lo:lo + n]`` (destroyed): s[i] += s[i + n//2] for i < n//2, an odd last
    term moves to n//2, until one term is left, at ``s[lo]``."""
    while n > 1:
        h = n // 2
        # The two halves as views indexed from 0: LLVM then knows each index is the loop's own (no negative
        # index to wrap) and vectorizes the loop (benchmarks/bench_backends.py (i): 0.85x -> 0.49x).
        front = s[lo:lo + h]
        back = s[lo + h:lo + 2 * h]
        for i in range(h):
            front[i] = front[i] + back[i]
        if n % 2:
            s[lo + h] = s[lo + 2 * h]
        n = h + n % 2
    return s[lo]


@numba.njit(**_JIT)
def fold(s, n):
    """The sum of ``s[:n]`` (destroyed) in the order of :func:`newtonopt.core.reductions.fold`: the
    halving fold up to ``BLOCK`` terms; beyond, the halving fold of each block of ``BLOCK`` terms, then
    of the block sums (gathered in place at the front: block j's sum goes to s[j], already read)."""
    if n == 0:
        return 0.0
    if n <= BLOCK:
        return _halve(s, 0, n)
    nb = 0
    for lo in range(0, n, BLOCK):
        s[nb] = _halve(s, lo, min(BLOCK, n - lo))
        nb += 1
    return _halve(s, 0, nb)


@numba.njit(**_JIT)
def _exact_power(base, n):
    """``base**n`` by binary exponentiation, as :func:`newtonopt.formula.exact_power`."""
    if abs(n) > MAX_EXACT_POWER:
        return base ** float(n)
    m = abs(n)
    result = 1.0
    have = False
    square = base
    while m:
        if m & 1:
            if have:
                result = result * square
            else:
                result = square
                have = True
        m >>= 1
        if m:
            square = square * square
    if n < 0:
        return 1.0 / result
    return result


@numba.njit(**_JIT)
def _formula(FP, IP, X, G, i, scr):
    """Interpret a formula's tape (value first, then ∂V/∂xₖ) at particle ``i``.

    IP = [n_code, n_out, (op, a, b, ivalue) × n_code, out slots × n_out]; FP = the constants, by slot.
    """
    n_code = IP[0]
    n_out = IP[1]
    for k in range(n_code):
        base = 2 + 4 * k
        op = IP[base]
        a = scr[IP[base + 1]] if IP[base + 1] >= 0 else 0.0
        b = scr[IP[base + 2]] if IP[base + 2] >= 0 else 0.0
        if op == 0:
            r = FP[k]
        elif op == 1:
            r = X[IP[base + 3], i]
        elif op == 2:
            r = a + b
        elif op == 3:
            r = a - b
        elif op == 4:
            r = a * b
        elif op == 5:
            r = a / b
        elif op == 6:
            r = -a
        elif op == 7:
            r = _exact_power(a, IP[base + 3])
        elif op == 8:
            r = a ** b
        elif op == 9:
            r = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else (0.0 if a == 0.0 else a))
        elif op == 10:
            r = math.exp(a)
        elif op == 11:
            r = np.log(a)
        elif op == 12:
            r = math.sqrt(a)
        elif op == 13:
            r = math.sin(a)
        elif op == 14:
            r = math.cos(a)
        elif op == 15:
            r = math.tan(a)
        elif op == 16:
            r = math.sinh(a)
        elif op == 17:
            r = math.cosh(a)
        elif op == 18:
            r = math.tanh(a)
        elif op == 19:
            r = np.arcsin(a)
        elif op == 20:
            r = np.arccos(a)
        elif op == 21:
            r = math.atan(a)
        else:
            r = abs(a)
        scr[k] = r
    out = 2 + 4 * n_code
    for d in range(1, n_out):
        G[d - 1, i] = scr[IP[out + d]]
    return scr[IP[out]]


@numba.njit(**_JIT)
def _lennard_jones(IP, X, G, i, scr):
    """Lennard-Jones at particle ``i``, as numpy's ``LennardJones._value_and_gradient``."""
    # IP = [n_atoms, n_pairs, I (n_pairs), J (n_pairs), pair index (n_atoms²)]; scratch: V terms,
    # then the pair forces (3 per pair), then an atom's n − 1 terms.
    n_atoms = IP[0]
    n_pairs = IP[1]
    f0 = n_pairs
    t0 = 4 * n_pairs
    for p in range(n_pairs):
        ia = 3 * IP[2 + p]
        ja = 3 * IP[2 + n_pairs + p]
        d0 = X[ia, i] - X[ja, i]
        d1 = X[ia + 1, i] - X[ja + 1, i]
        d2 = X[ia + 2, i] - X[ja + 2, i]
        r2 = (d0 * d0 + d1 * d1) + d2 * d2  # the fold of three terms
        inv6 = 1.0 / (r2 * r2 * r2)
        scr[p] = 4.0 * (inv6 * inv6 - inv6)
        coef = -24.0 * (2.0 * inv6 * inv6 - inv6) / r2
        scr[f0 + 3 * p] = coef * d0
        scr[f0 + 3 * p + 1] = coef * d1
        scr[f0 + 3 * p + 2] = coef * d2
    pairs = 2 + 2 * n_pairs
    for atom in range(n_atoms):
        for comp in range(3):
            m = 0
            for other in range(n_atoms):
                if other != atom:
                    f = scr[f0 + 3 * IP[pairs + atom * n_atoms + other] + comp]
                    scr[t0 + m] = f if other > atom else -f
                    m += 1
            G[3 * atom + comp, i] = fold(scr[t0:], n_atoms - 1)
    return fold(scr, n_pairs)


# ---------------------------------------------------------------------------------------------- potentials
# evaluate(pot, X, G, i, scr): V at particle i of X (shape (dim, n)); ∇V written to G[:, i]; scr is scratch.
def evaluate(pot, X, G, i, scr):
    """V at particle ``i`` of ``X``, ∇V into ``G[:, i]`` (compiled: the formula of ``pot``'s class)."""
    raise NotImplementedError("compiled only")


@numba.njit(inline='always', **_JIT)
def _quadratic_tail(pot, X, G, i, scr):
    # Numpy: out = A·x (x·A when dense, each sum folded), V = ½·fold(x·out), V += fold(x·b), out += b, V + c if c.
    dim = X.shape[0]
    if dim == 2:  # the plane's sums written out (fold's order: s₀ + s₁), without fold's call
        value = 0.5 * (X[0, i] * G[0, i] + X[1, i] * G[1, i])
    else:
        for k in range(dim):
            scr[k] = X[k, i] * G[k, i]
        value = 0.5 * fold(scr, dim)
    if pot.has_b:
        if dim == 2:
            value += X[0, i] * pot.b[0] + X[1, i] * pot.b[1]
        else:
            for k in range(dim):
                scr[k] = X[k, i] * pot.b[k]
            value += fold(scr, dim)
        for k in range(dim):
            G[k, i] = G[k, i] + pot.b[k]
    if pot.c != 0.0:
        return value + pot.c
    return value


def _quadratic_diag(pot, X, G, i, scr):
    for k in range(X.shape[0]):
        G[k, i] = X[k, i] * pot.A[k]
    return _quadratic_tail(pot, X, G, i, scr)


def _quadratic_dense(pot, X, G, i, scr):
    dim = X.shape[0]
    for j in range(dim):
        for k in range(dim):
            scr[k] = X[k, i] * pot.A[k, j]
        G[j, i] = fold(scr, dim)
    return _quadratic_tail(pot, X, G, i, scr)


def _rosenbrock(pot, X, G, i, scr):
    dim = X.shape[0]
    a = pot.a
    b = pot.b
    if dim == 2:
        x0 = X[0, i]
        x1 = X[1, i]
        r = x1 - x0 * x0
        s = a - x0
        G[1, i] = (2.0 * b) * r
        G[0, i] = -2.0 * s - (4.0 * b) * x0 * r
        return b * r * r + s * s
    G[dim - 1, i] = 0.0
    for k in range(dim - 1):
        head = X[k, i]
        r = X[k + 1, i] - head * head
        s = a - head
        G[k, i] = -2.0 * s - (4.0 * b) * head * r
        scr[k] = b * r * r + s * s
    for k in range(1, dim):  # out[..., 1:] += (2b)·r, after the heads are written
        head = X[k - 1, i]
        r = X[k, i] - head * head
        G[k, i] = G[k, i] + (2.0 * b) * r
    return fold(scr, dim - 1)


def _himmelblau(pot, X, G, i, scr):
    x0 = X[0, i]
    x1 = X[1, i]
    u = x0 * x0 + x1 - 11.0
    v = x0 + x1 * x1 - 7.0
    G[0, i] = 4.0 * u * x0 + 2.0 * v
    G[1, i] = 2.0 * u + 4.0 * v * x1
    return u * u + v * v


def _beale(pot, X, G, i, scr):
    x0 = X[0, i]
    x1 = X[1, i]
    value = 0.0
    gx = 0.0
    gy = 0.0
    yk = 1.0
    for k in range(1, 4):
        c = 1.5 if k == 1 else (2.25 if k == 2 else 2.625)
        ykk = yk * x1
        r = c - x0 + x0 * ykk
        value = value + r * r
        gx = gx + 2.0 * r * (ykk - 1.0)
        gy = gy + 2.0 * r * (float(k) * x0 * yk)
        yk = ykk
    G[0, i] = gx
    G[1, i] = gy
    return value


def _muller_brown(pot, X, G, i, scr):
    # The four terms as numpy's MullerBrown writes them (one formula for a particle alone and an ensemble).
    FP = pot.terms
    x0 = X[0, i]
    x1 = X[1, i]
    value = 0.0
    gx = 0.0
    gy = 0.0
    for k in range(4):
        A = FP[6 * k]
        a = FP[6 * k + 1]
        b = FP[6 * k + 2]
        c = FP[6 * k + 3]
        dx = x0 - FP[6 * k + 4]
        dy = x1 - FP[6 * k + 5]
        e = A * math.exp(a * dx * dx + b * dx * dy + c * dy * dy)
        value = value + e
        gx = gx + e * (2.0 * a * dx + b * dy)
        gy = gy + e * (b * dx + 2.0 * c * dy)
    G[0, i] = gx
    G[1, i] = gy
    return value


def _lennard_jones_pairs(pot, X, G, i, scr):
    return _lennard_jones(pot.IP, X, G, i, scr)


def _double_well(pot, X, G, i, scr):
    h = pot.barrier
    t = pot.tilt
    k = pot.stiffness
    x0 = X[0, i]
    x1 = X[1, i]
    s = x0 * x0 - 1.0
    G[0, i] = (4.0 * h) * x0 * s + t
    G[1, i] = x1 * k
    return h * s * s + t * x0 + (0.5 * k) * x1 * x1


def _rastrigin(pot, X, G, i, scr):
    dim = X.shape[0]
    A = pot.A
    two_pi = 2.0 * np.pi
    for k in range(dim):
        x = X[k, i]
        phase = two_pi * X[k, i]
        G[k, i] = math.sin(phase) * (two_pi * A) + 2.0 * x
        scr[k] = x * x - A * math.cos(phase)
    return A * dim + fold(scr, dim)


def _formula_tape(pot, X, G, i, scr):
    return _formula(pot.FP, pot.IP, X, G, i, scr)


_dispatch(evaluate, {QuadraticDiag: _quadratic_diag, QuadraticDiagOnePass: _quadratic_diag,
                     QuadraticDense: _quadratic_dense, RosenbrockParams: _rosenbrock,
                     HimmelblauParams: _himmelblau, BealeParams: _beale, MullerBrownParams: _muller_brown,
                     LennardJonesPairs: _lennard_jones_pairs, DoubleWellParams: _double_well,
                     RastriginParams: _rastrigin, Formula: _formula_tape})


# ---------------------------------------------------------------------------------------------- helpers
@numba.njit(inline='always', **_JIT)
def _square_fold(Y, i, scr):
    """fold(y²) over the coordinates of particle ``i``: |∇V|², |v|², |p|² as the numpy ledger sums them."""
    dim = Y.shape[0]
    if dim == 2:  # fold's order for two terms, without its call (every step of every 2-D run makes this sum)
        return Y[0, i] * Y[0, i] + Y[1, i] * Y[1, i]
    for k in range(dim):
        scr[k] = Y[k, i] * Y[k, i]
    return fold(scr, dim)


@numba.njit(**_JIT)
def _maximum(a, b):
    """numpy's ``maximum`` of two floats: a NaN wins, and ``a`` when they compare equal."""
    return a if (a >= b or a != a) else b


@numba.njit(**_JIT)
def _minimum(a, b):
    """numpy's ``minimum`` of two floats: a NaN wins, and ``a`` when they compare equal."""
    return a if (a <= b or a != a) else b


@numba.njit(**_JIT)
def _integer_power(base, n):
    """``base**n`` for n ≥ 0 as :func:`newtonopt.core.elementary.integer_power`: the same products."""
    result = 1.0
    square = base
    while n:
        if n & 1:
            result = result * square
        n >>= 1
        if n:
            square = square * square
    return result


# newtonopt.core.elementary's exp and ln (+ − × ÷ and exact scalings, the same bits on every CPU), one float.
# Their constants are formed here as there (numba's disk cache is keyed on this file alone; numba_backend
# checks them against elementary's at import).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT_HALF = math.sqrt(0.5)
_ATANH = tuple(1.0 / (2 * k + 1) for k in range(13))
_EXP = tuple(1.0 / math.factorial(k) for k in range(18))
_INV_LN2 = 1.0 / math.log(2.0)


@numba.njit(**_JIT)
def _ln(x):
    """:func:`newtonopt.core.elementary.ln` (x > 0 finite)."""
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m = m * 2.0
        e = e - 1
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = _ATANH[len(_ATANH) - 1]
    for j in range(len(_ATANH) - 2, -1, -1):
        p = p * t2 + _ATANH[j]
    return (p * t * 2.0 + e * _LN2_LO) + e * _LN2_HI


@numba.njit(**_JIT)
def _exp(x):
    """:func:`newtonopt.core.elementary.exp` of one float."""
    if x != x:
        return x
    if x == -np.inf:
        return 0.0
    if x == np.inf:
        return np.inf
    k = np.rint(min(max(x, -1100.0), 1100.0) * _INV_LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = _EXP[len(_EXP) - 1]
    for j in range(len(_EXP) - 2, -1, -1):
        p = p * r + _EXP[j]
    return math.ldexp(p, int(k))


# ---------------------------------------------------------------------------------------------- the rules
# rule_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr): the ledger's term that uses the previous step, then
# the rule up to the evaluation, for particle i. rule_after(c, X, G, P, Q, R, K, D, i, scr): after the evaluation.
# Each line is the method's ``update`` (newtonopt/integrators/*.py) for one coordinate, node by node as
# :class:`newtonopt.core.expressions.NumpyEvaluator` evaluates it: each product is formed and then added, as
# numpy's ``delta = a·b; y ← y ± delta`` does; ``g`` is ∇V + λ·x when the method decays weights
# (``decayed_gradient``), and ``move_and_book`` is D −= fold(∇V·Δx), x += Δx.
def rule_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    """The rule of ``c``'s method up to the evaluation (compiled: resolved from ``c``'s class)."""
    raise NotImplementedError("compiled only")


def rule_after(c, X, G, P, Q, R, K, D, i, scr):
    """The rule of ``c``'s method after the evaluation (compiled: resolved from ``c``'s class)."""
    raise NotImplementedError("compiled only")


def _ledger(c, K, D, GSQ, i):
    """The ledger's term that uses the previous step, of the methods with a one-pass quadratic route."""
    raise NotImplementedError("compiled only")


def _gd_ledger(c, K, D, GSQ, i):
    D[i] = D[i] + c.lr[i] * GSQ[i]


def _hb_ledger(c, K, D, GSQ, i):
    D[i] = D[i] + c.loss[i] * K[i]


def _verlet_ledger(c, K, D, GSQ, i):
    if c.damped:
        D[i] = D[i] + c.loss[i] * K[i]


def _gd_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    D[i] = D[i] + c.lr[i] * GSQ[i]
    lr = c.lr[i]
    for k in range(X.shape[0]):
        X[k, i] = X[k, i] - G[k, i] * lr


def _heavy_ball_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    D[i] = D[i] + c.loss[i] * K[i]
    lr = c.lr[i]
    mu = c.momentum[i]
    for k in range(X.shape[0]):
        v = P[k, i] * mu + G[k, i]
        P[k, i] = v
        X[k, i] = X[k, i] - v * lr
    K[i] = _square_fold(P, i, scr) * c.half_lr[i]


def _nesterov_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    D[i] = D[i] + c.loss[i] * K[i]
    lr = c.lr[i]
    mu = c.momentum[i]
    for k in range(X.shape[0]):
        v = P[k, i] * mu + G[k, i]
        P[k, i] = v
        X[k, i] = X[k, i] - (v * mu + G[k, i]) * lr
    K[i] = _square_fold(P, i, scr) * c.half_lr[i]


def _verlet_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    damping = c.damping[i]
    if c.damped:
        D[i] = D[i] + c.loss[i] * K[i]
    half_dt = c.half_dt[i]
    dt_over_m = c.dt_over_m[i]
    for k in range(X.shape[0]):
        p = P[k, i]
        if c.damped:
            p = p * damping
        p = p - G[k, i] * half_dt
        P[k, i] = p
        X[k, i] = X[k, i] + p * dt_over_m


def _verlet_after(c, X, G, P, Q, R, K, D, i, scr):
    dim = X.shape[0]
    half_dt = c.half_dt[i]
    for k in range(dim):  # the second half kick
        P[k, i] = P[k, i] - G[k, i] * half_dt
    K[i] = _square_fold(P, i, scr) * c.half_inv_m[i]
    if c.damped:
        D[i] = D[i] + c.loss[i] * K[i]
        damping = c.damping[i]
        for k in range(dim):
            P[k, i] = P[k, i] * damping
        K[i] = K[i] * c.keep[i]


def _forward_euler_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    if c.damped:
        D[i] = D[i] + c.friction_loss[i] * K[i]
    dt = c.dt[i]
    dt_over_m = c.dt_over_m[i]
    keep = c.keep[i]
    for k in range(X.shape[0]):
        p = P[k, i]
        X[k, i] = X[k, i] + dt_over_m * p
        p = p * keep
        P[k, i] = p - dt * G[k, i]


def _forward_euler_after(c, X, G, P, Q, R, K, D, i, scr):
    K[i] = c.half_inv_m[i] * _square_fold(P, i, scr)


def _adam_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    dim = X.shape[0]
    beta1 = c.beta1[i]
    beta2 = c.beta2[i]
    one_minus_beta1 = c.one_minus_beta1[i]
    one_minus_beta2 = c.one_minus_beta2[i]
    eps = c.eps[i]
    wd = c.weight_decay[i]
    count = S[0, i] + 1.0
    S[0, i] = count
    n = int(count)
    step_size = c.lr[i] / (1.0 - _integer_power(beta1, n))
    root_correction = math.sqrt(1.0 - _integer_power(beta2, n))
    neg = -step_size
    for k in range(dim):
        gk = G[k, i]
        if c.decays:
            gk = gk + wd * X[k, i]
        m = P[k, i]
        m = m + one_minus_beta1 * (gk - m)
        P[k, i] = m
        v = beta2 * Q[k, i] + one_minus_beta2 * (gk * gk)
        Q[k, i] = v
        if c.amsgrad:
            v = _maximum(R[k, i], v)
            R[k, i] = v
        dx = neg * (m / (math.sqrt(v) / root_correction + eps))
        scr[k] = G[k, i] * dx
        X[k, i] = X[k, i] + dx
    D[i] = D[i] - fold(scr, dim)  # move_and_book: the force's work along the step, −∇V·Δx


def _rmsprop_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    dim = X.shape[0]
    alpha = c.alpha[i]
    one_minus_alpha = c.one_minus_alpha[i]
    eps = c.eps[i]
    mu = c.momentum[i]
    wd = c.weight_decay[i]
    neg = -c.lr[i]
    for k in range(dim):
        gk = G[k, i]
        if c.decays:
            gk = gk + wd * X[k, i]
        sq = alpha * Q[k, i] + one_minus_alpha * (gk * gk)
        Q[k, i] = sq
        if c.centered:
            ga = R[k, i]
            ga = ga + one_minus_alpha * (gk - ga)
            R[k, i] = ga
            denominator = math.sqrt(sq - ga * ga) + eps
        else:
            denominator = math.sqrt(sq) + eps
        if c.has_buffer:
            b = mu * P[k, i] + gk / denominator
            P[k, i] = b
            dx = neg * b
        else:
            dx = neg * (gk / denominator)
        scr[k] = G[k, i] * dx
        X[k, i] = X[k, i] + dx
    D[i] = D[i] - fold(scr, dim)


def _adagrad_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    dim = X.shape[0]
    eps = c.eps[i]
    wd = c.weight_decay[i]
    count = S[0, i] + 1.0
    S[0, i] = count
    clr = c.lr[i] / (1.0 + (count - 1.0) * c.lr_decay[i])
    neg = -clr
    for k in range(dim):
        gk = G[k, i]
        if c.decays:
            gk = gk + wd * X[k, i]
        total = P[k, i] + gk * gk
        P[k, i] = total
        dx = neg * (gk / (math.sqrt(total) + eps))
        scr[k] = G[k, i] * dx
        X[k, i] = X[k, i] + dx
    D[i] = D[i] - fold(scr, dim)


def _fire_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    """FIRE's mixing, adaptation, kick and capped drift (as ``FIRE.update``)."""
    dim = X.shape[0]
    maxstep = c.maxstep[i]
    a = S[0, i]
    dt = DT[i]
    if S[2, i] != 0.0:  # not the first step
        for k in range(dim):
            scr[k] = G[k, i] * P[k, i]
        power = -fold(scr, dim)
        f2 = _square_fold(G, i, scr)
        v2 = _square_fold(P, i, scr)
        downhill = power > 0.0
        if downhill:
            steer = a * math.sqrt(v2) / math.sqrt(f2 if f2 > 0 else 1.0)
            keep = 1.0 - a
        else:
            steer = 0.0
            keep = 0.0
        for k in range(dim):
            P[k, i] = keep * P[k, i] - steer * G[k, i]
        D[i] = D[i] + 0.5 * (v2 - _square_fold(P, i, scr))
        n = S[1, i]
        if downhill and n > c.Nmin[i]:
            dt = _minimum(dt * c.finc[i], c.dtmax[i])
            a = a * c.fa[i]
        elif not downhill:
            dt = dt * c.fdec[i]
            a = c.astart[i]
        S[1, i] = n + 1.0 if downhill else 0.0
        S[0, i] = a
        DT[i] = dt
    S[2, i] = 1.0
    for k in range(dim):
        v = P[k, i] - dt * G[k, i]
        P[k, i] = v
        d = dt * v
        scr[k] = d * d
    length = math.sqrt(fold(scr, dim))
    factor = maxstep / (length if length > 0 else 1.0) if length > maxstep else 1.0
    for k in range(dim):
        X[k, i] = X[k, i] + (dt * P[k, i]) * factor


def _fire_after(c, X, G, P, Q, R, K, D, i, scr):
    K[i] = 0.5 * _square_fold(P, i, scr)


def _nesterov_convex_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    # NesterovConvex.update: x ← x − (β_k·√s)·p; D += (1 − β_k²)·K; p ← p·β_k; p ← p − √s·∇V;
    # x ← x + ((1 + β_{k+1})·√s)·p; K = ½·fold(p²); k ← k + 1.
    k = int(S[0, i])
    beta = max(k - 1, 0) / (k + 2)
    beta_next = max(k, 0) / (k + 3)
    dt = c.dt[i]
    back = beta * dt
    ahead = (1.0 + beta_next) * dt
    D[i] = D[i] + (1.0 - beta * beta) * K[i]
    for j in range(X.shape[0]):
        p = P[j, i]
        X[j, i] = X[j, i] - back * p
        p = p * beta
        p = p - dt * G[j, i]
        P[j, i] = p
        X[j, i] = X[j, i] + ahead * p
    K[i] = 0.5 * _square_fold(P, i, scr)
    S[0, i] = k + 1.0


@numba.njit(inline='always', **_JIT)
def _relativistic_kinetic(p_sq, c, mc):
    """relativistic.relativistic_kinetic: c·|p|²/(√(|p|² + m²c²) + m·c)."""
    return c * p_sq / (math.sqrt(p_sq + mc * mc) + mc)


def _relativistic_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    dim = X.shape[0]
    a = c.damping[i]
    light = c.c[i]
    mc = c.mc[i]
    half_dt = c.half_dt[i]
    if c.damped:  # half the friction flow: p ← a·p removes K(p) − K(a·p)
        p_sq = _square_fold(P, i, scr)
        D[i] = D[i] + (K[i] - _relativistic_kinetic(a * a * p_sq, light, mc))
        for k in range(dim):
            P[k, i] = P[k, i] * a
    for k in range(dim):  # kick
        P[k, i] = P[k, i] - half_dt * G[k, i]
    speed = c.dt_c[i] / math.sqrt(_square_fold(P, i, scr) + c.m2c2[i])
    for k in range(dim):  # drift
        X[k, i] = X[k, i] + speed * P[k, i]


def _relativistic_after(c, X, G, P, Q, R, K, D, i, scr):
    dim = X.shape[0]
    half_dt = c.half_dt[i]
    for k in range(dim):  # kick
        P[k, i] = P[k, i] - half_dt * G[k, i]
    p_sq = _square_fold(P, i, scr)
    light = c.c[i]
    mc = c.mc[i]
    K[i] = _relativistic_kinetic(p_sq, light, mc)
    if c.damped:  # the other half of the friction flow
        a = c.damping[i]
        after = _relativistic_kinetic(a * a * p_sq, light, mc)
        D[i] = D[i] + (K[i] - after)
        for k in range(dim):
            P[k, i] = P[k, i] * a
        K[i] = after


@numba.njit(**_JIT)
def _power_of_sq(p_sq, exponent):
    """hamiltonian_descent._power_of_sq: (|p|²)^exponent by exp and ln, 0 where |p|² is not > 0."""
    return _exp(exponent * _ln(p_sq)) if p_sq > 0 else 0.0


@numba.njit(**_JIT)
def _hd_kinetic(kind, p_sq, power):
    """hamiltonian_descent.kinetic_energy: |p|²/2, |p|²/(√(|p|² + 1) + 1) or (|p|²)^(a/2)/a."""
    if kind == KINETIC_QUADRATIC:
        return 0.5 * p_sq
    if kind == KINETIC_RELATIVISTIC:
        return p_sq / (math.sqrt(p_sq + 1.0) + 1.0)
    return _power_of_sq(p_sq, 0.5 * power) / power


@numba.njit(**_JIT)
def _hd_slope(kind, p_sq, power):
    """hamiltonian_descent.kinetic_slope: ∇k(p) = slope·p."""
    if kind == KINETIC_QUADRATIC:
        return 1.0
    if kind == KINETIC_RELATIVISTIC:
        return 1.0 / math.sqrt(p_sq + 1.0)
    return _power_of_sq(p_sq, 0.5 * (power - 2.0))


def _hamiltonian_descent_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    # HamiltonianDescent.update: p ← p − ε·∇V; D += k(p) − k(δ·p) (from |p|² and δ²·|p|²); p ← p·δ;
    # K = k(δ·p); x ← x + (ε·slope)·p.
    dim = X.shape[0]
    dt = c.dt[i]
    delta = c.damping[i]
    for k in range(dim):
        P[k, i] = P[k, i] - dt * G[k, i]
    p_sq = _square_fold(P, i, scr)
    damped_sq = delta * delta * p_sq
    after = _hd_kinetic(c.kinetic, damped_sq, c.power)
    D[i] = D[i] + (_hd_kinetic(c.kinetic, p_sq, c.power) - after)
    for k in range(dim):
        P[k, i] = P[k, i] * delta
    K[i] = after
    step = dt * _hd_slope(c.kinetic, damped_sq, c.power)
    for k in range(dim):
        X[k, i] = X[k, i] + step * P[k, i]


def _langevin_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    # Langevin.update (BAOAB): B, A, then O: p ← c·p + σ·ξ with ξ the step's normals, D += K_before, D −= K; A.
    dim = X.shape[0]
    half_dt = c.half_dt[i]
    half_dt_over_m = c.half_dt_over_m[i]
    for k in range(dim):
        p = P[k, i] - half_dt * G[k, i]
        P[k, i] = p
        X[k, i] = X[k, i] + half_dt_over_m * p
    kinetic_before = c.half_inv_m[i] * _square_fold(P, i, scr)
    step = S[0, i]
    _noise.fill_column(c.keys[i], np.int64(step), Q, i)
    S[0, i] = step + 1.0
    damping = c.damping[i]
    sigma = c.sigma[i]
    for k in range(dim):
        P[k, i] = P[k, i] * damping + sigma * Q[k, i]
    K[i] = c.half_inv_m[i] * _square_fold(P, i, scr)
    D[i] = D[i] + kinetic_before
    D[i] = D[i] - K[i]
    for k in range(dim):
        X[k, i] = X[k, i] + half_dt_over_m * P[k, i]


def _langevin_after(c, X, G, P, Q, R, K, D, i, scr):
    half_dt = c.half_dt[i]
    for k in range(X.shape[0]):  # B
        P[k, i] = P[k, i] - half_dt * G[k, i]
    K[i] = c.half_inv_m[i] * _square_fold(P, i, scr)


def _overdamped_langevin_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr):
    # OverdampedLangevin.update: ∇V_old ← ∇V; Δx = √(2·lr·T)·ξ − lr·∇V; x ← x + Δx.
    step = S[0, i]
    _noise.fill_column(c.keys[i], np.int64(step), Q, i)
    S[0, i] = step + 1.0
    lr = c.lr[i]
    scale = c.noise_scale[i]
    for k in range(X.shape[0]):
        g = G[k, i]
        P[k, i] = g
        dx = scale * Q[k, i] - lr * g
        R[k, i] = dx
        X[k, i] = X[k, i] + dx


def _overdamped_langevin_after(c, X, G, P, Q, R, K, D, i, scr):
    # The heat: D += −½·fold((∇V_old + ∇V)·Δx).
    for k in range(X.shape[0]):
        g = P[k, i] + G[k, i]
        P[k, i] = g
        scr[k] = g * R[k, i]
    D[i] = D[i] + -0.5 * fold(scr, X.shape[0])


def _nothing_after(c, X, G, P, Q, R, K, D, i, scr):
    pass


def _recorded_p(c, P, d, i):
    """The momentum the record keeps (compiled: resolved from ``c``'s class)."""
    raise NotImplementedError("compiled only")


def _p_as_is(c, P, d, i):  # Verlet's, Forward Euler's p and FIRE's v as they are
    return P[d, i]


def _p_of_velocity(c, P, d, i):  # the heavy ball's physical momentum p = v·(−dt)
    return P[d, i] * c.minus_dt[i]


def _first_order(c):
    """True when the record keeps no kinetic energy (compiled: a constant of ``c``'s class)."""
    raise NotImplementedError("compiled only")


@overload(_first_order, inline="always", jit_options=_JIT)
def _ov_first_order(c):
    if c.instance_class.FIRST_ORDER:
        return lambda c: True
    return lambda c: False


_dispatch(rule_before, {GradientDescentRule: _gd_before, HeavyBallRule: _heavy_ball_before,
                        NesterovRule: _nesterov_before, VelocityVerletRule: _verlet_before,
                        ForwardEulerRule: _forward_euler_before, AdamRule: _adam_before, RMSpropRule: _rmsprop_before,
                        AdagradRule: _adagrad_before, FIRERule: _fire_before,
                        NesterovConvexRule: _nesterov_convex_before, RelativisticRule: _relativistic_before,
                        HamiltonianDescentRule: _hamiltonian_descent_before, LangevinRule: _langevin_before,
                        OverdampedLangevinRule: _overdamped_langevin_before})
_dispatch(rule_after, {VelocityVerletRule: _verlet_after, ForwardEulerRule: _forward_euler_after,
                       FIRERule: _fire_after, RelativisticRule: _relativistic_after, LangevinRule: _langevin_after,
                       OverdampedLangevinRule: _overdamped_langevin_after}, _nothing_after)
_dispatch(_ledger, {GradientDescentRule: _gd_ledger, HeavyBallRule: _hb_ledger, NesterovRule: _hb_ledger,
                    VelocityVerletRule: _verlet_ledger})
_dispatch(_recorded_p, {HeavyBallRule: _p_of_velocity, NesterovRule: _p_of_velocity}, _p_as_is)


# ---------------------------------------------------------------------------------------------- one step
#: The methods whose every coordinate's update depends on that coordinate alone (and on nothing
#: summed), so that a diagonal quadratic's step is one pass (:func:`_quad_diag_step`).
ONE_PASS_RULES = (GradientDescentRule, HeavyBallRule, NesterovRule, VelocityVerletRule)


def _one_pass(c, pot, X, G, P, V, K, D, GSQ, i, scr):
    """Take the step in one pass when the pair allows it (see :func:`_quad_diag_step`) and return True, else
    False (compiled: a constant False for every other pair)."""
    raise NotImplementedError("compiled only")


def _no_one_pass(c, pot, X, G, P, V, K, D, GSQ, i, scr):
    return False


def _quadratic_diag_one_pass(c, pot, X, G, P, V, K, D, GSQ, i, scr):
    dim = X.shape[0]
    if X.shape[1] == 1 and dim >= ONE_PASS_MIN_DIM:  # separable: one pass, by blocks
        # one particle: contiguous 1-D views (no copy). (Ensembles take the general route: a second
        # specialization for strided columns would double this part's compile time.)
        _ledger(c, K, D, GSQ, i)
        V[i] = _quad_diag_step(c, pot, X.reshape(dim), G.reshape(dim), P.reshape(P.size), K, D, GSQ, i, scr)
        return True
    return False


@overload(_one_pass, inline="always", jit_options=_JIT)
def _ov_one_pass(c, pot, X, G, P, V, K, D, GSQ, i, scr):
    if pot.instance_class is QuadraticDiagOnePass and c.instance_class in ONE_PASS_RULES:
        return _quadratic_diag_one_pass
    return _no_one_pass


@numba.njit(inline='always', **_JIT)
def _step(c, pot, X, G, P, Q, R, S, DT, V, K, D, GSQ, i, scr):
    """One step of ``c``'s method for particle ``i``: its rule, one evaluation, the ledger (K, D, |∇V|²)."""
    if _one_pass(c, pot, X, G, P, V, K, D, GSQ, i, scr):
        return
    rule_before(c, X, G, P, Q, R, S, DT, K, D, GSQ, i, scr)
    V[i] = evaluate(pot, X, G, i, scr)
    rule_after(c, X, G, P, Q, R, K, D, i, scr)
    GSQ[i] = _square_fold(G, i, scr)


# ---------------------------------------------------------------------------------------------- the one-pass route
# _qd_coordinate(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k): coordinate k's step on a
# diagonal quadratic: the rule, the gradient, then the terms of the four sums (x·∇V before b is added, x·b,
# p² — or v² — and ∇V²), each operation as in the separate passes.
def _qd_coordinate(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k):
    raise NotImplementedError("compiled only")


@numba.njit(inline='always', **_JIT)
def _qd_gradient(has_b, A, b, xk, k):
    gk = xk * A[k]
    xg = xk * gk
    xb = 0.0
    if has_b:
        bk = b[k]
        xb = xk * bk
        gk = gk + bk
    return gk, xg, xb


def _qd_gd(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k):
    xk = x[k] - g[k] * lr
    x[k] = xk
    gk, xg, xb = _qd_gradient(has_b, A, b, xk, k)
    g[k] = gk
    return xg, xb, 0.0, gk * gk


def _qd_heavy_ball(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k):
    v = p[k] * mu + g[k]
    p[k] = v
    xk = x[k] - v * lr
    x[k] = xk
    gk, xg, xb = _qd_gradient(has_b, A, b, xk, k)
    g[k] = gk
    return xg, xb, v * v, gk * gk


def _qd_nesterov(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k):
    v = p[k] * mu + g[k]
    p[k] = v
    xk = x[k] - (v * mu + g[k]) * lr
    x[k] = xk
    gk, xg, xb = _qd_gradient(has_b, A, b, xk, k)
    g[k] = gk
    return xg, xb, v * v, gk * gk


def _qd_verlet(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, k):
    v = p[k]
    if c.damped:
        v = v * damping
    v = v - g[k] * half_dt
    xk = x[k] + v * dt_over_m
    x[k] = xk
    gk, xg, xb = _qd_gradient(has_b, A, b, xk, k)
    g[k] = gk
    v = v - gk * half_dt
    pp = v * v
    if c.damped:
        v = v * damping
    p[k] = v
    return xg, xb, pp, gk * gk


# (inline="never": numba's inlining of these into _qd_pairs' loops lost track of variables assigned in a
# branch, NumbaIRAssumptionWarning; LLVM inlines them.)
_dispatch(_qd_coordinate, {GradientDescentRule: _qd_gd, HeavyBallRule: _qd_heavy_ball, NesterovRule: _qd_nesterov,
                           VelocityVerletRule: _qd_verlet}, inline="never")


def _qd_coefficients(c, i):
    """(lr, μ, c, dt/2, dt/m) of particle ``i``, zeros where the method has none."""
    raise NotImplementedError("compiled only")


def _qd_coefficients_gd(c, i):
    return c.lr[i], 0.0, 0.0, 0.0, 0.0


def _qd_coefficients_momentum(c, i):
    return c.lr[i], c.momentum[i], 0.0, 0.0, 0.0


def _qd_coefficients_verlet(c, i):
    return 0.0, 0.0, c.damping[i], c.half_dt[i], c.dt_over_m[i]


def _qd_kinetic(c, pp, K, D, i):
    """The ledger's kinetic terms from the folded p² (or v²) ``pp``."""
    raise NotImplementedError("compiled only")


def _qd_kinetic_gd(c, pp, K, D, i):
    pass


def _qd_kinetic_momentum(c, pp, K, D, i):
    K[i] = pp * c.half_lr[i]


def _qd_kinetic_verlet(c, pp, K, D, i):
    K[i] = pp * c.half_inv_m[i]
    if c.damped:
        D[i] = D[i] + c.loss[i] * K[i]
        K[i] = K[i] * c.keep[i]


_dispatch(_qd_coefficients, {GradientDescentRule: _qd_coefficients_gd, HeavyBallRule: _qd_coefficients_momentum,
                             NesterovRule: _qd_coefficients_momentum, VelocityVerletRule: _qd_coefficients_verlet})
_dispatch(_qd_kinetic, {GradientDescentRule: _qd_kinetic_gd, HeavyBallRule: _qd_kinetic_momentum,
                        NesterovRule: _qd_kinetic_momentum, VelocityVerletRule: _qd_kinetic_verlet})


@numba.njit(**_JIT)
def _qd_pairs(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, lo, h, scr, r):
    """Coordinates lo + q and lo + q + h for q < h, their four terms added pairwise into ``scr``'s four
    regions of ``r`` places (the fold's first level). One loop with b and one without, so that each loop
    body is branch-free."""
    # Each half of the block as its own views indexed from 0 (as in _halve: LLVM vectorizes what it would
    # otherwise leave scalar for fear of a negative index).
    A1, A2 = A[lo:lo + h], A[lo + h:lo + 2 * h]
    x1, x2 = x[lo:lo + h], x[lo + h:lo + 2 * h]
    g1, g2 = g[lo:lo + h], g[lo + h:lo + 2 * h]
    p1, p2 = (p[lo:lo + h], p[lo + h:lo + 2 * h]) if p.shape[0] > 0 else (p, p)
    sxg, sxb, spp, sgg = scr[:h], scr[r:r + h], scr[2 * r:2 * r + h], scr[3 * r:3 * r + h]
    if has_b:
        b1, b2 = b[lo:lo + h], b[lo + h:lo + 2 * h]
        for q in range(h):
            t1, u1, v1, w1 = _qd_coordinate(c, True, A1, b1, x1, g1, p1, lr, mu, damping, half_dt, dt_over_m, q)
            t2, u2, v2, w2 = _qd_coordinate(c, True, A2, b2, x2, g2, p2, lr, mu, damping, half_dt, dt_over_m, q)
            sxg[q] = t1 + t2
            sxb[q] = u1 + u2
            spp[q] = v1 + v2
            sgg[q] = w1 + w2
    else:
        for q in range(h):
            t1, u1, v1, w1 = _qd_coordinate(c, False, A1, b, x1, g1, p1, lr, mu, damping, half_dt, dt_over_m, q)
            t2, u2, v2, w2 = _qd_coordinate(c, False, A2, b, x2, g2, p2, lr, mu, damping, half_dt, dt_over_m, q)
            sxg[q] = t1 + t2
            spp[q] = v1 + v2
            sgg[q] = w1 + w2


@numba.njit(**_JIT)
def _quad_diag_step(c, pot, x, g, p, K, D, GSQ, i, scr):
    """The rest of a step on a diagonal quadratic (after the ledger's first term), in one pass.

    ``x``, ``g``, ``p`` are particle ``i``'s coordinates as 1-D arrays (contiguous for one particle,
    so that the loop is vectorized; ``p`` is unused by gradient descent). Every coordinate's update
    and gradient depend on that coordinate alone, so one pass over a block of ``BLOCK`` coordinates
    updates and evaluates them and makes the first level of the halving fold of each of the four sums
    (x·∇V, x·b, |∇V|², |p|²): coordinates lo + i and lo + i + w//2 are taken together and their terms
    added, exactly as the fold's first level would (an odd last term moves). The rest of each block's
    fold follows in ``scr`` (in cache), the block sums are kept at its end and folded last — the order
    of :func:`fold`, so the same bits as the evaluator's separate passes. Returns V.
    ``scr`` has ``4·(min(dim, BLOCK)//2 + 1) + 4·⌈dim/BLOCK⌉`` places.
    """
    dim = x.shape[0]
    has_b = pot.has_b
    A = pot.A
    b = pot.b
    nb = (dim + BLOCK - 1) // BLOCK
    r = min(dim, BLOCK) // 2 + 1  # one region of the block's first-level terms
    sxg = 0
    sxb = r
    spp = 2 * r
    sgg = 3 * r
    pxg = 4 * r
    pxb = pxg + nb
    ppp = pxg + 2 * nb
    pgg = pxg + 3 * nb
    lr, mu, damping, half_dt, dt_over_m = _qd_coefficients(c, i)
    for j in range(nb):
        lo = j * BLOCK
        w = min(dim, lo + BLOCK) - lo
        h = w // 2
        _qd_pairs(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m, lo, h, scr, r)
        if w % 2:
            a1, b1, c1, d1 = _qd_coordinate(c, has_b, A, b, x, g, p, lr, mu, damping, half_dt, dt_over_m,
                                            lo + 2 * h)
            scr[sxg + h] = a1
            scr[sxb + h] = b1
            scr[spp + h] = c1
            scr[sgg + h] = d1
        n = h + w % 2
        scr[pxg + j] = _halve(scr, sxg, n)
        if has_b:
            scr[pxb + j] = _halve(scr, sxb, n)
        if not _first_order(c):
            scr[ppp + j] = _halve(scr, spp, n)
        scr[pgg + j] = _halve(scr, sgg, n)
    value = 0.5 * _halve(scr, pxg, nb)
    if has_b:
        value += _halve(scr, pxb, nb)
    if pot.c != 0.0:
        value = value + pot.c
    GSQ[i] = _halve(scr, pgg, nb)
    if not _first_order(c):
        _qd_kinetic(c, _halve(scr, ppp, nb), K, D, i)
    return value


# ---------------------------------------------------------------------------------------------- the loop
@numba.njit(inline='always', **_JIT)
def _watch_and_record(c, k, i, X, P, V, K, D, GSQ, LO, HI, gtol2, CONV, DIV, SNAPX, SNAPV, SNAPG,
                      row, RV, RK, RD, RG, RX, RP, ri):
    """Per-particle stopping test after step k (its first event only), then the record row if any, at
    column ``ri`` of the record arrays.

    Returns 1 when the particle has ended (now or before). Divergence is tested first, as in numpy's
    ``_Watch.check``: V non-finite or outside [lo, hi].
    """
    ended = CONV[i] >= 0 or DIV[i] >= 0
    if not ended:
        v = V[i]
        event = False
        if not (v >= LO[i] and v <= HI[i]):
            DIV[i] = k
            event = True
        elif GSQ[i] <= gtol2:
            CONV[i] = k
            event = True
        if event:
            ended = True
            if SNAPX.shape[1] > 0:  # an ensemble keeps each particle as it was at its own end
                for d in range(X.shape[0]):
                    SNAPX[d, i] = X[d, i]
                SNAPV[i] = v
                SNAPG[i] = math.sqrt(GSQ[i])
    if row >= 0:
        RV[row, ri] = V[i]
        RK[row, ri] = 0.0 if _first_order(c) else K[i]
        RD[row, ri] = D[i]
        RG[row, ri] = math.sqrt(GSQ[i])
        if RX.shape[0] > 0:
            for d in range(X.shape[0]):
                RX[row, ri, d] = X[d, i]
        if RP.shape[0] > 0:
            for d in range(X.shape[0]):
                RP[row, ri, d] = _recorded_p(c, P, d, i)
    return 1 if ended else 0


@numba.njit(inline='always', **_JIT)
def _tick(T, DT, RT, row, t0):
    """Advance the clocks by one step (t ← t + dt), recording them in row ``row`` if it is one (from column
    ``t0`` on)."""
    for j in range(T.shape[0]):
        T[j] = T[j] + DT[j]
        if row >= 0:
            RT[row, t0 + j] = T[j]


@numba.njit(**_JIT)
def run_block(c, pot, X, G, P, Q, R, S, V, K, D, GSQ, T, DT, LO, HI, gtol2, CONV, DIV, SNAPX, SNAPV, SNAPG, k0,
              n_steps, every, next_record, RSTEP, RT, RV, RK, RD, RG, RX, RP, r0, t0, SCR, n_stop):
    """Take up to ``n_steps`` steps after step ``k0``, all particles, recording and watching as simulate does.

    ``c`` is the method's rule tuple, ``pot`` the potential's parameter tuple: one compiled kernel per pair
    of their classes. After each step k: every particle's stopping test, then, when k == next_record, a
    record row (next_record advances by ``every``; ``next_record < 0`` records nothing). The block ends
    early after the step at which ``n_stop`` particles have ended (``n``: all of them; more: never, for a
    chunk of an ensemble that keeps pace with the others), or when the row buffers (RSTEP's length) are
    full. Particle i's record goes to column r0 + i of RV, RK, RD, RG, RX, RP, and its clock's to column
    t0 + i of RT (0 for a shared clock). Returns (steps taken, rows written, next_record, particles
    ended). One thread: several threads each run it on their own chunk of particles, each writing its own
    columns of the same record rows (newtonopt.backends.numba_backend.CompiledRun).
    """
    n = X.shape[1]
    rows = 0
    n_done = 0
    capacity = RSTEP.shape[0]
    scr = SCR[0]
    for s in range(n_steps):
        k = k0 + s + 1
        row = -1
        if k == next_record and rows < capacity:
            row = rows
            RSTEP[row] = k
        n_done = 0
        for i in range(n):
            _step(c, pot, X, G, P, Q, R, S, DT, V, K, D, GSQ, i, scr)
            n_done += _watch_and_record(c, k, i, X, P, V, K, D, GSQ, LO, HI, gtol2, CONV, DIV, SNAPX, SNAPV,
                                        SNAPG, row, RV, RK, RD, RG, RX, RP, r0 + i)
        _tick(T, DT, RT, row, t0)
        if row >= 0:
            rows += 1
            next_record += every
        if n_done >= n_stop or (rows == capacity and capacity > 0 and next_record >= 0):
            return s + 1, rows, next_record, n_done
    return n_steps, rows, next_record, n_done
