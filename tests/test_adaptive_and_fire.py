"""Adagrad, RMSprop, Adam and FIRE: hand-computed reference steps, torch.optim and ASE as peers."""

import math

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import LennardJones, Quadratic, Rosenbrock

Q = Quadratic([1.0, 4.0])  # ∇V = (x, 4y)


# ---------------------------------------------------------------------------- hand-computed steps
def test_adam_first_two_steps_by_hand():
    # Kingma & Ba (2015), Algorithm 1, torch's eps placement: x ← x − lr/(1−β₁ᵏ)·m/(√v/√(1−β₂ᵏ) + eps).
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    x = np.array([1.0, 1.0])
    m = v = np.zeros(2)
    expected = [x.copy()]
    for k in (1, 2):
        g = np.array([x[0], 4 * x[1]])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr / (1 - b1**k) * m / (np.sqrt(v) / math.sqrt(1 - b2**k) + eps)
        expected.append(x.copy())
    # The first step of Adam moves every coordinate by lr·sign(g) (up to eps): (0.9, 0.9).
    np.testing.assert_allclose(expected[1], [0.9, 0.9], rtol=1e-7)
    traj = no.simulate(Q, no.Adam(lr, (b1, b2), eps), [1.0, 1.0], 2)
    np.testing.assert_allclose(traj.x, expected, rtol=1e-14)


def test_rmsprop_and_adagrad_first_steps_by_hand():
    # RMSprop (Tieleman & Hinton 2012): s = (1−α)g², x ← x − lr·g/(√s + eps); the first step is lr·g/(√(1−α)|g|).
    lr, alpha = 0.01, 0.99
    g = np.array([1.0, 4.0])
    step1 = lr * g / (np.sqrt((1 - alpha) * g * g) + 1e-8)
    traj = no.simulate(Q, no.RMSprop(lr, alpha), [1.0, 1.0], 1)
    np.testing.assert_allclose(traj.x[1], 1.0 - step1, rtol=1e-14)
    # Adagrad (Duchi et al. 2011): S = S₀ + g², x ← x − lr·g/(√S + eps); with lr_decay the k-th rate is
    # lr/(1 + (k−1)·decay).
    s0, decay = 0.25, 0.5
    x = np.array([1.0, 1.0])
    S = np.full(2, s0)
    expected = [x.copy()]
    for k in (1, 2):
        g = np.array([x[0], 4 * x[1]])
        S = S + g * g
        x = x - (0.1 / (1 + (k - 1) * decay)) * g / (np.sqrt(S) + 1e-10)
        expected.append(x.copy())
    traj = no.simulate(Q, no.Adagrad(0.1, lr_decay=decay, initial_accumulator_value=s0), [1.0, 1.0], 2)
    np.testing.assert_allclose(traj.x, expected, rtol=1e-14)


def test_fire_first_steps_by_hand():
    # Bitzek et al. (2006) in ASE's order: no mixing on the first step; v = dt·F, Δx = dt·v capped at maxstep.
    traj = no.simulate(Q, no.FIRE(dt=0.1, maxstep=0.2), [1.0, 1.0], 2)
    f0 = -np.array([1.0, 4.0])
    v1 = 0.1 * f0
    np.testing.assert_allclose(traj.x[1], [1.0, 1.0] + 0.1 * v1, rtol=1e-15)
    x1 = traj.x[1]
    f1 = -np.array([x1[0], 4 * x1[1]])
    assert f1 @ v1 > 0  # still downhill: mix with a = 0.1, dt unchanged (N = 0 ≤ Nmin)
    v2 = 0.9 * v1 + 0.1 * np.linalg.norm(v1) * f1 / np.linalg.norm(f1) + 0.1 * f1
    np.testing.assert_allclose(traj.x[2], x1 + 0.1 * v2, rtol=1e-14)


# ---------------------------------------------------------------------------- torch.optim as the peer
TORCH_CASES = [
    ("Adam", {"lr": 1e-2}),
    ("Adam", {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01}),
    ("Adam", {"lr": 1e-2, "amsgrad": True}),
    ("RMSprop", {"lr": 1e-3}),
    ("RMSprop", {"lr": 1e-3, "momentum": 0.6}),
    ("RMSprop", {"lr": 1e-3, "centered": True, "weight_decay": 0.1}),
    # With α = 0.9 and lr = 1e-3 the centered variance nearly vanishes after ~150 steps and the run turns
    # chaotic (one ulp from torch's fused multiply-add grows); a smaller lr keeps it a fair comparison.
    ("RMSprop", {"lr": 1e-4, "centered": True, "alpha": 0.9}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.5, "weight_decay": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(TORCH_CASES)])
def test_iterates_match_torch_optim(name, kwargs):
    torch = pytest.importorskip("torch")
    V = Rosenbrock()
    p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, name)([p], **kwargs)
    ref = [p.detach().numpy().copy()]
    for _ in range(300):
        opt.zero_grad()
        p.grad = torch.from_numpy(V.gradient(p.detach().numpy()))
        opt.step()
        ref.append(p.detach().numpy().copy())
    ours = no.simulate(V, getattr(no, name)(**kwargs), [-1.2, 1.0], 300)
    np.testing.assert_allclose(ours.x, np.array(ref), rtol=0, atol=1e-12)


def test_defaults_are_torch_defaults():
    # torch.optim's documented defaults.
    assert no.Adam().params() == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                  "amsgrad": False}
    assert no.RMSprop().params() == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                                     "centered": False}
    assert no.Adagrad().params() == {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                                     "initial_accumulator_value": 0.0, "eps": 1e-10}
    # ASE's FIRE defaults.
    assert no.FIRE().params() == {"dt": 0.1, "maxstep": 0.2, "dtmax": 1.0, "Nmin": 5, "finc": 1.1, "fdec": 0.5,
                                  "astart": 0.1, "fa": 0.99, "a": 0.1}


# ---------------------------------------------------------------------------- ASE as the peer
def test_fire_takes_the_same_steps_as_ase():
    ase = pytest.importorskip("ase")
    from ase.calculators.calculator import Calculator, all_changes
    from ase.optimize import FIRE as AseFIRE

    V = LennardJones(4)

    class FromPotential(Calculator):
        implemented_properties = ["energy", "forces"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            value, grad = V.value_and_gradient(self.atoms.get_positions().reshape(-1))
            self.results = {"energy": float(value), "forces": -grad.reshape(-1, 3)}

    x0 = V.initial_positions(seed=1, jitter=0.2)
    atoms = ase.Atoms("Ar4", positions=x0.reshape(-1, 3))
    atoms.calc = FromPotential()
    opt = AseFIRE(atoms, logfile=None)
    ref = [atoms.get_positions().reshape(-1).copy()]
    for _ in range(80):
        opt.step()
        ref.append(atoms.get_positions().reshape(-1).copy())
    ours = no.simulate(V, no.FIRE(), x0, 80)
    np.testing.assert_allclose(ours.x, np.array(ref), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- ensembles, ledger, input
@pytest.mark.parametrize("make", [
    lambda lr: no.Adam(lr), lambda lr: no.RMSprop(lr, momentum=0.3), lambda lr: no.Adagrad(lr),
    lambda lr: no.FIRE(dt=lr),
], ids=["adam", "rmsprop", "adagrad", "fire"])
def test_per_particle_hyperparameters_equal_scalar_runs(make):
    V = Rosenbrock()
    lrs = np.array([1e-3, 3e-3, 1e-2])
    x0 = np.array([[-1.2, 1.0], [0.0, 0.0], [1.5, 2.0]])
    batch = no.simulate(V, make(lrs), x0, 150)
    for i in range(3):
        single = no.simulate(V, make(float(lrs[i])), x0[i], 150)
        np.testing.assert_allclose(batch.x[:, i], single.x, rtol=0, atol=1e-13)


def test_fire_relaxes_lj13_and_its_ledger_books_the_friction():
    V = LennardJones(13)
    traj = no.simulate(V, no.FIRE(), V.initial_positions(seed=0), 3000, gtol=1e-5)
    assert traj.status == "converged" and traj.potential_energy[-1] < -40.0
    assert np.all(np.diff(traj.dissipated) >= -1e-12)  # mixing and resets only remove kinetic energy
    # With small time steps (no maxstep cap, dt ≤ 0.005) the motion between frictions is accurate MD, so the
    # energy lost is what the friction removed: |ε| stays a small fraction of D.
    small = no.simulate(LennardJones(4), no.FIRE(dt=0.002, dtmax=0.005), LennardJones(4).initial_positions(seed=2),
                        4000)
    assert small.dissipated[-1] > 0.5
    assert np.max(np.abs(small.energy_error)) < 0.02 * small.dissipated[-1]


def test_adaptive_ledger_books_the_work_of_the_force():
    # For an overdamped reading D_k = Σ −∇V·Δx, so ε = Σ [V(x+Δx) − V(x) − ∇V·Δx] = Σ ½Δxᵀ A Δx on a quadratic.
    traj = no.simulate(Q, no.Adam(0.05), [1.0, 1.0], 40)
    dx = np.diff(traj.x, axis=0)
    increments = 0.5 * (dx[:, 0] ** 2 + 4 * dx[:, 1] ** 2)
    np.testing.assert_allclose(traj.energy_error[1:], np.cumsum(increments), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: no.Adam(lr=-1.0), ValueError, "lr must be finite and > 0.0, got -1.0"),
    (lambda: no.Adam(betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be finite and in \[0.0, 1.0\), got 1.0"),
    (lambda: no.Adam(betas=0.9), TypeError, "betas must be a pair"),
    (lambda: no.Adam(amsgrad="yes"), TypeError, "amsgrad must be True or False"),
    (lambda: no.RMSprop(alpha=1.5), ValueError, "alpha must be finite and in"),
    (lambda: no.RMSprop(eps=0.0), ValueError, "eps must be finite and > 0.0, got 0.0"),
    (lambda: no.Adagrad(lr_decay=-0.1), ValueError, "lr_decay must be finite and >= 0.0, got -0.1"),
    (lambda: no.FIRE(maxstep=0.0), ValueError, "maxstep must be finite and > 0.0, got 0.0"),
    (lambda: no.FIRE(Nmin=-1), ValueError, "Nmin must be >= 0, got -1"),
])
def test_bad_adaptive_arguments(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
