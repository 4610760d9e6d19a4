"""Every parameter checked at the boundary (issue 10, §4): FIRE's factors against their meaning; strings,
complex numbers and booleans refused by every integrator and schedule; seeds checked when the method is
built; per-particle arrays checked against the ensemble before the first evaluation."""

import inspect
import warnings

import numpy as np
import pytest

import newtonopt as no
from newtonopt import schedules
from newtonopt.potentials import Quadratic, Rosenbrock

from .methods import NAMES, STOCHASTIC, missing_from

# Every integrator with arguments that build it; the first-listed parameters are the ones probed below.
ALL = {
    "GradientDescent": (no.GradientDescent, {"lr": 0.01}),
    "HeavyBall": (no.HeavyBall, {"lr": 0.01, "momentum": 0.5}),
    "Nesterov": (no.Nesterov, {"lr": 0.01, "momentum": 0.5}),
    "VelocityVerlet": (no.VelocityVerlet, {"dt": 0.05, "mass": 1.0, "friction": 0.5}),
    "ForwardEuler": (no.ForwardEuler, {"dt": 0.05, "mass": 1.0, "friction": 0.5}),
    "Langevin": (no.Langevin, {"dt": 0.05, "mass": 1.0, "friction": 0.5, "temperature": 0.1, "seed": 3}),
    "OverdampedLangevin": (no.OverdampedLangevin, {"dt": 0.01, "friction": 1.0, "temperature": 0.1, "seed": 3}),
    "Adagrad": (no.Adagrad, {"lr": 0.1, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0,
                             "eps": 1e-10}),
    "RMSprop": (no.RMSprop, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0}),
    "Adam": (no.Adam, {"lr": 0.01, "eps": 1e-8, "weight_decay": 0.0}),
    "FIRE": (no.FIRE, {"dt": 0.1, "maxstep": 0.2, "dtmax": 1.0, "finc": 1.1, "fdec": 0.5, "astart": 0.1,
                       "fa": 0.99, "a": 0.1}),
    "RelativisticGD": (no.RelativisticGD, {"dt": 0.05, "mass": 1.0, "friction": 0.5, "light_speed": 2.0}),
    "HamiltonianDescent": (lambda **kw: no.HamiltonianDescent(kinetic="power", **kw),
                           {"dt": 0.05, "friction": 0.5, "power": 1.5}),
    "NesterovConvex": (no.NesterovConvex, {"lr": 0.01}),
}
# (integrator, parameter) for every real-valued hyperparameter.
REAL_PARAMS = [(cls, name) for cls, (_, kw) in ALL.items() for name in kw if name != "seed"]


def test_the_table_covers_every_integrator():
    assert missing_from(ALL) == [] and set(ALL) <= set(NAMES)


# --------------------------------------------------------------------------------------------- FIRE
@pytest.mark.parametrize("kwargs, match", [
    ({"fdec": 2.0}, r"fdec must be finite and in \(0.0, 1.0\), got 2.0"),
    ({"fdec": 1.0}, r"fdec must be .* got 1.0"),
    ({"fdec": 0.0}, r"fdec must be .* got 0.0"),
    ({"finc": 0.5}, r"finc must be finite and > 1.0, got 0.5"),
    ({"finc": 1.0}, r"finc must be finite and > 1.0, got 1.0"),
    ({"fa": 2.0}, r"fa must be finite and in \(0.0, 1.0\), got 2.0"),
    ({"fa": 0.0}, r"fa must be .* got 0.0"),
    ({"astart": 0.0}, r"astart must be finite and in \(0.0, 1.0\], got 0.0"),
    ({"astart": 1.5}, r"astart must be .* got 1.5"),
    ({"a": -0.1}, r"a must be finite and in \[0.0, 1.0\], got -0.1"),
    ({"dt": 2.0}, r"dt must be <= dtmax, got dt=2.0, dtmax=1.0"),
    ({"dt": 0.5, "dtmax": 0.1}, r"dt must be <= dtmax, got dt=0.5, dtmax=0.1"),
    ({"fdec": np.array([0.5, 2.0, 0.5])}, r"fdec must be .* for every particle, got 2.0 at index \(1,\)"),
    ({"finc": np.array([1.1, 1.2, 0.9])}, r"finc must be .* for every particle, got 0.9 at index \(2,\)"),
    ({"fa": np.array([1.5, 0.9, 0.9])}, r"fa must be .* for every particle, got 1.5 at index \(0,\)"),
    ({"astart": np.array([0.1, 0.0, 0.1])}, r"astart must be .* for every particle, got 0.0 at index \(1,\)"),
    ({"dt": np.array([0.1, 0.1, 3.0])}, r"dt must be <= dtmax for every particle, got dt=3.0, dtmax=1.0 at index "
                                        r"\(2,\)"),
    ({"dt": 0.5, "dtmax": np.array([1.0, 0.2, 1.0])}, r"got dt=0.5, dtmax=0.2 at index \(1,\)"),
])
def test_fire_parameters_are_checked_against_their_meaning(kwargs, match):
    # ASE's FIRE: the step is cut by fdec < 1 on an uphill move and grown by finc > 1 up to dtmax; the
    # mixing a starts at astart and decays by fa < 1.
    with pytest.raises(ValueError, match=match):
        no.FIRE(**kwargs)


@pytest.mark.parametrize("Nmin, exc, match", [
    (-1, ValueError, "Nmin must be >= 0, got -1"),
    (2.5, TypeError, "Nmin must be an integer, got 2.5"),
    ("5", TypeError, "Nmin must be an integer, got '5'"),
    (True, TypeError, "Nmin must be an integer, got True"),
])
def test_fire_nmin_is_a_nonnegative_integer(Nmin, exc, match):
    with pytest.raises(exc, match=match):
        no.FIRE(Nmin=Nmin)


def test_fire_edge_values_that_keep_the_meaning_are_accepted():
    no.FIRE(dt=1.0, dtmax=1.0, astart=1.0, a=1.0, Nmin=0)  # dt = dtmax, full mixing: still FIRE
    no.FIRE(dt=np.array([0.1, 0.5]), dtmax=np.array([0.2, 0.5]), fdec=np.array([0.5, 0.9]))


def test_fire_with_fdec_above_one_no_longer_runs_away():
    # The issue's probe: with fdec = 2 and dtmax = 1e6 the adaptive step reached 2e46 under 'max_steps'.
    with pytest.raises(ValueError, match="fdec"):
        no.FIRE(fdec=2.0, dtmax=1e6)


# ----------------------------------------------------------------------------- strings, complex, bools
@pytest.mark.parametrize("cls, name", REAL_PARAMS)
def test_a_number_given_as_a_string_is_a_type_error(cls, name):
    make, kwargs = ALL[cls]
    with pytest.raises(TypeError, match=rf"^{name} must be a real number.*'{kwargs[name]!r}'"):
        make(**{**kwargs, name: repr(kwargs[name])})


@pytest.mark.parametrize("cls, name", REAL_PARAMS)
def test_a_complex_array_is_a_type_error_not_truncated(cls, name):
    make, kwargs = ALL[cls]
    value = np.array([kwargs[name] + 5j, kwargs[name]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's ComplexWarning would be the old behaviour's only trace
        with pytest.raises(TypeError, match=rf"^{name} must be real, got the complex value"):
            make(**{**kwargs, name: value})


@pytest.mark.parametrize("cls, name", REAL_PARAMS)
def test_a_complex_scalar_and_a_boolean_array_are_type_errors(cls, name):
    make, kwargs = ALL[cls]
    with pytest.raises(TypeError, match=rf"^{name} must be real, got the complex value"):
        make(**{**kwargs, name: np.complex128(kwargs[name])})
    with pytest.raises(TypeError, match=rf"^{name} must be a real number.*booleans"):
        make(**{**kwargs, name: np.array([True, False])})


def test_adam_betas_entries_are_checked_the_same_way():
    with pytest.raises(TypeError, match=r"betas\[0\] must be a real number.*'0.9'"):
        no.Adam(betas=("0.9", 0.999))
    with pytest.raises(TypeError, match=r"betas\[1\] must be real, got the complex value"):
        no.Adam(betas=(0.9, 0.999 + 1j))


def test_the_issues_probes():
    with pytest.raises(TypeError, match="lr must be a real number or an array of real numbers, got the string '0.1'"):
        no.GradientDescent("0.1")
    with pytest.raises(TypeError, match=r"lr must be real, got the complex value \[0.1\+5.j 0.2\+0.j\]"):
        no.GradientDescent(lr=np.array([0.1 + 5j, 0.2]))


def test_real_numbers_of_every_kind_are_still_accepted():
    assert no.GradientDescent(1).lr == 1.0  # an int
    assert no.GradientDescent(np.float32(0.5)).lr == 0.5
    assert no.GradientDescent(np.int64(2)).lr == 2.0
    lr = no.GradientDescent([0.1, np.float64(0.2), 1]).lr  # a list mixing Python and numpy numbers
    assert lr.dtype == np.float64 and lr.tolist() == [0.1, 0.2, 1.0]


SCHEDULES = {
    "Constant": (schedules.Constant, {"value": 0.1}),
    "StepDecay": (schedules.StepDecay, {"initial": 0.1, "factor": 0.5}),
    "Exponential": (schedules.Exponential, {"initial": 0.1, "rate": 0.99}),
    "Cosine": (schedules.Cosine, {"initial": 0.1, "final": 0.0}),
    "InverseTime": (schedules.InverseTime, {"initial": 0.1, "decay": 0.01}),
    "Linear": (schedules.Linear, {"initial": 0.1, "final": 0.0, "n_steps": 10}),
    "Logarithmic": (schedules.Logarithmic, {"c": 1.0}),
}
SCHEDULE_PARAMS = [(s, name) for s, (_, kw) in SCHEDULES.items() for name in kw if name != "n_steps"]


def test_the_schedule_table_covers_every_schedule():
    assert set(SCHEDULES) == set(schedules.SCHEDULES)


@pytest.mark.parametrize("sched, name", SCHEDULE_PARAMS)
def test_schedule_parameters_refuse_strings_complex_bools_and_arrays(sched, name):
    make, kwargs = SCHEDULES[sched]
    bad = [(repr(kwargs[name]), "string"), (kwargs[name] + 1j, "complex"), (True, "True"),
           (np.array([kwargs[name], kwargs[name]]), "array of shape")]
    for value, what in bad:
        with pytest.raises(TypeError, match=rf"^{name} must be (a )?real.*{what}"):
            make(**{**kwargs, name: value})


@pytest.mark.parametrize("sched, name", SCHEDULE_PARAMS)
def test_schedule_parameters_accept_numpy_scalars(sched, name):
    make, kwargs = SCHEDULES[sched]
    value = np.float32(kwargs[name]) if isinstance(kwargs[name], float) else kwargs[name]
    assert make(**{**kwargs, name: value}).params()[name] == pytest.approx(kwargs[name], rel=1e-6)


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.StepDecay(0.1, factor=0.0), "factor must be finite and > 0.0, got 0.0"),
    (lambda: schedules.Exponential(np.inf, 0.9), "initial must be finite, got inf"),
    (lambda: schedules.Logarithmic(-1.0), "c must be finite and > 0.0, got -1.0"),
])
def test_schedule_ranges(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -------------------------------------------------------------------------------------------------- seeds
SEEDED = [ALL[name][0] for name in sorted(STOCHASTIC)]


def test_every_integrator_with_a_seed_is_listed():
    # The registry's "stochastic" (the class's flag) and the constructor's seed argument agree.
    seeded = {c for c in (ALL[k][0] for k in ALL) if "seed" in inspect.signature(c).parameters}
    assert SEEDED and seeded == set(SEEDED)


@pytest.mark.parametrize("cls", SEEDED)
@pytest.mark.parametrize("seed, exc, match", [
    (-3, ValueError, "seed must be a non-negative int, got -3"),
    (np.array([1, -2, 3]), ValueError, r"seed must be non-negative for every particle, got -2 at index \(1,\)"),
    ([4, -1], ValueError, r"seed must be non-negative for every particle, got -1 at index \(1,\)"),
    (np.array([1.5, 2.0]), TypeError, r"seed must be an int >= 0.*dtype float64"),
    ("7", TypeError, "seed must be an int >= 0.*'7'"),
    (True, TypeError, "seed must be an int >= 0.*True"),
    (2.0, TypeError, "seed must be an int >= 0.*2.0"),
    (np.array([True, False]), TypeError, "seed must be an int >= 0.*dtype bool"),
])
def test_seeds_are_checked_when_the_method_is_built(cls, seed, exc, match):
    with pytest.raises(exc, match=match):
        cls(0.01, seed=seed)  # no simulate call: the constructor alone must refuse it


@pytest.mark.parametrize("cls", SEEDED)
def test_valid_seeds_give_the_same_runs_as_before(cls):
    V = Quadratic([1.0, 2.0])
    x0 = np.array([[1.0, 1.0], [0.5, -0.5]])
    a = no.simulate(V, cls(0.01, seed=[11, 12]), x0, 20)
    b = no.simulate(V, cls(0.01, seed=np.array([11, 12])), x0, 20)
    np.testing.assert_array_equal(a.x, b.x)
    one = no.simulate(V, cls(0.01, seed=12), x0[1], 20)  # an array of seeds: particle i runs as seed[i] alone
    np.testing.assert_array_equal(a.x[:, 1], one.x)
    gen = no.simulate(V, cls(0.01, seed=np.random.default_rng(5)), x0, 5)
    assert gen.status == "max_steps"


# -------------------------------------------------------------------------- per-particle arrays vs ensemble
def _array_case(cls):
    """The integrator with its first parameter given per particle for 2 particles."""
    make, kwargs = ALL[cls]
    name = next(iter(kwargs))
    return name, make(**{**kwargs, name: np.array([kwargs[name], kwargs[name]])})


@pytest.mark.parametrize("cls", list(ALL))
def test_a_per_particle_array_of_the_wrong_length_fails_before_the_first_evaluation(cls):
    name, integ = _array_case(cls)
    V = Rosenbrock()
    V.reset_counts()
    with pytest.raises(ValueError, match=rf"^{name} has shape \(2,\), but the ensemble has shape \(3,\) "
                                         rf"\(x0 has shape \(3, 2\)\)"):
        no.simulate(V, integ, np.zeros((3, 2)), 5)
    assert V.counts["value"] == 0 and V.counts["gradient"] == 0  # refused at the start, nothing evaluated


@pytest.mark.parametrize("cls", list(ALL))
def test_a_per_particle_array_for_one_particle_fails_at_the_start(cls):
    name, integ = _array_case(cls)
    with pytest.raises(ValueError, match=rf"^{name} has shape \(2,\), but the ensemble has shape \(\)"):
        no.simulate(Rosenbrock(), integ, np.zeros(2), 5)


@pytest.mark.parametrize("cls", list(ALL))
def test_a_per_particle_array_of_the_right_length_runs(cls):
    _, integ = _array_case(cls)
    traj = no.simulate(Rosenbrock(), integ, np.zeros((2, 2)), 3)
    assert traj.status == "max_steps"


def test_fire_mismatch_is_caught_for_every_parameter():
    # Before the check, FIRE raised numpy's broadcast error at step 1 (or, for a and dt, not at all).
    for name, value in [("dt", 0.05), ("maxstep", 0.2), ("dtmax", 1.0), ("finc", 1.1), ("fdec", 0.5),
                        ("astart", 0.1), ("fa", 0.99), ("a", 0.1)]:
        integ = no.FIRE(**{name: np.full(2, value)})
        with pytest.raises(ValueError, match=rf"^{name} has shape \(2,\), but the ensemble has shape \(3,\)"):
            no.simulate(Rosenbrock(), integ, np.zeros((3, 2)), 3)


def test_adam_betas_arrays_and_seed_arrays_are_checked_against_the_ensemble():
    with pytest.raises(ValueError, match=r"^betas\[1\] has shape \(2,\), but the ensemble has shape \(3,\)"):
        no.simulate(Rosenbrock(), no.Adam(betas=(0.9, np.array([0.99, 0.999]))), np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match=r"^seed has shape \(2,\), but the ensemble has shape \(3,\)"):
        no.simulate(Rosenbrock(), no.Langevin(0.01, seed=[1, 2]), np.zeros((3, 2)), 3)


def test_resuming_an_ensemble_with_parameters_of_another_length_fails_at_the_start():
    V = Rosenbrock()
    first = no.simulate(V, no.GradientDescent(np.array([1e-3, 2e-3, 3e-3])), np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match=r"^lr has shape \(2,\), but the ensemble has shape \(3,\)"):
        no.simulate(V, no.GradientDescent(np.array([1e-3, 2e-3])), first, 3)
