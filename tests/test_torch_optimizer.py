"""newtonopt.torch.Optimizer: newtonopt's rules stepping a torch model, against torch.optim and simulate.

References: torch.optim.SGD(momentum=μ) and torch.optim.Adam are the rules HeavyBall and Adam write
(tests/test_torch_sgd.py); simulate on Potential.from_torch_module runs the same rule on the same loss,
so a method that needs a closure must reproduce it; analysis.sgd_temperature's Lyapunov equation has
trace η·tr C/(2S) (Mandt, Hoffman & Blei 2017, eq. 12).
"""

import io

import numpy as np
import pytest

import newtonopt as no
from newtonopt.datasets import load_iris

torch = pytest.importorskip("torch")
nt = pytest.importorskip("newtonopt.torch")

STEPS = 120


def iris():
    X, y, _, _ = load_iris()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return torch.tensor(X), torch.tensor(y)


def mlp(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()


def batches(n, size=25, seed=1):
    rng = np.random.default_rng(seed)
    return [torch.as_tensor(rng.choice(150, size, replace=False)) for _ in range(n)]


def train(model, opt, idx, X, y, *, closure=False):
    loss_fn = torch.nn.functional.cross_entropy
    for b in idx:
        if closure:
            def step_closure(b=b):
                opt.zero_grad()
                loss = loss_fn(model(X[b]), y[b])
                loss.backward()
                return loss
            opt.step(step_closure)
        else:
            opt.zero_grad()
            loss = loss_fn(model(X[b]), y[b])
            loss.backward()
            if isinstance(opt, nt.Optimizer):
                opt.step(loss=loss)
            else:
                opt.step()
    return torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy().copy()


@pytest.mark.parametrize("method, reference", [
    (no.HeavyBall(0.1, 0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (no.Nesterov(0.1, 0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (no.GradientDescent(0.2), lambda p: torch.optim.SGD(p, lr=0.2)),
    (no.Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (no.RMSprop(0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
], ids=["heavy_ball", "nesterov", "gd", "adam", "rmsprop"])
def test_minibatch_training_matches_torch_optim(method, reference):
    X, y = iris()
    idx = batches(STEPS)
    a, b = mlp(), mlp()
    ours = train(a, nt.Optimizer(a.parameters(), method), idx, X, y)
    theirs = train(b, reference(list(b.parameters())), idx, X, y)
    moved = np.abs(theirs - torch.nn.utils.parameters_to_vector(mlp().parameters()).detach().numpy()).max()
    assert moved > 0.1  # the run went somewhere
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)  # round-off (torch's kernels fuse multiply-adds)


def test_float32_parameters_step_in_float32_like_torch():
    X, y = iris()
    X = X.float()
    idx = batches(STEPS)
    a, b = mlp().float(), mlp().float()
    opt = nt.Optimizer(a.parameters(), no.Adam(0.01))
    ours = train(a, opt, idx, X, y)
    theirs = train(b, torch.optim.Adam(b.parameters(), lr=0.01), idx, X, y)
    assert opt.dtype == np.float32 and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)  # float32 round-off over 120 steps


def test_closure_full_batch_heavy_ball_matches_torch_sgd_with_closure():
    X, y = iris()
    idx = [slice(None)] * 50
    a, b = mlp(), mlp()
    ours = train(a, nt.Optimizer(a.parameters(), no.HeavyBall(0.1, 0.9)), idx, X, y, closure=True)
    theirs = train(b, torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9), idx, X, y, closure=True)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_which_methods_defer_their_evaluation():
    # Read from each rule: velocity Verlet's second kick and Langevin's last B step use the new gradient.
    deferred = [no.GradientDescent(0.1), no.HeavyBall(0.1), no.Nesterov(0.1), no.Adam(), no.RMSprop(), no.Adagrad(),
                no.FIRE()]
    assert all(nt.defers_evaluation(m) for m in deferred)
    assert not any(nt.defers_evaluation(m) for m in (no.VelocityVerlet(0.1), no.Langevin(0.1)))
    model = mlp()
    opt = nt.Optimizer(model.parameters(), no.VelocityVerlet(0.1))
    with pytest.raises(RuntimeError, match="needs a closure"):
        opt.step()


@pytest.mark.parametrize("method", [no.VelocityVerlet(0.3, friction=0.5), no.Langevin(0.3, friction=1.0,
                                                                                      temperature=1e-3, seed=4)],
                         ids=["verlet", "langevin"])
def test_closure_methods_reproduce_simulate_on_the_same_loss(method):
    X, y = iris()
    model = mlp()
    V = no.Potential.from_torch_module(model, torch.nn.functional.cross_entropy, (X, y))
    ref = no.simulate(V, method, V.initial_parameters(), n_steps=60, record="scalars")
    opt = nt.Optimizer(model.parameters(), method)
    ours = train(model, opt, [slice(None)] * 60, X, y, closure=True)
    np.testing.assert_allclose(ours, ref.x_final, rtol=0, atol=1e-12)
    led = opt.ledger
    np.testing.assert_allclose(led["V"], ref.potential_energy, rtol=1e-12)
    np.testing.assert_allclose(led["K"], ref.kinetic_energy, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(led["D"], ref.dissipated, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(led["energy_error"], ref.energy_error, atol=1e-12)
    assert opt.evaluations == 61  # one at the start, one per step, as simulate


@pytest.mark.parametrize("method, closure", [(no.Adam(0.01), False), (no.HeavyBall(0.1, 0.9), False),
                                             (no.Langevin(0.2, friction=1.0, temperature=1e-3, seed=2), True)],
                         ids=["adam", "heavy_ball", "langevin"])
def test_state_dict_resumes_bitwise(method, closure):
    X, y = iris()
    idx = batches(60)
    a = mlp()
    opt = nt.Optimizer(a.parameters(), method)
    train(a, opt, idx[:30], X, y, closure=closure)
    buffer = io.BytesIO()
    torch.save({"model": a.state_dict(), "opt": opt.state_dict()}, buffer)
    straight = train(a, opt, idx[30:], X, y, closure=closure)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    b = mlp(seed=9)
    b.load_state_dict(saved["model"])
    resumed_opt = nt.Optimizer(b.parameters(), method)
    resumed_opt.load_state_dict(saved["opt"])
    resumed = train(b, resumed_opt, idx[30:], X, y, closure=closure)
    assert np.array_equal(straight, resumed)
    for name, column in opt.ledger.items():
        assert np.array_equal(column, resumed_opt.ledger[name], equal_nan=True), name


def test_ledger_rows_and_trajectory_draw():
    import matplotlib

    matplotlib.use("Agg")
    from newtonopt import plot

    X, y = iris()
    model = mlp()
    opt = nt.Optimizer(model.parameters(), no.HeavyBall(0.05, 0.9))
    train(model, opt, batches(20), X, y)
    led = opt.ledger
    # deferred evaluation: the row of the last step waits for the loss at its parameters
    assert list(led["step"]) == list(range(20))
    assert led["K"][0] == 0.0 and led["D"][0] == 0.0 and led["energy_error"][0] == 0.0
    # K = lr·|v|²/2 of the heavy ball (its docstring), from torch's own momentum buffer at the same point
    np.testing.assert_allclose(led["kinetic_temperature"], 2 * led["K"] / opt.dim)
    traj = opt.trajectory()
    assert traj.status == "max_steps" and traj.n_records == 20
    ax = plot.energy(traj)
    assert ax.figure.axes and any(line.get_xdata().size == 20 for a in ax.figure.axes for line in a.get_lines())


def test_noise_temperature_is_sgd_temperatures_trace():
    # At any θ where the Hessian is positive definite, sgd_temperature's Σ solves AΣ + ΣA = (η/S)·C, whose trace
    # gives tr(AΣ)/d = η·tr C/(2·S·d): what measure_noise computes from per-sample gradients, without A.
    X, y = iris()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3).double()
    loss_fn = torch.nn.functional.cross_entropy
    opt = nt.Optimizer(model.parameters(), no.GradientDescent(0.3))
    T = opt.measure_noise(model, loss_fn, X, y, batch_size=10)
    risk = no.Potential.from_torch_module(model, loss_fn, (X, y), l2=0.1)  # l2 makes A definite, C unchanged
    ref = no.analysis.sgd_temperature(risk, 0.3, 10, at=risk.initial_parameters(), replace=True)
    assert T == pytest.approx(ref.temperature, rel=1e-9)
    opt.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt.step(loss=loss)
    opt.step(loss=loss)
    assert opt.ledger["noise_temperature"][0] == T and np.isnan(opt.ledger["noise_temperature"][1])


def test_bad_input():
    model = mlp()
    with pytest.raises(TypeError, match="method"):
        nt.Optimizer(model.parameters(), "adam")
    with pytest.raises(ValueError, match="lr"):
        nt.Optimizer(model.parameters(), no.GradientDescent(np.array([0.1, 0.2])))
    with pytest.raises(TypeError, match="dtype"):
        nt.Optimizer([torch.zeros(2, dtype=torch.float64, requires_grad=True),
                      torch.zeros(2, dtype=torch.float32, requires_grad=True)], no.Adam())
    opt = nt.Optimizer(model.parameters(), no.Adam())
    with pytest.raises(RuntimeError, match="add_param_group"):
        opt.add_param_group({"params": [torch.zeros(2, dtype=torch.float64, requires_grad=True)]})
    with pytest.raises(ValueError, match="state_dict"):
        opt.load_state_dict(torch.optim.Adam(model.parameters()).state_dict())
