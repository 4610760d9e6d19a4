"""Compiled whole loops (numba, no fastmath): a block of steps of a method on a potential, with the ledger.

Importing this module needs numba; :mod:`newtonopt.backends` imports it only when asked for the
compiled backend. Every function here is compiled with ``cache=True`` (kept on disk beside this
file, or in ``NUMBA_CACHE_DIR``) and ``error_model='numpy'`` (a division by zero gives ±inf or NaN,
as numpy's does, instead of raising).

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
length n; the method's coefficients are the rows of ``C`` (one column per particle), taken from the
State that the method's own ``_configure`` filled, so no coefficient is recomputed here. A method's
per-coordinate memory is ``P``, ``Q``, ``R`` (momentum or velocity; Adam's m, v, v̂; RMSprop's buffer,
square_avg, grad_avg; Adagrad's Σg²), also ``(dim, n)`` views of the State's arrays; its per-particle
state is the rows of ``S`` (the step count of Adam and Adagrad; FIRE's a, N and whether it has
started), copied back to the memory after each block.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

# No reference counting (numba's NRT) in the kernels: they allocate nothing, and with it every call
# between them incremented and decremented each array argument's count with locked (atomic) instructions,
# which took ~85% of a particle-step (perf: the hot instructions were NRT_incref/NRT_decref's `lock incq`/
# `lock decq`; a 2-D quadratic GD particle-step fell from ~450 ns to ~65 ns without them). The parallel
# sweep needs NRT for its prange reduction, and calls the NRT-free _sweep once per chunk.
_PARALLEL = {"cache": True, "error_model": "numpy", "nogil": True}
_JIT = dict(_PARALLEL, _nrt=False)

# Potential kinds (the `kind` argument); newtonopt.backends.numba_backend encodes the parameters.
QUAD_DIAG, QUAD_DENSE, ROSENBROCK, HIMMELBLAU, BEALE, MULLER_BROWN, LENNARD_JONES, DOUBLE_WELL, RASTRIGIN, \
    FORMULA = range(10)
# Methods (the `method` argument) and the rows of their coefficient matrix C.
GD, HEAVY_BALL, NESTEROV, VERLET, FORWARD_EULER, ADAM, RMSPROP, ADAGRAD, FIRE = range(9)
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


@numba.njit(**_JIT)
def _halve(s, lo, n):
    """The halving fold of ``s[lo:lo + n]`` (destroyed): s[i] += s[i + n//2] for i < n//2, an odd last
    term moves to n//2, until one term is left, at ``s[lo]``."""
    while n > 1:
        h = n // 2
        for i in range(lo, lo + h):
            s[i] = s[i] + s[i + h]
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
            r = np.sqrt(a)
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


@numba.njit(inline='always', **_JIT)
def evaluate(kind, FP, IP, M, X, G, i, scr):
    """V at particle ``i`` of ``X`` (shape (dim, n)); ∇V written to ``G[:, i]``. ``scr`` is scratch."""
    dim = X.shape[0]
    if kind == QUAD_DIAG or kind == QUAD_DENSE:
        # FP = [c, has_b, b (dim), A (dim) when diagonal]; M = A when dense. Numpy: out = A·x (x·A when
        # dense, each sum folded), V = ½·fold(x·out), V += fold(x·b), out += b, V + c if c.
        c = FP[0]
        has_b = FP[1] != 0.0
        if kind == QUAD_DIAG:
            for k in range(dim):
                G[k, i] = X[k, i] * FP[2 + dim + k]
        else:
            for j in range(dim):
                for k in range(dim):
                    scr[k] = X[k, i] * M[k, j]
                G[j, i] = fold(scr, dim)
        for k in range(dim):
            scr[k] = X[k, i] * G[k, i]
        value = 0.5 * fold(scr, dim)
        if has_b:
            for k in range(dim):
                scr[k] = X[k, i] * FP[2 + k]
            value += fold(scr, dim)
            for k in range(dim):
                G[k, i] = G[k, i] + FP[2 + k]
        if c != 0.0:
            return value + c
        return value
    if kind == ROSENBROCK:
        a = FP[0]
        b = FP[1]
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
    if kind == HIMMELBLAU:
        x0 = X[0, i]
        x1 = X[1, i]
        u = x0 * x0 + x1 - 11.0
        v = x0 + x1 * x1 - 7.0
        G[0, i] = 4.0 * u * x0 + 2.0 * v
        G[1, i] = 2.0 * u + 4.0 * v * x1
        return u * u + v * v
    if kind == BEALE:
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
    if kind == MULLER_BROWN:
        # FP = the 4 terms' (A, a, b, c, X, Y); IP[0] = 1 for one particle (numpy's scalar formula), else
        # numpy's column formula: the two group a·dx² + b·dx·dy differently.
        x0 = X[0, i]
        x1 = X[1, i]
        value = 0.0
        gx = 0.0
        gy = 0.0
        single = IP[0] == 1
        for k in range(4):
            A = FP[6 * k]
            a = FP[6 * k + 1]
            b = FP[6 * k + 2]
            c = FP[6 * k + 3]
            dx = x0 - FP[6 * k + 4]
            dy = x1 - FP[6 * k + 5]
            if single:
                e = A * math.exp(a * dx * dx + b * dx * dy + c * dy * dy)
                value += e
                gx += e * (2.0 * a * dx + b * dy)
                gy += e * (b * dx + 2.0 * c * dy)
            else:
                t1 = dx * a
                if b != 0.0:
                    t1 = t1 + dy * b
                e = math.exp(t1 * dx + (dy * c) * dy) * A
                t1 = dx * (2.0 * a)
                if b != 0.0:
                    t1 = t1 + dy * b
                t2 = dy * (2.0 * c)
                if b != 0.0:
                    t2 = t2 + dx * b
                if k == 0:
                    value = e
                    gx = t1 * e
                    gy = t2 * e
                else:
                    value = value + e
                    gx = gx + t1 * e
                    gy = gy + t2 * e
        G[0, i] = gx
        G[1, i] = gy
        return value
    if kind == LENNARD_JONES:
        return _lennard_jones(IP, X, G, i, scr)
    if kind == DOUBLE_WELL:
        h = FP[0]
        t = FP[1]
        k = FP[2]
        x0 = X[0, i]
        x1 = X[1, i]
        s = x0 * x0 - 1.0
        G[0, i] = (4.0 * h) * x0 * s + t
        G[1, i] = x1 * k
        return h * s * s + t * x0 + (0.5 * k) * x1 * x1
    if kind == RASTRIGIN:
        A = FP[0]
        two_pi = 2.0 * np.pi
        for k in range(dim):
            x = X[k, i]
            phase = two_pi * X[k, i]
            G[k, i] = math.sin(phase) * (two_pi * A) + 2.0 * x
            scr[k] = x * x - A * math.cos(phase)
        return A * dim + fold(scr, dim)
    return _formula(FP, IP, X, G, i, scr)


@numba.njit(inline='always', **_JIT)
def _square_fold(Y, i, scr):
    """fold(y²) over the coordinates of particle ``i``: |∇V|², |v|², |p|² as the numpy ledger sums them."""
    dim = Y.shape[0]
    for k in range(dim):
        scr[k] = Y[k, i] * Y[k, i]
    return fold(scr, dim)


@numba.njit(inline='always', **_JIT)
def _particle(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, i, scr):
    """One step of ``method`` for particle ``i``: its rule, one evaluation, the ledger (K, D, |∇V|²).

    GD, C = [lr]: D += lr·|∇V|²; x ← x − ∇V·lr.
    Heavy ball, C = [lr, μ, 1 − μ², lr/2, −dt]: D += (1 − μ²)·K; v ← v·μ + ∇V; x ← x − v·lr
    (Nesterov: x ← x − (v·μ + ∇V)·lr); K = fold(v²)·lr/2.
    Velocity Verlet, C = [c, 1 − c², c², dt/2, dt/m, 1/(2m)]: (friction: D += (1 − c²)·K, p ← p·c);
    p ← p − ∇V·dt/2; x ← x + p·dt/m; evaluate; p ← p − ∇V·dt/2; K = fold(p²)·1/(2m);
    (friction: D += (1 − c²)·K, p ← p·c, K ← K·c²).
    Each product is formed and then added, as numpy's ``delta = a·b; y ← y ± delta`` does.
    Forward Euler, Adam, RMSprop, Adagrad and FIRE: :func:`_rule_before` and :func:`_rule_after`.
    """
    dim = X.shape[0]
    if method >= FORWARD_EULER:
        _rule_before(method, damped, X, G, P, Q, R, S, DT, K, D, C, i, scr)
    else:
        # --- the ledger's term that uses the previous step
        if method == GD:
            D[i] = D[i] + C[0, i] * GSQ[i]
        elif method == HEAVY_BALL or method == NESTEROV:
            D[i] = D[i] + C[2, i] * K[i]
        elif damped:
            D[i] = D[i] + C[1, i] * K[i]
        if kind == QUAD_DIAG and X.shape[1] == 1 and dim >= ONE_PASS_MIN_DIM:  # separable: one pass, by blocks
            # one particle: contiguous 1-D views (no copy). (Ensembles take the general route: a second
            # specialization for strided columns would double this part's compile time.)
            V[i] = _quad_diag_step(method, damped, FP, X.reshape(dim), G.reshape(dim), P.reshape(P.size), K, D,
                                   GSQ, C, i, scr)
            return
        _before(method, damped, X, G, P, C, i, 0, dim)
        if method == HEAVY_BALL or method == NESTEROV:
            K[i] = _square_fold(P, i, scr) * C[3, i]
    # --- one evaluation (a single call site: the evaluator is compiled into this function once)
    V[i] = evaluate(kind, FP, IP, M, X, G, i, scr)
    # --- after it
    if method >= FORWARD_EULER:
        _rule_after(method, P, K, C, i, scr)
    elif method == VERLET:
        _kick(P, G, C, i, 0, dim)
        K[i] = _square_fold(P, i, scr) * C[5, i]
        if damped:
            D[i] = D[i] + C[1, i] * K[i]
            c = C[0, i]
            for k in range(dim):
                P[k, i] = P[k, i] * c
            K[i] = K[i] * C[2, i]
    GSQ[i] = _square_fold(G, i, scr)


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


@numba.njit(**_JIT)
def _rule_before(method, damped, X, G, P, Q, R, S, DT, K, D, C, i, scr):
    """The rule of Forward Euler, Adam, RMSprop, Adagrad or FIRE up to the evaluation, for particle ``i``.

    Each line is the method's ``update`` (newtonopt/integrators/*.py) for one coordinate, node by node
    as :class:`newtonopt.core.expressions.NumpyEvaluator` evaluates it; ``g`` is ∇V + λ·x when the
    method decays weights (``decayed_gradient``), and ``move_and_book`` is D −= fold(∇V·Δx), x += Δx.

    Forward Euler, C = [dt, dt/m, 1 − dt·γ/m, 2·dt·γ/m, 1/(2m)], P = p.
    Adam, C = [lr, β₁, β₂, 1 − β₁, 1 − β₂, eps, λ, decays, amsgrad], P, Q, R = m, v, v̂; S[0] = the step count.
    RMSprop, C = [lr, α, 1 − α, eps, μ, λ, decays, centered, has buffer], P, Q, R = buffer, square_avg, grad_avg.
    Adagrad, C = [lr, lr_decay, eps, λ, decays], P = Σg²; S[0] = the step count.
    FIRE, C = [maxstep, dtmax, Nmin, finc, fdec, astart, fa], P = v; S = [a, N, started]; DT = its dt.
    """
    dim = X.shape[0]
    if method == FORWARD_EULER:
        if damped:
            D[i] = D[i] + C[3, i] * K[i]
        dt = C[0, i]
        dt_over_m = C[1, i]
        keep = C[2, i]
        for k in range(dim):
            p = P[k, i]
            X[k, i] = X[k, i] + dt_over_m * p
            p = p * keep
            P[k, i] = p - dt * G[k, i]
        return
    if method == FIRE:
        _fire_before(X, G, P, S, DT, D, C, i, scr)
        return
    if method == ADAM:
        lr = C[0, i]
        beta1 = C[1, i]
        beta2 = C[2, i]
        one_minus_beta1 = C[3, i]
        one_minus_beta2 = C[4, i]
        eps = C[5, i]
        wd = C[6, i]
        decays = C[7, i] != 0.0
        amsgrad = C[8, i] != 0.0
        count = S[0, i] + 1.0
        S[0, i] = count
        n = int(count)
        step_size = lr / (1.0 - _integer_power(beta1, n))
        root_correction = np.sqrt(1.0 - _integer_power(beta2, n))
        neg = -step_size
        for k in range(dim):
            gk = G[k, i]
            if decays:
                gk = gk + wd * X[k, i]
            m = P[k, i]
            m = m + one_minus_beta1 * (gk - m)
            P[k, i] = m
            v = beta2 * Q[k, i] + one_minus_beta2 * (gk * gk)
            Q[k, i] = v
            if amsgrad:
                v = _maximum(R[k, i], v)
                R[k, i] = v
            dx = neg * (m / (np.sqrt(v) / root_correction + eps))
            scr[k] = G[k, i] * dx
            X[k, i] = X[k, i] + dx
    elif method == RMSPROP:
        lr = C[0, i]
        alpha = C[1, i]
        one_minus_alpha = C[2, i]
        eps = C[3, i]
        mu = C[4, i]
        wd = C[5, i]
        decays = C[6, i] != 0.0
        centered = C[7, i] != 0.0
        has_buffer = C[8, i] != 0.0
        neg = -lr
        for k in range(dim):
            gk = G[k, i]
            if decays:
                gk = gk + wd * X[k, i]
            sq = alpha * Q[k, i] + one_minus_alpha * (gk * gk)
            Q[k, i] = sq
            if centered:
                ga = R[k, i]
                ga = ga + one_minus_alpha * (gk - ga)
                R[k, i] = ga
                denominator = np.sqrt(sq - ga * ga) + eps
            else:
                denominator = np.sqrt(sq) + eps
            if has_buffer:
                b = mu * P[k, i] + gk / denominator
                P[k, i] = b
                dx = neg * b
            else:
                dx = neg * (gk / denominator)
            scr[k] = G[k, i] * dx
            X[k, i] = X[k, i] + dx
    else:  # ADAGRAD
        lr = C[0, i]
        lr_decay = C[1, i]
        eps = C[2, i]
        wd = C[3, i]
        decays = C[4, i] != 0.0
        count = S[0, i] + 1.0
        S[0, i] = count
        clr = lr / (1.0 + (count - 1.0) * lr_decay)
        neg = -clr
        for k in range(dim):
            gk = G[k, i]
            if decays:
                gk = gk + wd * X[k, i]
            total = P[k, i] + gk * gk
            P[k, i] = total
            dx = neg * (gk / (np.sqrt(total) + eps))
            scr[k] = G[k, i] * dx
            X[k, i] = X[k, i] + dx
    D[i] = D[i] - fold(scr, dim)  # move_and_book: the force's work along the step, −∇V·Δx


@numba.njit(**_JIT)
def _fire_before(X, G, P, S, DT, D, C, i, scr):
    """FIRE's mixing, adaptation, kick and capped drift for particle ``i`` (as ``FIRE.update``)."""
    dim = X.shape[0]
    maxstep = C[0, i]
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
            steer = a * np.sqrt(v2) / np.sqrt(f2 if f2 > 0 else 1.0)
            keep = 1.0 - a
        else:
            steer = 0.0
            keep = 0.0
        for k in range(dim):
            P[k, i] = keep * P[k, i] - steer * G[k, i]
        D[i] = D[i] + 0.5 * (v2 - _square_fold(P, i, scr))
        n = S[1, i]
        if downhill and n > C[2, i]:
            dt = _minimum(dt * C[3, i], C[1, i])
            a = a * C[6, i]
        elif not downhill:
            dt = dt * C[4, i]
            a = C[5, i]
        S[1, i] = n + 1.0 if downhill else 0.0
        S[0, i] = a
        DT[i] = dt
    S[2, i] = 1.0
    for k in range(dim):
        v = P[k, i] - dt * G[k, i]
        P[k, i] = v
        d = dt * v
        scr[k] = d * d
    length = np.sqrt(fold(scr, dim))
    factor = maxstep / (length if length > 0 else 1.0) if length > maxstep else 1.0
    for k in range(dim):
        X[k, i] = X[k, i] + (dt * P[k, i]) * factor


@numba.njit(**_JIT)
def _rule_after(method, P, K, C, i, scr):
    """The kinetic energy after the evaluation: K = fold(p²)·1/(2m) (Forward Euler), 0.5·fold(v²) (FIRE)."""
    if method == FORWARD_EULER:
        K[i] = C[4, i] * _square_fold(P, i, scr)
    elif method == FIRE:
        K[i] = 0.5 * _square_fold(P, i, scr)


@numba.njit(inline='always', **_JIT)
def _before(method, damped, X, G, P, C, i, lo, hi):
    """The rule's update of coordinates lo..hi−1 of particle ``i`` before the evaluation."""
    if method == GD:
        lr = C[0, i]
        for k in range(lo, hi):
            X[k, i] = X[k, i] - G[k, i] * lr
    elif method == HEAVY_BALL or method == NESTEROV:
        lr = C[0, i]
        mu = C[1, i]
        for k in range(lo, hi):
            v = P[k, i] * mu + G[k, i]
            P[k, i] = v
            if method == NESTEROV:
                X[k, i] = X[k, i] - (v * mu + G[k, i]) * lr
            else:
                X[k, i] = X[k, i] - v * lr
    else:
        c = C[0, i]
        half_dt = C[3, i]
        dt_over_m = C[4, i]
        for k in range(lo, hi):
            p = P[k, i]
            if damped:
                p = p * c
            p = p - G[k, i] * half_dt
            P[k, i] = p
            X[k, i] = X[k, i] + p * dt_over_m


@numba.njit(inline='always', **_JIT)
def _kick(P, G, C, i, lo, hi):
    """Velocity Verlet's second half kick, p ← p − ∇V·dt/2, on coordinates lo..hi−1."""
    half_dt = C[3, i]
    for k in range(lo, hi):
        P[k, i] = P[k, i] - G[k, i] * half_dt


@numba.njit(**_JIT)
def _qd_coordinate(method, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, k):
    """Coordinate k's step on a diagonal quadratic: the rule, the gradient, then the terms of the four
    sums (x·∇V before b is added, x·b, p² — or v² — and ∇V²), each operation as in the separate passes."""
    v = 0.0
    if method == GD:
        xk = x[k] - g[k] * lr
    elif method == HEAVY_BALL or method == NESTEROV:
        v = p[k] * mu + g[k]
        p[k] = v
        if method == NESTEROV:
            xk = x[k] - (v * mu + g[k]) * lr
        else:
            xk = x[k] - v * lr
    else:
        v = p[k]
        if damped:
            v = v * c
        v = v - g[k] * half_dt
        xk = x[k] + v * dt_over_m
    x[k] = xk
    gk = xk * FP[a0 + k]
    xg = xk * gk
    xb = 0.0
    if has_b:
        bk = FP[2 + k]
        xb = xk * bk
        gk = gk + bk
    g[k] = gk
    pp = 0.0
    if method == VERLET:
        v = v - gk * half_dt
        pp = v * v
        if damped:
            v = v * c
        p[k] = v
    elif method != GD:
        pp = v * v
    return xg, xb, pp, gk * gk


@numba.njit(**_JIT)
def _qd_pairs(method, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, lo, h, scr, r):
    """Coordinates lo + q and lo + q + h for q < h, their four terms added pairwise into ``scr``'s four
    regions of ``r`` places (the fold's first level)."""
    if has_b:
        for q in range(h):
            a1, b1, c1, d1 = _qd_coordinate(method, damped, True, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m,
                                            lo + q)
            a2, b2, c2, d2 = _qd_coordinate(method, damped, True, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m,
                                            lo + q + h)
            scr[q] = a1 + a2
            scr[r + q] = b1 + b2
            scr[2 * r + q] = c1 + c2
            scr[3 * r + q] = d1 + d2
    else:
        for q in range(h):
            a1, b1, c1, d1 = _qd_coordinate(method, damped, False, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m,
                                            lo + q)
            a2, b2, c2, d2 = _qd_coordinate(method, damped, False, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m,
                                            lo + q + h)
            scr[q] = a1 + a2
            scr[2 * r + q] = c1 + c2
            scr[3 * r + q] = d1 + d2


@numba.njit(**_JIT)
def _quad_diag_step(method, damped, FP, x, g, p, K, D, GSQ, C, i, scr):
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
    has_b = FP[1] != 0.0
    a0 = 2 + dim
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
    lr = C[0, i]
    mu = C[1, i] if method == HEAVY_BALL or method == NESTEROV else 0.0
    c = C[0, i]
    half_dt = C[3, i] if method == VERLET else 0.0
    dt_over_m = C[4, i] if method == VERLET else 0.0
    for j in range(nb):
        lo = j * BLOCK
        w = min(dim, lo + BLOCK) - lo
        h = w // 2
        # one loop per method (the method a constant in each), so that each loop body is branch-free
        if method == GD:
            _qd_pairs(GD, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, lo, h, scr, r)
        elif method == HEAVY_BALL:
            _qd_pairs(HEAVY_BALL, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, lo, h, scr, r)
        elif method == NESTEROV:
            _qd_pairs(NESTEROV, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, lo, h, scr, r)
        else:
            _qd_pairs(VERLET, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m, lo, h, scr, r)
        if w % 2:
            a1, b1, c1, d1 = _qd_coordinate(method, damped, has_b, FP, a0, x, g, p, lr, mu, c, half_dt, dt_over_m,
                                            lo + 2 * h)
            scr[sxg + h] = a1
            scr[sxb + h] = b1
            scr[spp + h] = c1
            scr[sgg + h] = d1
        n = h + w % 2
        scr[pxg + j] = _halve(scr, sxg, n)
        if has_b:
            scr[pxb + j] = _halve(scr, sxb, n)
        if method != GD:
            scr[ppp + j] = _halve(scr, spp, n)
        scr[pgg + j] = _halve(scr, sgg, n)
    value = 0.5 * _halve(scr, pxg, nb)
    if has_b:
        value += _halve(scr, pxb, nb)
    if FP[0] != 0.0:
        value = value + FP[0]
    GSQ[i] = _halve(scr, pgg, nb)
    if method == HEAVY_BALL or method == NESTEROV:
        K[i] = _halve(scr, ppp, nb) * C[3, i]
    elif method == VERLET:
        K[i] = _halve(scr, ppp, nb) * C[5, i]
        if damped:
            D[i] = D[i] + C[1, i] * K[i]
            K[i] = K[i] * C[2, i]
    return value


@numba.njit(inline='always', **_JIT)
def _watch_and_record(method, k, i, X, P, V, K, D, GSQ, C, LO, HI, gtol2, CONV, DIV, SNAPX, SNAPV, SNAPG,
                      row, RV, RK, RD, RG, RX, RP):
    """Per-particle stopping test after step k (its first event only), then the record row if any.

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
                SNAPG[i] = np.sqrt(GSQ[i])
    if row >= 0:
        RV[row, i] = V[i]
        first_order = method == GD or method == ADAM or method == RMSPROP or method == ADAGRAD
        RK[row, i] = 0.0 if first_order else K[i]
        RD[row, i] = D[i]
        RG[row, i] = np.sqrt(GSQ[i])
        if RX.shape[0] > 0:
            for d in range(X.shape[0]):
                RX[row, i, d] = X[d, i]
        if RP.shape[0] > 0:
            if method == HEAVY_BALL or method == NESTEROV:  # the heavy ball's physical momentum p = v·(−dt)
                for d in range(X.shape[0]):
                    RP[row, i, d] = P[d, i] * C[4, i]
            else:  # Verlet's, Forward Euler's p and FIRE's v as they are
                for d in range(X.shape[0]):
                    RP[row, i, d] = P[d, i]
    return 1 if ended else 0


@numba.njit(**_JIT)
def _sweep(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, LO, HI, gtol2, CONV, DIV,
           SNAPX, SNAPV, SNAPG, k, row, RV, RK, RD, RG, RX, RP, scr, lo, hi):
    """Step k for particles lo..hi−1, one after another; returns how many of them have ended."""
    n_done = 0
    for i in range(lo, hi):
        _particle(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, i, scr)
        n_done += _watch_and_record(method, k, i, X, P, V, K, D, GSQ, C, LO, HI, gtol2, CONV, DIV, SNAPX,
                                    SNAPV, SNAPG, row, RV, RK, RD, RG, RX, RP)
    return n_done


@numba.njit(parallel=True, **_PARALLEL)
def _sweep_parallel(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, LO, HI, gtol2, CONV,
                    DIV, SNAPX, SNAPV, SNAPG, k, row, RV, RK, RD, RG, RX, RP, SCR):
    # One chunk of particles per worker, each with its own scratch; particles never share arithmetic,
    # so the split changes no bit. The chunk is one call of the reference-count-free _sweep.
    n = X.shape[1]
    workers = SCR.shape[0]
    n_done = 0
    for w in prange(workers):
        n_done += _sweep(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, LO, HI, gtol2,
                         CONV, DIV, SNAPX, SNAPV, SNAPG, k, row, RV, RK, RD, RG, RX, RP, SCR[w], w * n // workers,
                         (w + 1) * n // workers)
    return n_done


@numba.njit(inline='always', **_JIT)
def _tick(T, DT, RT, row):
    """Advance the clocks by one step (t ← t + dt), recording them in row ``row`` if it is one."""
    for j in range(T.shape[0]):
        T[j] = T[j] + DT[j]
        if row >= 0:
            RT[row, j] = T[j]


@numba.njit(**_JIT)
def run_block(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, V, K, D, GSQ, T, DT, C, LO, HI, gtol2, CONV, DIV,
              SNAPX, SNAPV, SNAPG, k0, n_steps, every, next_record, RSTEP, RT, RV, RK, RD, RG, RX, RP, SCR):
    """Take up to ``n_steps`` steps after step ``k0``, all particles, recording and watching as simulate does.

    After each step k: every particle's stopping test, then, when k == next_record, a record row
    (next_record advances by ``every``; ``next_record < 0`` records nothing). The block ends early
    after the step at which every particle has ended, or when the row buffers (RSTEP's length) are
    full. Returns (steps taken, rows written, next_record, particles ended). One thread; see
    :func:`run_block_parallel` for several (``SCR`` has one row of scratch per thread).
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
        for i in range(n):  # as _sweep, written out: a call passing ~30 arrays costs ~50 ns a step
            _particle(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, i, scr)
            n_done += _watch_and_record(method, k, i, X, P, V, K, D, GSQ, C, LO, HI, gtol2, CONV, DIV, SNAPX,
                                        SNAPV, SNAPG, row, RV, RK, RD, RG, RX, RP)
        _tick(T, DT, RT, row)
        if row >= 0:
            rows += 1
            next_record += every
        if n_done == n or (rows == capacity and capacity > 0 and next_record >= 0):
            return s + 1, rows, next_record, n_done
    return n_steps, rows, next_record, n_done


@numba.njit(**_PARALLEL)
def run_block_parallel(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, V, K, D, GSQ, T, DT, C, LO, HI, gtol2, CONV,
                       DIV, SNAPX, SNAPV, SNAPG, k0, n_steps, every, next_record, RSTEP, RT, RV, RK, RD, RG, RX,
                       RP, SCR):
    """:func:`run_block` with each step's particles split over ``SCR.shape[0]`` threads (compiled apart,
    so that a one-thread run never waits for the parallel loop's compile)."""
    n = X.shape[1]
    rows = 0
    n_done = 0
    capacity = RSTEP.shape[0]
    for s in range(n_steps):
        k = k0 + s + 1
        row = -1
        if k == next_record and rows < capacity:
            row = rows
            RSTEP[row] = k
        n_done = _sweep_parallel(method, damped, kind, FP, IP, M, X, G, P, Q, R, S, DT, V, K, D, GSQ, C, LO, HI,
                                 gtol2, CONV, DIV, SNAPX, SNAPV, SNAPG, k, row, RV, RK, RD, RG, RX, RP, SCR)
        _tick(T, DT, RT, row)
        if row >= 0:
            rows += 1
            next_record += every
        if n_done == n or (rows == capacity and capacity > 0 and next_record >= 0):
            return s + 1, rows, next_record, n_done
    return n_steps, rows, next_record, n_done
