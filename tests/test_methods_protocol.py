"""The method protocol: rules written as expressions on fields, executed by the backend.

The expressions must compute exactly what numpy computes for the same formula written out with
temporaries (the arithmetic is the tree's, node by node); a rule may read the field it assigns;
the fields stay attached to the run's arrays; the memory dataclass is what a snapshot keeps.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from newtonopt.core.expressions import Field, NumpyEvaluator, maximum, sqrt
from newtonopt.integrators.base import saved_entries
from newtonopt.potentials import Quadratic
from newtonopt.simulate import prepare_start

from .test_in_place import INTEGRATORS

RNG = np.random.default_rng(11)


def _fields(*arrays):
    ev = NumpyEvaluator()
    return ev, [Field(a, ev, f"a{i}") for i, a in enumerate(arrays)]


@pytest.mark.parametrize("shape", [(3,), (5, 4), (2, 3, 16)])
def test_expressions_equal_numpy_written_out(shape):
    a, b, c = (RNG.normal(size=shape) for _ in range(3))
    c = np.abs(c) + 0.1
    per = RNG.uniform(0.5, 2.0, size=shape[:-1]) if len(shape) > 1 else np.float64(0.7)
    per_col = per[..., None] if np.ndim(per) else float(per)
    cases = [
        (lambda A, B, C: A - 0.3 * B, lambda: a - 0.3 * b),
        (lambda A, B, C: 0.25 * (A * B + C) - B / C, lambda: 0.25 * (a * b + c) - b / c),
        (lambda A, B, C: -(sqrt(C) / 1.5 + 1e-8) * A, lambda: -(np.sqrt(c) / 1.5 + 1e-8) * a),
        (lambda A, B, C: maximum(A, B) * per, lambda: np.maximum(a, b) * per_col),
        (lambda A, B, C: A * (B - A * (C + B * (A - C))), lambda: a * (b - a * (c + b * (a - c)))),
    ]
    for build, expected in cases:
        out = np.empty(shape)
        ev, (A, B, C) = _fields(a.copy(), b.copy(), c.copy())
        ev.assign(out, build(A, B, C))
        assert out.tobytes() == expected().tobytes()


def test_a_rule_may_read_the_field_it_assigns():
    x0, v = RNG.normal(size=(4, 6)), RNG.normal(size=(4, 6))
    ev, (X, V) = _fields(x0.copy(), v.copy())
    X[...] = V * X + X * (X - V)  # x appears on both sides, at every depth
    assert X.array.tobytes() == (v * x0 + x0 * (x0 - v)).tobytes()
    X -= 0.5 * X
    assert X.array.tobytes() == ((v * x0 + x0 * (x0 - v)) - 0.5 * (v * x0 + x0 * (x0 - v))).tobytes()


def test_scratch_is_kept_and_bounded_by_the_depth():
    ev, (X, V) = _fields(np.zeros((3, 5)), np.ones((3, 5)))
    for _ in range(3):
        X[...] = (V * 2.0 + 1.0) * (V - 3.0) + V
    pools = list(ev._pool.values())
    assert len(pools) == 1 and len(pools[0]) == 2  # depth 3 below the root: two scratch arrays, reused


def test_an_array_times_a_field_builds_an_expression():
    ev, (X, V) = _fields(np.zeros((2, 3)), np.arange(6.0).reshape(2, 3))
    per = np.array([2.0, -1.0])
    X[...] = per * V  # ndarray on the left: numpy must defer to the expression
    assert np.array_equal(X.array, V.array * per[:, None])


def test_assigning_a_part_of_a_field_is_refused():
    ev, (X,) = _fields(np.zeros(3))
    with pytest.raises(IndexError, match="assign a whole field"):
        X[0] = 1.0


# The settings that reach every optional code path (weight decay, AMSGrad, a centred RMSprop, friction...).
SETTINGS = INTEGRATORS


@pytest.mark.parametrize("shape", [(4,), (3, 4)], ids=["one particle", "ensemble"])
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_fields_stay_attached_and_the_memory_is_the_snapshot(name, shape):
    V = Quadratic(np.linspace(1.0, 4.0, shape[-1]))
    method = SETTINGS[name]()
    state = method.init(V, prepare_start(V, np.ones(shape)))
    memory_arrays = {item.name: getattr(state.memory, item.name) for item in dataclasses.fields(state.memory)}
    for _ in range(4):
        method.step(V, state)
        state.step += 1
    f = state.fields
    assert f.x.array is state.x and f.grad.array is state.grad
    for entry, array in memory_arrays.items():  # the memory's arrays were updated in place, never rebound
        if isinstance(array, np.ndarray) and array.shape == state.x.shape:
            assert getattr(state.memory, entry) is array
            assert getattr(f, entry).array is array
    snap = method.snapshot(state)
    assert set(snap) - {"x", "grad", "value", "dissipated", "t", "step", "kinetic"} == set(
        saved_entries(state.memory)) == set(method.state_fields)
