"""The run loop: stopping rules, statuses, recording policy, persistence, bad input."""

import warnings

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic


@pytest.fixture
def bowl():
    # λ = 1 and 4: GD is stable iff lr < 2/4 = 0.5 (stability limit 2/λ_max).
    return Quadratic([1.0, 4.0])


# ---------------------------------------------------------------------------- statuses
def test_status_converged_stops_at_the_first_step_meeting_gtol(bowl):
    traj = no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], n_steps=10_000, gtol=1e-6)
    assert traj.status == "converged"
    assert traj.grad_norm[-1] <= 1e-6 < traj.grad_norm[-2]
    assert traj.n_steps == traj.step[-1] == int(traj.converged_step)
    # ‖∇V‖ is dominated by the λ = 1 mode: (0.9)^k ≤ 1e-6 first at k = 132 (ln 1e-6 / ln 0.9 = 131.1).
    assert traj.n_steps == 132


def test_status_max_steps(bowl):
    traj = no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], n_steps=5, gtol=1e-12)
    assert traj.status == "max_steps" and traj.n_steps == 5 and len(traj) == 6
    assert "n_steps" in traj.message


def test_status_diverged_names_the_stability_limit_and_keeps_the_record(bowl):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning may reach the user
        traj = no.simulate(bowl, no.GradientDescent(0.6), [1.0, 1.0], n_steps=100_000)
    assert traj.status == "diverged"
    assert "2/λ_max = 0.5" in traj.message and "lr = 0.6" in traj.message
    # |1 − 0.6·4| = 1.4 per step in the stiff mode: V ∝ 1.96^k leaves V0 + 10³·(1 + V0) (the ledger's
    # bound for a method without a heat bath, newtonopt.engine.stopping.GROWTH_FACTOR) after about
    # log(10³·(1 + V0)/V0)/log 1.96 ≈ 11 steps (V0 = 2.5 here), where the far bound 10¹⁰ took about 35.
    assert 8 < traj.n_steps < 15
    assert len(traj.x) == traj.n_steps + 1 and np.isfinite(traj.x).all()


def test_diverging_heavy_ball_message_uses_its_own_limit(bowl):
    # Heavy ball: stable iff lr·λ < 2 + 2μ = 3.8 for μ = 0.9, i.e. lr < 0.95 here.
    traj = no.simulate(bowl, no.HeavyBall(1.0, 0.9), [1.0, 1.0], n_steps=100_000)
    assert traj.status == "diverged" and "0.95" in traj.message


def test_status_stopped_by_callback(bowl):
    seen = []

    def callback(state):
        seen.append(state.step)
        return state.step == 7

    traj = no.simulate(bowl, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=100, callback=callback)
    assert traj.status == "stopped" and traj.n_steps == 7 and seen == list(range(1, 8))
    assert traj.step[-1] == 7


def test_status_interrupted_keeps_everything_recorded(bowl):
    def callback(state):
        if state.step == 12:
            raise KeyboardInterrupt

    traj = no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], n_steps=100, callback=callback)
    assert traj.status == "interrupted" and traj.n_steps == 12
    np.testing.assert_array_equal(traj.step, np.arange(13))
    reference = no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], n_steps=12)
    np.testing.assert_array_equal(traj.x, reference.x)


def test_interrupt_raised_inside_the_potential(bowl):
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return bowl.value(x)

    V = no.Potential.from_function(f, bowl.gradient, dim=2)
    traj = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=100)
    assert traj.status == "interrupted" and traj.n_steps == 4


def test_an_error_in_the_potential_mid_run_is_reported_not_raised(bowl):
    def grad(x):
        if np.abs(x).max() < 0.5:
            raise RuntimeError("solver blew up")
        return bowl.gradient(x)

    V = no.Potential.from_function(bowl.value, grad, dim=2)
    with pytest.warns(RuntimeWarning, match="solver blew up"):
        traj = no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0], n_steps=100)
    assert traj.status == "failed" and "RuntimeError" in traj.message
    assert traj.n_steps > 0 and len(traj.x) == traj.n_steps + 1


def test_converged_at_the_start_takes_no_step(bowl):
    traj = no.simulate(bowl, no.GradientDescent(0.1), [0.0, 0.0], n_steps=10, gtol=1e-8)
    assert traj.status == "converged" and traj.n_steps == 0 and traj.counts["gradient"] == 1


# ---------------------------------------------------------------------------- ensembles
def test_ensemble_statuses_are_per_particle(bowl):
    lrs = np.array([0.1, 0.6, 0.2])  # the middle one is above 2/λ_max = 0.5
    traj = no.simulate(bowl, no.GradientDescent(lrs), np.ones((3, 2)), n_steps=5000, gtol=1e-8)
    assert list(traj.particle_status) == ["converged", "diverged", "converged"]
    assert traj.status == "diverged" and "1 of 3 particles diverged" in traj.message
    assert traj.converged_step[0] > traj.converged_step[2] > 0 and traj.diverged_step[1] > 0
    assert np.isfinite(traj.x_final).all()  # the diverged particle keeps its state at detection
    assert traj.potential_energy.shape == (traj.n_records, 3)


def test_ensemble_counts_one_evaluation_per_particle_per_step(bowl):
    traj = no.simulate(bowl, no.HeavyBall(0.1, 0.5), np.ones((5, 2)), n_steps=10)
    assert traj.counts == {"value": 55, "gradient": 55, "hessian": 0}


# ---------------------------------------------------------------------------- recording
def test_record_modes(bowl):
    full = no.simulate(bowl, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=20)
    scalars = no.simulate(bowl, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=20, record="scalars")
    final = no.simulate(bowl, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=20, record="final")
    thinned = no.simulate(bowl, no.HeavyBall(0.1, 0.5), [1.0, 1.0], n_steps=20, every=6)
    assert full.x.shape == (21, 2) and full.p.shape == (21, 2)
    assert scalars.x is None and scalars.p is None
    np.testing.assert_array_equal(scalars.potential_energy, full.potential_energy)
    np.testing.assert_array_equal(final.step, [0, 20])
    np.testing.assert_array_equal(final.x, full.x[[0, 20]])
    np.testing.assert_array_equal(final.energy_error, full.energy_error[[0, 20]])
    np.testing.assert_array_equal(thinned.step, [0, 6, 12, 18, 20])
    np.testing.assert_array_equal(thinned.x, full.x[[0, 6, 12, 18, 20]])
    for t in (full, scalars, final, thinned):
        np.testing.assert_array_equal(t.x_final, full.x[-1])


@pytest.mark.parametrize("record", ["all", "scalars", "final"])
def test_save_and_load_round_trip_exactly(tmp_path, bowl, record):
    traj = no.simulate(bowl, no.HeavyBall(np.array([0.1, 0.2]), 0.5), np.ones((2, 2)), n_steps=15, record=record,
                       gtol=1e-3)
    path = traj.save(tmp_path / "run.npz")
    back = no.Trajectory.load(path)
    for name in ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "total_energy", "dissipated",
                 "energy_error", "grad_norm", "x_final", "particle_status", "converged_step", "diverged_step"):
        a, b = getattr(traj, name), getattr(back, name)
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
    for name in ("status", "message", "n_steps", "counts", "method", "potential", "minimum_value", "record"):
        assert getattr(traj, name) == getattr(back, name)
    np.testing.assert_array_equal(back.params["lr"], [0.1, 0.2])
    raw = np.load(path, allow_pickle=False)  # no pickle needed to read it
    assert "__meta__" in raw.files


def test_float32_runs_stay_float32_with_a_float64_ledger(bowl):
    x0 = np.ones((4, 2), dtype=np.float32)
    traj = no.simulate(bowl, no.HeavyBall(0.1, 0.5), x0, n_steps=20)
    assert traj.x.dtype == np.float32 and traj.dissipated.dtype == np.float64


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("x0, match", [
    ([1.0, 2.0, 3.0], r"x0 must have shape \(2,\) or \(n, 2\).*got shape \(3,\)"),
    (np.ones((3, 4)), r"got shape \(3, 4\)"),
    ([1.0, np.nan], r"x0 must be finite, got nan at index \(1,\)"),
    ([np.inf, 1.0], r"x0 must be finite, got inf"),
    (5.0, r"x0 must have shape"),
])
def test_bad_x0(bowl, x0, match):
    with pytest.raises(ValueError, match=match):
        no.simulate(bowl, no.GradientDescent(0.1), x0)


def test_bad_x0_type(bowl):
    with pytest.raises(TypeError, match="x0 must be an array of real numbers"):
        no.simulate(bowl, no.GradientDescent(0.1), ["a", "b"])


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_steps": -1}, ValueError, "n_steps must be >= 0, got -1"),
    ({"n_steps": 2.5}, TypeError, "n_steps must be an integer, got 2.5"),
    ({"gtol": 0.0}, ValueError, "gtol must be finite and > 0.0, got 0.0"),
    ({"record": "everything"}, ValueError, "record must be one of .* got 'everything'"),
    ({"every": 0}, ValueError, "every must be >= 1, got 0"),
    ({"callback": 3}, TypeError, "callback must be callable or None, got 3"),
])
def test_bad_run_arguments(bowl, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], **kwargs)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: no.GradientDescent(0.0), ValueError, r"lr must be finite and > 0.0, got 0.0"),
    (lambda: no.GradientDescent(-1e-3), ValueError, r"lr must be finite and > 0.0, got -0.001"),
    (lambda: no.GradientDescent("fast"), TypeError, r"lr must be a real number.*'fast'"),
    (lambda: no.HeavyBall(0.1, 1.0), ValueError, r"momentum must be finite and in \[0.0, 1.0\), got 1.0"),
    (lambda: no.HeavyBall(0.1, -0.1), ValueError, r"momentum must be .* got -0.1"),
    (lambda: no.Nesterov(0.1, 1.5), ValueError, r"momentum must be .* got 1.5"),
    (lambda: no.HeavyBall(0.1, np.array([0.5, 1.2])), ValueError, r"momentum .* got 1.2 at index \(1,\)"),
    (lambda: no.VelocityVerlet(0.0), ValueError, r"dt must be finite and > 0.0, got 0.0"),
    (lambda: no.VelocityVerlet(0.1, mass=0.0), ValueError, r"mass must be finite and > 0.0, got 0.0"),
    (lambda: no.VelocityVerlet(0.1, friction=-1.0), ValueError, r"friction must be finite and >= 0.0, got -1.0"),
    (lambda: no.HeavyBall.from_physics(0.1, friction=-2.0), ValueError, r"friction .* got -2.0"),
    (lambda: no.HeavyBall.from_physics(0.1, 1.0, friction=20.0), ValueError, r"at most 1.*friction=20.0"),
    (lambda: no.GradientDescent.from_physics(-0.1), ValueError, r"dt must be finite and > 0.0, got -0.1"),
    (lambda: no.HeavyBall(0.1, True), TypeError, r"momentum must be a real number, got True"),
])
def test_bad_hyperparameters(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_per_particle_parameter_of_the_wrong_shape(bowl):
    with pytest.raises(ValueError, match=r"lr has shape \(2,\), but the ensemble has shape \(3,\)"):
        no.simulate(bowl, no.GradientDescent(np.array([0.1, 0.2])), np.ones((3, 2)))


@pytest.mark.parametrize("f, grad, match", [
    (lambda x: np.zeros(3), lambda x: np.zeros_like(x), r"value of shape \(3,\).*expected \(\)"),
    (lambda x: np.sum(x), lambda x: np.zeros(3), r"grad of 'bad' returned shape \(3,\)"),
    (lambda x: np.nan * np.sum(x), lambda x: np.zeros_like(x), r"not finite at x0: value nan"),
    (lambda x: np.sum(x), lambda x: np.full_like(x, np.inf), r"non-finite gradient at x0"),
])
def test_bad_potential_output_at_x0(f, grad, match):
    V = no.Potential.from_function(f, grad, dim=2, name="bad")
    with pytest.raises(ValueError, match=match):
        no.simulate(V, no.GradientDescent(0.1), [1.0, 1.0])


def test_wrong_types_of_potential_and_integrator(bowl):
    with pytest.raises(TypeError, match="potential must be a newtonopt Potential"):
        no.simulate(lambda x: x, no.GradientDescent(0.1), [1.0])
    with pytest.raises(TypeError, match="integrator must be a newtonopt Integrator"):
        no.simulate(bowl, "gd", [1.0, 1.0])


def test_growth_past_the_stability_limit_is_caught_early_by_the_ledger(bowl):
    # lr = 0.505 is just past 2/λ_max = 0.5: the stiff mode grows by |1 − 0.505·4| = 1.02 per step, V by
    # 1.0404. The ledger bounds V by E0 + ε (GROWTH_FACTOR = 10³): caught when V ≈ 10³·(1 + V0), about
    # log(1400)/log(1.0404) ≈ 183 steps, with |x| grown ~37-fold; the far bound 10¹⁰ took ~600 steps.
    traj = no.simulate(bowl, no.GradientDescent(0.505), [1.0, 1.0], n_steps=5_000)
    assert traj.status == "diverged" and 150 < traj.n_steps < 220
    assert "2/λ_max = 0.5" in traj.message and "10³" in traj.message
    assert 20 < np.abs(traj.x_final[1]) < 60


def test_bounded_and_heated_motions_are_not_taken_for_divergence(bowl):
    # Frictionless Verlet from rest keeps V ≤ E0 + O(dt²) for ever; a hot Langevin particle's V rises
    # far above V0 = 0 (at T = 10⁴, ⟨V⟩ = T per two coordinates), which the heat bath explains.
    verlet = no.simulate(bowl, no.VelocityVerlet(0.4), [1.0, 1.0], n_steps=20_000, record="final")
    assert verlet.status == "max_steps"
    hot = no.simulate(bowl, no.Langevin(0.05, temperature=1e4, seed=1), [0.0, 0.0], n_steps=2_000, record="final")
    assert hot.status == "max_steps" and hot.potential_energy[-1] > 1e3


def test_an_ensembles_status_counts_and_message_say_what_each_particle_did(bowl):
    starts = np.array([[1.0, 1.0], [0.5, -0.5], [2.0, 0.0]])
    lr = np.array([0.1, 0.6, 0.2])  # the middle particle is past 2/λ_max = 0.5
    traj = no.simulate(bowl, no.GradientDescent(lr), starts, n_steps=2_000, gtol=1e-8)
    assert traj.status_counts == {"converged": 2, "diverged": 1}
    assert "2 converged" in traj.message or "(2 converged)" in traj.message
    assert "(2 converged, 1 diverged)" in repr(traj)
    single = no.simulate(bowl, no.GradientDescent(0.1), [1.0, 1.0], n_steps=10)
    assert single.status_counts == {"max_steps": 1}
