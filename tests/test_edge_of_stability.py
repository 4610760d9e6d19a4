"""Edge of stability (Cohen, Kaur, Li, Kolter & Talwalkar 2021), reproduced on a small tanh network.

Full-batch gradient descent, lr = 0.5 (2/lr = 4), on the mean squared error of a 4-16-16-3 tanh
MLP fitting one-hot Iris targets from Glorot weights scaled by ½ (examples/16_edge_of_stability.py).
Measured here (seeds 0, 1, 2, 2,000 steps, sharpness every 10 steps): the sharpness starts at
2.14 / 1.68 / 1.66, reaches 2/lr at step 50 / 60 / 60, and 66 % / 79 % / 77 % of the later samples
lie within [0.8, 1.2]·2/lr (over 5,000 steps: 86 % / 92 % / 91 %); the distance between GD and
gradient flow grows 2.7× / 8.9× / 8.7× from the crossing to four times the crossing step.
"""

from __future__ import annotations

import numpy as np
import pytest

import newtonopt as no
from newtonopt import datasets
from newtonopt.flows import compare_with_flow

LR = 0.5


def _network():
    X, y, _, _ = datasets.load_iris()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return no.potentials.MLP(X, np.eye(3)[y], (4, 16, 16, 3), activation="tanh", loss="mse")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sharpness_rises_to_two_over_lr_and_stays_near_it(seed):
    V = _network()
    theta0 = 0.5 * V.initial_parameters(seed=seed)
    run = no.simulate(V, no.GradientDescent(LR), theta0, n_steps=2000, sharpness_every=10, record="scalars")
    s, step = run.sharpness, run.sharpness_step
    threshold = 2.0 / LR
    assert s[0] < 0.6 * threshold  # it starts well below the limit: the rise is progressive sharpening
    assert np.any(s >= threshold)
    crossing = int(step[np.argmax(s >= threshold)])
    assert 30 <= crossing <= 100
    after = s[step >= crossing]
    assert np.mean((after >= 0.8 * threshold) & (after <= 1.2 * threshold)) >= 0.6
    assert run.potential_energy[-1] < 0.05 * run.potential_energy[0]  # the loss still falls (0.61 → 0.013)
    assert run.status == "max_steps"  # no divergence although λ_max ≥ 2/lr for a while

    near = no.simulate(V, no.GradientDescent(LR), theta0, n_steps=4 * crossing, every=crossing // 10)
    flow = compare_with_flow(near, V, rtol=1e-8, atol=1e-10)
    at_crossing = float(np.interp(crossing, near.step, flow.distance))
    assert flow.distance[-1] > 2.0 * at_crossing  # GD departs from its flow after the crossing
