"""Faults during a run (issue 10 §3) and checks of what a run starts from (§4).

A full disk, a SIGKILL, a callback raising StopIteration, the memory an ensemble's record
takes, and a ragged x0 / a resume on another potential / a saved state of the wrong shape.
"""

import errno
import gc
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import uuid

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.trajectory import RecordSink

from .test_resume_and_stream import assert_same

recording_module = sys.modules["newtonopt.engine.recording"]
V = Quadratic([1.0, 5.0], [0.3, -1.0])
N = 200


def small_blocks(monkeypatch, rows=16):
    """Stream in blocks of ``rows`` rows, so a short run writes many blocks."""
    monkeypatch.setattr(recording_module, "block_rows", lambda row_bytes, max_rows: int(min(max_rows, rows)),
                        raising=False)


def disk_full_after(monkeypatch, budget: int):
    """The writer stores ``budget`` bytes in all, then writes what fits and fails like a full disk."""
    left = {"bytes": budget}

    def append(path, data):
        raw = np.ascontiguousarray(data).tobytes()
        n = min(len(raw), left["bytes"])
        with open(path, "ab") as fh:
            fh.write(raw[:n])
        left["bytes"] -= n
        if n < len(raw):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(RecordSink, "_append", staticmethod(append))


def method():
    return no.HeavyBall(0.05, 0.8)


def ensemble_row_bytes(record):
    # step, t, then V, K, D, g for 3 particles, then x and p for 3 × 2 coordinates
    return 8 * (2 + 4 * 3 + (12 if record == "all" else 0))


@pytest.mark.parametrize("record", ["all", "scalars"])
@pytest.mark.parametrize("x0", [[[1.0, -2.0], [0.5, 0.5], [-1.0, 2.0]], [1.0, -2.0]], ids=["ensemble", "one"])
def test_a_full_disk_ends_the_run_resumably_and_keeps_every_record(monkeypatch, tmp_path, record, x0):
    x0 = np.array(x0)
    if x0.ndim == 1 and record == "scalars":
        row = 8 * 6
    elif x0.ndim == 1:
        row = 8 * 6 + 2 * 16
    else:
        row = ensemble_row_bytes(record)
    whole = no.simulate(V, method(), x0, n_steps=N, record=record)
    small_blocks(monkeypatch)
    disk_full_after(monkeypatch, int(2.5 * 16 * row))  # two blocks fit, the third is cut short
    folder = tmp_path / "run"
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        part = no.simulate(V, method(), x0, n_steps=N, record=record, record_to=folder)  # used to raise OSError
    # The third block is flushed when row 48 is recorded: the run stops after step 48, resumably.
    assert part.status == "failed" and part.n_steps == 48 and part.resumable
    assert "No space left on device" in part.message and "the folder holds the first 32 whole" in part.message
    assert part.n_records == 49
    for name in ("step", "x", "potential_energy", "grad_norm"):
        u = getattr(part, name)
        if u is not None:
            np.testing.assert_array_equal(u, getattr(whole, name)[:49], err_msg=name)

    on_disk = no.Trajectory.load(folder)  # readable up to the last complete block
    assert on_disk.status == "interrupted" and on_disk.n_records == 32
    np.testing.assert_array_equal(on_disk.potential_energy, whole.potential_energy[:32])
    assert not (folder / "final.npz").exists() and not (folder / "final.tmp").exists()

    monkeypatch.undo()  # space is free again
    rest = no.simulate(V, method(), part, n_steps=N - 48, record=record, record_to=tmp_path / "rest")
    assert_same(no.Trajectory.join(part, rest), whole)


@pytest.mark.parametrize("x0", [[[1.0, -2.0], [0.5, 0.5], [-1.0, 2.0]], [1.0, -2.0]], ids=["ensemble", "one"])
def test_a_full_disk_ends_a_compiled_run_resumably_and_keeps_every_record(monkeypatch, tmp_path, x0):
    """The compiled loop writes its rows straight into the recorder's block: when the disk refuses a
    block, the rows of the kernel's block in flight are kept too and the run ends after it."""
    pytest.importorskip("numba")
    x0 = np.array(x0)
    whole = no.simulate(V, method(), x0, n_steps=N, record="all")
    small_blocks(monkeypatch)
    row = 8 * 6 + 2 * 16 if x0.ndim == 1 else ensemble_row_bytes("all")
    disk_full_after(monkeypatch, int(2.5 * 16 * row))
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        part = no.simulate(V, method(), x0, n_steps=N, record="all", record_to=tmp_path / "run", backend="numba")
    assert part.status == "failed" and part.resumable and 48 <= part.n_steps < N
    assert part.n_records == part.n_steps + 1  # every step's row, none lost
    for name in ("step", "x", "p", "potential_energy", "grad_norm", "dissipated"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[:part.n_records], err_msg=name)
    assert no.Trajectory.load(tmp_path / "run").n_records == 32
    monkeypatch.undo()
    rest = no.simulate(V, method(), part, n_steps=N - part.n_steps, record="all", backend="numba")
    assert_same(no.Trajectory.join(part, rest), whole)


def test_a_disk_that_fills_on_the_last_write_keeps_the_run(monkeypatch, tmp_path):
    x0 = np.ones((3, 2))
    whole = no.simulate(V, method(), x0, n_steps=N)
    small_blocks(monkeypatch, rows=1000)  # one block, written when the run ends
    disk_full_after(monkeypatch, 100)
    with pytest.warns(RuntimeWarning, match="the run had ended: max_steps"):
        traj = no.simulate(V, method(), x0, n_steps=N, record_to=tmp_path / "run")
    assert traj.status == "failed" and traj.resumable and "the folder holds the first 0 whole" in traj.message
    assert_same(traj, whole)
    with pytest.raises(ValueError, match="holds no complete record"):
        no.Trajectory.load(tmp_path / "run")


def test_a_disk_that_refuses_final_npz_keeps_the_run(monkeypatch, tmp_path):
    whole = no.simulate(V, method(), [1.0, -2.0], n_steps=N)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", no_space)
    with pytest.warns(RuntimeWarning, match="writing final.npz"):
        traj = no.simulate(V, method(), [1.0, -2.0], n_steps=N, record_to=tmp_path / "run")
    monkeypatch.undo()
    assert traj.status == "failed" and traj.resumable and "reached n_steps" in traj.message
    assert_same(traj, whole)
    assert not (tmp_path / "run" / "final.tmp").exists()
    assert no.Trajectory.load(tmp_path / "run").n_records == N + 1  # every row, as an unfinished run


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        gc.collect()  # memory maps of files on the tmpfs keep it busy
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_real_full_disk_ends_the_run_resumably(tiny_tmpfs, tmp_path, monkeypatch):
    # 200 kB hold about 6 blocks of 16 rows of 64 particles; the run records 2001 rows.
    small_blocks(monkeypatch)
    x0 = np.ones((64, 2))
    whole = no.simulate(V, method(), x0, n_steps=2000)
    with pytest.warns(RuntimeWarning, match="No space left on device|requested and"):
        part = no.simulate(V, method(), x0, n_steps=2000, record_to=tiny_tmpfs / "run")
    assert part.status == "failed" and part.resumable and 0 < part.n_steps < 2000
    on_disk = no.Trajectory.load(tiny_tmpfs / "run")
    assert on_disk.n_records % 16 == 0 and 0 < on_disk.n_records <= part.n_records
    np.testing.assert_array_equal(on_disk.x, whole.x[: on_disk.n_records])
    del on_disk  # its memory maps would keep the tmpfs busy
    rest = no.simulate(V, method(), part, n_steps=2000 - part.n_steps, record_to=tmp_path / "rest")
    assert_same(no.Trajectory.join(part, rest), whole)


def test_after_sigkill_the_folder_reads_and_resuming_says_why_not(tmp_path):
    folder = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import numpy as np, newtonopt as no
        from newtonopt.potentials import Quadratic
        V = Quadratic([1.0, 5.0], [0.3, -1.0])
        no.simulate(V, no.HeavyBall(1e-4, 0.5), np.ones((64, 2)), n_steps=10**8, record_to={str(folder)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 60
        step_file = folder / "step.bin"
        while not (step_file.exists() and step_file.stat().st_size > 0):  # a block or more reached the disk
            assert proc.poll() is None and time.monotonic() < deadline, "the run did not start streaming"
            time.sleep(0.01)
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    traj = no.Trajectory.load(folder)
    assert traj.status == "interrupted" and traj.n_records > 0
    n = traj.n_records
    for name in ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm"):
        assert len(getattr(traj, name)) == n, name
    np.testing.assert_array_equal(traj.step, np.arange(n))
    with pytest.raises(ValueError, match=r"x0: this Trajectory has no final state to resume from \(.*no final\.npz: "
                                         r"its run was stopped \(killed, or its disk filled\) before it finished"):
        no.simulate(V, no.HeavyBall(1e-4, 0.5), traj, n_steps=5)


# ----------------------------------------------------------------------------- StopIteration
def test_a_callback_raising_stop_iteration_stops_the_run():
    def stop_at_7(state):
        if state.step == 7:
            raise StopIteration

    traj = no.simulate(V, method(), [1.0, -2.0], n_steps=50, callback=stop_at_7)  # was 'failed', with a warning
    assert traj.status == "stopped" and traj.n_steps == 7 and traj.resumable
    assert "StopIteration" in traj.message
    assert list(np.unique(traj.particle_status)) == ["stopped"]


def test_stop_iteration_raised_inside_a_step_is_a_failure():
    calls = {"n": 0}

    def grad(x):
        calls["n"] += 1
        if calls["n"] == 5:
            raise StopIteration  # e.g. an exhausted data iterator
        return V.gradient(x)

    W = no.Potential.from_function(V.value, grad, dim=2)
    with pytest.warns(RuntimeWarning, match="StopIteration"):
        traj = no.simulate(W, no.GradientDescent(0.05), [1.0, 1.0], n_steps=100)
    assert traj.status == "failed" and not traj.resumable


# ----------------------------------------------------------------------------- memory
def test_an_ensemble_scalar_record_peaks_near_its_own_size():
    # 10,000 particles × 300 records × (V, K, D, g): 96 MB. Concatenating blocks at the end took twice that.
    x0 = np.ones((10_000, 2))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        traj = no.simulate(V, no.GradientDescent(0.01), x0, n_steps=299, record="scalars")
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    record = sum(a.nbytes for a in (traj.t, traj.step, traj.potential_energy, traj.kinetic_energy, traj.dissipated,
                                    traj.grad_norm))
    assert record > 90e6
    assert peak <= 1.2 * record, (peak / 1e6, record / 1e6)


def test_a_record_that_stops_early_is_trimmed_to_its_rows():
    traj = no.simulate(V, no.GradientDescent(0.1), np.ones((4, 2)), n_steps=10**6, gtol=1e-6)
    assert traj.status == "converged" and traj.n_records == traj.n_steps + 1 < 1000
    assert traj.x.shape == (traj.n_records, 4, 2) and traj.x.flags.c_contiguous


# ----------------------------------------------------------------------------- §4: what a run starts from
def test_a_ragged_x0_is_one_clear_error():
    with pytest.raises(ValueError, match=r"x0 must be a rectangular array of shape \(2,\) or \(n, 2\) for .*"
                                         r"ragged sequence whose rows have lengths \[2, 1\]"):
        no.simulate(V, method(), [[1.0, 2.0], [3.0]], n_steps=5)


def test_resuming_on_a_potential_of_another_dimension_is_one_clear_error():
    traj = no.simulate(V, method(), [1.0, -2.0], n_steps=5)
    W = Quadratic([1.0, 5.0, 2.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"x0: the Trajectory's positions have shape \(2,\) \(dim 2\), but "
                                         r".* has dim 3"):
        no.simulate(W, method(), traj, n_steps=5)


@pytest.mark.parametrize("name, shape, ensemble", [("velocity", (3,), True), ("velocity", (2, 3), True),
                                                   ("velocity", (3,), False), ("x", (3, 2), False),
                                                   ("value", (2,), True), ("grad", (4,), False)])
def test_a_saved_state_of_the_wrong_shape_is_one_clear_error(tmp_path, name, shape, ensemble):
    x0 = [[1.0, -2.0], [0.5, 0.5], [-1.0, 2.0]] if ensemble else [1.0, -2.0]
    traj = no.simulate(V, method(), x0, n_steps=5)
    traj.final_state[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=r"x0: the saved state's '\w+' has shape \("):
        no.simulate(V, method(), traj, n_steps=5)


def test_a_saved_state_of_the_wrong_shape_from_a_file_is_one_clear_error(tmp_path):
    traj = no.simulate(V, no.Adam(0.05), [[1.0, -2.0], [0.5, 0.5]], n_steps=5)
    traj.final_state["m"] = np.zeros(2)  # per particle instead of per coordinate
    path = traj.save(tmp_path / f"{uuid.uuid4().hex}.npz")
    back = no.Trajectory.load(path)  # a shape some method's memory may have: only resuming can tell
    with pytest.raises(ValueError, match=r"x0: the saved state's 'm' has shape \(2,\), but Adam on positions of "
                                         r"shape \(2, 2\) keeps it with shape \(2, 2\)"):
        no.simulate(V, no.Adam(0.05), back, n_steps=5)
    meta = json.loads(str(np.load(path)["__meta__"]))
    assert meta["method"] == "Adam"
