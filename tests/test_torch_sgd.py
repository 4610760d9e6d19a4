"""GradientDescent, HeavyBall and Nesterov against torch.optim.SGD, the machine-learning reference.

torch.optim.SGD (dampening 0, zero initial buffer): buf ← μ·buf + g (buf = g on the first step),
then p ← p − lr·buf, or p ← p − lr·(g + μ·buf) with nesterov=True. In float64 on settings that are
not chaotic the iterates agree to round-off (torch's kernels may fuse multiply-adds).
"""

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic

torch = pytest.importorskip("torch")


def rosenbrock():
    def f(x):
        return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2

    def g(x):
        gx = -2 * (1 - x[..., 0]) - 400 * x[..., 0] * (x[..., 1] - x[..., 0] ** 2)
        gy = 200 * (x[..., 1] - x[..., 0] ** 2)
        return np.stack([gx, gy], axis=-1)

    return no.Potential.from_function(f, g, dim=2, name="rosenbrock")


def torch_run(potential, x0, n, **sgd):
    p = torch.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    opt = torch.optim.SGD([p], **sgd)
    xs = [p.detach().numpy().copy()]
    for _ in range(n):
        opt.zero_grad()
        p.grad = torch.from_numpy(potential.gradient(p.detach().numpy()))
        opt.step()
        xs.append(p.detach().numpy().copy())
    return np.array(xs)


CASES = [
    (no.GradientDescent(0.02), {"lr": 0.02}),
    (no.HeavyBall(0.02, 0.8), {"lr": 0.02, "momentum": 0.8}),
    (no.Nesterov(0.02, 0.8), {"lr": 0.02, "momentum": 0.8, "nesterov": True}),
]


@pytest.mark.parametrize("integrator, sgd", CASES, ids=["gd", "heavy_ball", "nesterov"])
def test_iterates_match_torch_sgd_on_a_quadratic(integrator, sgd):
    V = Quadratic(np.array([[3.0, 1.0], [1.0, 2.0]]), [1.0, -2.0])
    ours = no.simulate(V, integrator, [2.0, -1.0], n_steps=300)
    ref = torch_run(V, [2.0, -1.0], 300, **sgd)
    np.testing.assert_allclose(ours.x, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("integrator, sgd", [
    (no.GradientDescent(1e-3), {"lr": 1e-3}),
    (no.HeavyBall(1e-4, 0.9), {"lr": 1e-4, "momentum": 0.9}),
    (no.Nesterov(1e-4, 0.9), {"lr": 1e-4, "momentum": 0.9, "nesterov": True}),
], ids=["gd", "heavy_ball", "nesterov"])
def test_iterates_match_torch_sgd_on_rosenbrock(integrator, sgd):
    V = rosenbrock()
    ours = no.simulate(V, integrator, [-1.2, 1.0], n_steps=2000)
    ref = torch_run(V, [-1.2, 1.0], 2000, **sgd)
    np.testing.assert_allclose(ours.x, ref, rtol=0, atol=1e-12)
