"""Long runs: resuming bitwise from a Trajectory, streaming the record to disk, Ctrl-C between steps."""

import os
import signal

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.schedules import Cosine

from .methods import every_method

V = Quadratic([1.0, 5.0], [0.3, -1.0])

# Every method, with settings that keep each kind of memory busy (AMSGrad's maximum, a centred RMSprop's
# mean, Adagrad's decay), and a scheduled learning rate.
METHODS = {**every_method({
    "GradientDescent": lambda: no.GradientDescent(0.05),
    "HeavyBall": lambda: no.HeavyBall(0.05, 0.8),
    "Nesterov": lambda: no.Nesterov(0.05, 0.8),
    "VelocityVerlet": lambda: no.VelocityVerlet(0.1, friction=0.3),
    "ForwardEuler": lambda: no.ForwardEuler(0.02, friction=0.3),
    "Langevin": lambda: no.Langevin(0.1, temperature=0.4, seed=9),
    "OverdampedLangevin": lambda: no.OverdampedLangevin(0.05, temperature=0.4, seed=9),
    "Adam": lambda: no.Adam(0.05, amsgrad=True),
    "RMSprop": lambda: no.RMSprop(0.01, momentum=0.5, centered=True),
    "Adagrad": lambda: no.Adagrad(0.2, lr_decay=0.01),
    "FIRE": lambda: no.FIRE(dt=0.05),
    "RelativisticGD": lambda: no.RelativisticGD(0.1, friction=0.3, light_speed=0.5),
    "HamiltonianDescent": lambda: no.HamiltonianDescent(0.1, friction=0.3, kinetic="power", power=4 / 3),
    "NesterovConvex": lambda: no.NesterovConvex(0.05),  # its momentum (k − 1)/(k + 2) needs the saved k
}), "scheduled": lambda: no.HeavyBall(Cosine(0.05, 0.01, 70), 0.8)}
ARRAYS = ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm", "x_final",
          "converged_step", "diverged_step")


def assert_same(a, b):
    for name in ARRAYS:
        u, v = getattr(a, name), getattr(b, name)
        if u is None:
            assert v is None, name
        else:
            np.testing.assert_array_equal(u, v, err_msg=name)
    np.testing.assert_array_equal(a.energy_error, b.energy_error)


@pytest.mark.parametrize("x0", [[[1.0, -2.0], [0.5, 0.5], [-1.0, 2.0]], [1.0, -2.0]], ids=["ensemble", "one particle"])
@pytest.mark.parametrize("name", list(METHODS))
def test_a_resumed_run_equals_the_uninterrupted_run_bitwise(name, x0, tmp_path):
    x0 = np.array(x0)
    n = len(x0) if x0.ndim == 2 else 1
    whole = no.simulate(V, METHODS[name](), x0, n_steps=100)
    part = no.simulate(V, METHODS[name](), x0, n_steps=37)
    part.save(tmp_path / "part.npz")
    rest = no.simulate(V, METHODS[name](), no.Trajectory.load(tmp_path / "part.npz"), n_steps=63)
    assert rest.step[0] == 37 and rest.n_steps == 100
    assert_same(no.Trajectory.join(part, rest), whole)
    assert rest.counts["gradient"] == 63 * n  # resuming evaluates nothing again


def test_a_resumed_run_keeps_recording_every_kth_step():
    # Records fall on the multiples of `every` (and on the last step), whatever step a run resumes from.
    whole = no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, -2.0], n_steps=100, every=7)
    part = no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, -2.0], n_steps=37, every=7)
    rest = no.simulate(V, no.HeavyBall(0.05, 0.8), part, n_steps=63, every=7)
    np.testing.assert_array_equal(part.step, [0, 7, 14, 21, 28, 35, 37])
    np.testing.assert_array_equal(rest.step, [37, 42, 49, 56, 63, 70, 77, 84, 91, 98, 100])
    np.testing.assert_array_equal(whole.step, list(range(0, 100, 7)) + [100])
    np.testing.assert_array_equal(whole.x[-1], rest.x[-1])


def test_an_interrupted_run_resumes_bitwise():
    def stop_at_20(state):
        if state.step == 20:
            raise KeyboardInterrupt

    whole = no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, 1.0], n_steps=50)
    part = no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, 1.0], n_steps=50, callback=stop_at_20)
    assert part.status == "interrupted" and part.resumable
    rest = no.simulate(V, no.HeavyBall(0.05, 0.8), part, n_steps=30)
    assert_same(no.Trajectory.join(part, rest), whole)


def test_ctrl_c_ends_the_run_after_the_current_step():
    def press_ctrl_c(state):
        if state.step == 10:
            os.kill(os.getpid(), signal.SIGINT)

    # Python's own Ctrl-C handler, whatever the launcher left: a shell's background job inherits SIGINT
    # ignored, and Python then installs no handler at all (nothing to defer, nothing to press).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        traj = no.simulate(V, no.GradientDescent(0.05), [1.0, 1.0], n_steps=1000, callback=press_ctrl_c)
        assert traj.status == "interrupted" and traj.n_steps == 10 and traj.resumable
        assert "Ctrl-C" in traj.message
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_run_interrupted_inside_a_step_is_not_resumable():
    calls = {"n": 0}

    def grad(x):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return V.gradient(x)

    W = no.Potential.from_function(V.value, grad, dim=2)
    traj = no.simulate(W, no.GradientDescent(0.05), [1.0, 1.0], n_steps=100)
    assert traj.status == "interrupted" and not traj.resumable
    with pytest.raises(ValueError, match="cannot be resumed"):
        no.simulate(W, no.GradientDescent(0.05), traj, n_steps=5)


def test_resuming_with_another_method_is_refused():
    traj = no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, 1.0], n_steps=5)
    with pytest.raises(ValueError, match="recorded by HeavyBall, but the integrator is VelocityVerlet"):
        no.simulate(V, no.VelocityVerlet(0.1), traj, n_steps=5)


@pytest.mark.parametrize("record", ["all", "scalars"])
def test_streamed_record_equals_the_in_memory_record(tmp_path, record):
    x0 = np.ones((4, 2))
    memory = no.simulate(V, no.Langevin(0.1, temperature=0.2, seed=1), x0, n_steps=3000, record=record, every=2)
    folder = tmp_path / "run"
    streamed = no.simulate(V, no.Langevin(0.1, temperature=0.2, seed=1), x0, n_steps=3000, record=record, every=2,
                           record_to=folder)
    assert isinstance(streamed.potential_energy, np.memmap)  # read back lazily
    assert_same(streamed, memory)
    loaded = no.Trajectory.load(folder)
    assert_same(loaded, memory)
    assert loaded.status == memory.status and loaded.resumable


def test_streamed_record_larger_than_one_block_is_written_in_pieces(tmp_path):
    # The recorder's blocks hold about 4 MiB; 20,000 records of 64 particles × 2 coordinates span several.
    folder = tmp_path / "big"
    traj = no.simulate(V, no.GradientDescent(0.01), np.ones((64, 2)), n_steps=20_000, record_to=folder)
    assert traj.x.shape == (20_001, 64, 2)
    assert os.path.getsize(folder / "x.bin") == 20_001 * 64 * 2 * 8


@pytest.mark.parametrize("record", ["all", "final"])
def test_a_single_particle_stream_spans_several_blocks(tmp_path, record):
    # One 2-D particle records 64 bytes a row; a 4 MiB block holds 65,536 rows, so 150,000 steps flush twice.
    memory = no.simulate(V, no.HeavyBall(0.01, 0.5), [1.0, -2.0], n_steps=150_000, record=record)
    streamed = no.simulate(V, no.HeavyBall(0.01, 0.5), [1.0, -2.0], n_steps=150_000, record=record,
                           record_to=tmp_path / "one")
    assert memory.n_records == (150_001 if record == "all" else 2)
    assert_same(streamed, memory)
    assert_same(no.Trajectory.load(tmp_path / "one"), memory)


def test_a_stream_whose_run_never_finished_keeps_its_rows(tmp_path):
    folder = tmp_path / "crashed"
    no.simulate(V, no.GradientDescent(0.01), np.ones((64, 2)), n_steps=20_000, record_to=folder)
    (folder / "final.npz").unlink()  # as if the process had died before the end
    traj = no.Trajectory.load(folder)
    assert traj.status == "interrupted" and traj.n_records == 20_001


def test_record_to_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "other.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        no.simulate(V, no.GradientDescent(0.01), [1.0, 1.0], n_steps=2, record_to=tmp_path / "f")
