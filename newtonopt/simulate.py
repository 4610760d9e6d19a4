"""The run loop: step an integrator on a potential, stop by rule, record a Trajectory.

The loop composes the engine's jobs (:mod:`newtonopt.engine`): the start's layout, the recording
policy, each particle's stopping events, Ctrl-C, resumption and the diagnosis of the end; a
backend (the methods' own rules, or the compiled loop) takes the steps. It never raises mid-run:
whatever ends a run, everything recorded so far comes back in the Trajectory with a status and a
message.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._validation import _describe, as_int, positive
from .backends import check_backend
from .backends import select as select_backend
from .core.progress import progress_bar
from .engine.diagnosis import divergence_cause, warn_failed, write_failure
from .engine.interrupt import DeferredInterrupt
from .engine.recording import RECORD_MODES, ParticleRecorder, Recorder, RecordWriteError
from .engine.resume import check_resume
from .engine.sharpness import SharpnessTracker
from .engine.start import prepare_start
from .engine.stopping import DIVERGENCE_FACTOR, Watch
from .integrators.base import Integrator
from .potential import Potential
from .trajectory import RecordSink, Trajectory

__all__ = ["simulate", "prepare_start", "RECORD_MODES", "DIVERGENCE_FACTOR"]


def simulate(potential: Potential, integrator: Integrator, x0, n_steps: int = 1000, *, gtol: float | None = None,
             record: str = "all", every: int = 1, callback=None, record_to=None, backend: str = "numpy",
             workers: int | None = None, sharpness_every: int | None = None, sharpness_top: int = 1,
             progress: bool | None = None) -> Trajectory:
    """Run ``integrator`` on ``potential`` from ``x0`` and record the trajectory.

    Parameters
    ----------
    potential : Potential
        The landscape V(x).
    integrator : Integrator
        The method (GradientDescent, HeavyBall, Nesterov, VelocityVerlet, ...).
    x0 : array_like, shape (dim,) or (n, dim), or Trajectory
        The start; a 2-D x0 is an ensemble of independent particles run together,
        vectorized (a scalar is accepted when dim = 1). A Trajectory continues
        that run from its last state (momenta, adaptive memory, step count,
        noise streams, a minibatch potential's random state): the continuation
        equals, bitwise, the uninterrupted run (see :meth:`Trajectory.join`).
    n_steps : int
        The most steps to take (status 'max_steps' when reached); when
        resuming, the number of further steps.
    gtol : float, optional
        Stop when ‖∇V‖₂ ≤ gtol for every particle (status 'converged'); each
        particle's first such step is in ``converged_step``.
    record : {'all', 'scalars', 'final'}
        'all' keeps x (and p) at every record; 'scalars' keeps only the
        per-particle ledger and gradient norms, so memory does not grow with
        dim; 'final' keeps the first and the last record only.
    every : int
        Record every ``every``-th step (the last step is always recorded).
    callback : callable, optional
        ``callback(state)`` after each step; returning True or raising
        StopIteration (scipy's convention) stops the run (status 'stopped').
    record_to : path, optional
        Stream the record to this folder as it is made (one raw binary file per
        field plus JSON metadata; no pickle), so a record larger than memory is
        kept whole; the returned Trajectory reads it back lazily (memory maps),
        and so does :meth:`Trajectory.load` on the folder. If a write fails (a
        full disk), the run ends there with status 'failed' and a message saying
        so, keeps every record (in memory) and stays resumable; the folder is
        cut back to the blocks written whole and reads as an unfinished run.
    backend : {'numpy', 'numba', 'auto'}
        Who takes the steps. 'numpy' (the default) runs the methods' own
        rules (their ``update``, each expression one ufunc per node): the
        readable reference. 'numba' runs the whole step loop compiled
        (``pip install 'newtonopt[fast]'``) for every method of the package
        on the library's Quadratic, Rosenbrock, Himmelblau, Beale,
        Müller–Brown, Lennard-Jones, DoubleWell, Rastrigin and on formulas
        (one kernel per (method, potential) pair, compiled on first use and
        cached on disk), returning to Python only between blocks of steps
        (so callbacks, Ctrl-C, streaming and resume work as with numpy); it
        refuses anything else (a Python function is not compiled) and
        scheduled hyperparameters with a ValueError. 'auto' uses numba where it
        can and where it is ready or the run is long enough to repay its
        compile (for a potential that calls exp, sin…, only up to 64
        coordinates in all), numpy otherwise, quietly. On potentials built from + − × ÷ √
        both give the same bits; where exp, sin… enter, numba's are the C
        library's and numpy's its SIMD kernels, which can differ in the last
        bit (measured: tests/test_backend_matrix.py's MEASURED_ULPS).
    workers : int, optional
        Threads over which the compiled backend splits an ensemble's
        particles, a chunk each (default 1); bitwise the same result for
        any number.
    sharpness_every : int, optional
        Measure the sharpness — the largest Hessian eigenvalue of each
        particle, by Lanczos on Hessian–vector products — at step 0 and every
        ``sharpness_every`` steps (Cohen et al. 2021's diagnostic: gradient
        descent is stable while it stays below 2/lr). Stored as
        ``Trajectory.sharpness`` with ``Trajectory.sharpness_step``; the
        evaluations it makes are not counted in ``counts``. With the
        compiled backend the run returns to Python at those steps.
    sharpness_top : int
        How many of the largest eigenvalues to keep (then ``sharpness`` has
        a last axis of that length).
    progress : bool, optional
        A progress bar over the steps (tqdm, ``pip install 'newtonopt[progress]'``):
        None (default) shows one only in a terminal or notebook and only when
        the run is projected to take more than about 2 s; True always; False
        never. It costs the loop one integer comparison per step when hidden.

    Returns
    -------
    Trajectory
        Never raises once started: divergence (non-finite or exploding V),
        Ctrl-C (status 'interrupted': the first Ctrl-C ends the run after the
        current step, a second one at once), errors raised by the potential
        or the callback and failed writes to ``record_to`` (status 'failed',
        with a warning) all return what was recorded.

    Raises
    ------
    TypeError, ValueError
        Before the run starts, for a bad argument: a ragged or non-finite x0,
        or a Trajectory x0 that cannot be continued (no saved state, recorded
        by another method or on a potential of another dimension, or a saved
        state whose shapes do not fit), each with a message saying what was
        expected.

    Notes
    -----
    Each step costs one evaluation of V and ∇V per particle (plus the one at
    x0); the counts are in ``Trajectory.counts``.
    """
    if not isinstance(potential, Potential):
        raise TypeError(f"potential must be a newtonopt Potential, got {_describe(potential)}")
    if not isinstance(integrator, Integrator):
        raise TypeError(f"integrator must be a newtonopt Integrator, got {_describe(integrator)}")
    n_steps = as_int("n_steps", n_steps, low=0)
    gtol = None if gtol is None else positive("gtol", gtol)
    if record not in RECORD_MODES:
        raise ValueError(f"record must be one of {RECORD_MODES}, got {record!r}")
    every = as_int("every", every, low=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {_describe(callback)}")
    backend, workers = check_backend(backend, workers)
    sharpness = None if sharpness_every is None else SharpnessTracker(potential, sharpness_every, sharpness_top)
    resumed_from = x0 if isinstance(x0, Trajectory) else None
    if resumed_from is None:
        x = prepare_start(potential, x0)
        start = x
    else:
        check_resume(potential, integrator, resumed_from)
        start = np.asarray(resumed_from.final_state["x"])
    compiled = select_backend(backend, workers, potential, integrator, start.dtype, start.size, n_steps)
    sink = None if record_to is None else RecordSink(Path(record_to))

    counts_before = dict(potential.counts)
    with np.errstate(all="ignore"), DeferredInterrupt() as ctrl_c:
        if resumed_from is None:
            state = integrator.init(potential, x)
        else:
            state = integrator.resume(potential, resumed_from.final_state)
            if resumed_from.potential_state is not None and hasattr(potential, "set_state"):
                potential.set_state(resumed_from.potential_state)
        first = state.step
        # A compiled run writes its rows straight into a Recorder's block; numpy's lone particle packs each
        # row into a ParticleRecorder's bytes (cheaper than numpy item assignments).
        recorder_type = ParticleRecorder if state.x.ndim == 1 and compiled is None else Recorder
        recorder = recorder_type(record, every, integrator, state, n_steps, sink)
        watch = Watch(state, gtol, energy_bounded=integrator.energy_bounded)
        recorder.record(state)
        if sharpness is not None:
            sharpness.measure(state)
        status, message = None, ""

        def stop_reason(k: int, finished: bool) -> tuple | None:
            """(status, message) when the run ends after step k, else None; one rule for both loops."""
            if finished:
                return ("diverged" if (watch.diverged_step >= 0).any() else "converged"), message
            if sharpness is not None:
                sharpness.measure(state)
            if callback is not None and callback(state):
                return "stopped", f"stopped by the callback at step {k}"
            if ctrl_c.requested:
                return "interrupted", f"interrupted by Ctrl-C after step {k}"
            return None

        k = first  # the step being taken: the state is consistent (resumable) when state.step == k
        bar = progress_bar(n_steps, progress=progress, desc=f"simulate {type(integrator).__name__}", unit="step")
        report_at = first + bar.next_check  # the step at which to tell the bar next
        try:
            if gtol is not None and watch.check(state):
                status = "diverged" if (watch.diverged_step >= 0).any() else "converged"
            scheduled = integrator.scheduled
            stepper = integrator
            step, check, record_row = stepper.step, watch.check, recorder.record  # bound once: a hot loop
            next_record = (first // every + 1) * every if record != "final" else -1  # multiples of every
            if compiled is not None:  # blocks of compiled steps; between them, the same bookkeeping as below
                run = compiled.CompiledRun(potential, integrator, state, watch, record, workers)
                last = first + n_steps if status is None else first
                while k < last:
                    steps = run.block_steps(k, last, every, per_step=callback is not None)
                    if sharpness is not None:  # end the block at the next measurement
                        steps = min(steps, sharpness.every - k % sharpness.every)
                    out = recorder.free_rows() if run.writes_in_place and next_record >= 0 else None
                    k, next_record, finished = run.advance(k, steps, every, next_record, out)
                    if out is not None:
                        recorder.commit(run.rows)
                    elif run.rows:
                        recorder.record_rows(run.rows_block(), run.rows)
                    if k >= report_at:
                        report_at = first + bar.report(k - first)
                    ended = stop_reason(k, finished)
                    if ended is not None:
                        status, message = ended
                        break
            for k in range(first + 1, first + n_steps + 1 if status is None and compiled is None else first + 1):
                if scheduled:  # hyperparameters of this step, from their schedules
                    stepper = integrator.at_step(k - 1)
                    stepper._configure(state)
                    step = stepper.step
                step(potential, state)
                state.step = k
                finished = check(state)
                if k >= report_at:
                    report_at = first + bar.report(k - first)
                if k == next_record:
                    record_row(state)
                    next_record += every
                if finished or callback is not None or ctrl_c.requested or sharpness is not None:
                    ended = stop_reason(k, finished)
                    if ended is not None:
                        status, message = ended
                        break
        except KeyboardInterrupt:
            status = "interrupted"
            message = (f"interrupted after step {state.step} (KeyboardInterrupt)" if state.step == k else
                       f"interrupted during step {state.step + 1} (KeyboardInterrupt); the state may be partly "
                       "updated")
        except StopIteration:
            if state.step == k:  # raised after the step (by the callback): scipy's way of asking to stop
                status, message = "stopped", f"stopped by the callback (StopIteration) at step {k}"
            else:  # raised inside the step (say, an exhausted data iterator): the state may be partly updated
                status, message = "failed", f"step {k} raised StopIteration"
                warn_failed(message, state.step)
        except RecordWriteError:  # the row is recorded and the state consistent: the run ends here
            status, message = "failed", ""
        except Exception as exc:  # a failing potential or callback must not lose the run
            status = "failed"
            message = f"step {max(k, first + 1)} raised {type(exc).__name__}: {exc}"
            warn_failed(message, state.step)
        bar.report(state.step - first)  # a shown bar ends at the run's last step
        bar.close()
        consistent = state.step == k
        if recorder.last_step != state.step:
            try:
                recorder.record(state)
            except RecordWriteError:
                pass  # reported below, from the sink's error
    if status is None:
        status = "max_steps"
    rows = recorder.arrays()  # a last write to the sink, which may fail too
    if sink is not None and sink.error is not None:
        status, message = "failed", write_failure(sink, state.step, status, message)
        warnings.warn(f"simulate: {message}", RuntimeWarning, stacklevel=2)
    traj = _build(potential, integrator, state, rows, watch, status, message, counts_before, record, every)
    if sharpness is not None and sharpness.steps:
        traj.sharpness, traj.sharpness_step = sharpness.arrays()
    traj.final_state = integrator.snapshot(state)
    traj.resumable = consistent
    traj.potential_state = potential.get_state() if hasattr(potential, "get_state") else None
    if sink is not None and sink.error is None and not sink.finish(traj):
        traj.message = write_failure(sink, state.step, traj.status, traj.message, final=True)
        traj.status = "failed"
        warnings.warn(f"simulate: {traj.message}", RuntimeWarning, stacklevel=2)
    return traj


def _build(potential, integrator, state, rows, watch, status, message, counts_before, record, every):
    shape = state.particle_shape
    div, conv = watch.diverged_step, watch.converged_step
    particle_status = np.full(shape, status if status in ("stopped", "interrupted", "failed") else "max_steps",
                              dtype="<U11")
    particle_status[conv >= 0] = "converged"
    particle_status[div >= 0] = "diverged"
    x_final = state.x if state.x.ndim == 1 else np.array(state.x, order="C")  # the state is ours to hand over
    value_final = np.array(state.value, dtype=np.float64)
    grad_norm_final = np.sqrt(np.asarray(state.grad_sq(), dtype=np.float64))
    for idx, x_rows, values, gnorms in watch.snapshots:  # each particle as it was at its own end
        x_final[idx] = x_rows
        value_final[idx] = values
        grad_norm_final[idx] = gnorms
    x0_first = rows["x"][0].reshape(-1, potential.dim)[0] if rows["x"] is not None else x_final.reshape(
        -1, potential.dim)[0]
    n = watch.n
    n_div, n_conv = int((div >= 0).sum()), int((conv >= 0).sum())
    if not message:
        if status == "converged":
            message = (f"‖∇V‖ ≤ gtol reached at step {int(conv)}" if not shape else
                       f"all {n} particles reached ‖∇V‖ ≤ gtol by step {state.step}")
        elif status == "diverged":
            cause = divergence_cause(potential, integrator.at_step(state.step), x0_first)
            message = (f"diverged at step {int(div)}: V rose far above its start (the energy ledger's error exceeded "
                       f"10³·(1 + |V₀|)) or left the finite range; {cause}" if not shape else
                       f"{n_div} of {n} particles diverged ({n_conv} converged); {cause}")
        else:
            message = f"reached n_steps = {state.step} without meeting the tolerance"
            if shape:
                message += f" ({n_conv} of {n} particles converged, {n_div} diverged)"
    elif shape and (n_div or n_conv):
        message += f" ({n_conv} of {n} particles converged, {n_div} diverged)"
    counts = {key: potential.counts[key] - counts_before.get(key, 0) for key in potential.counts}
    return Trajectory(
        t=rows["t"], step=rows["step"], x=rows["x"], p=rows["p"],
        potential_energy=rows["V"], kinetic_energy=rows["K"],
        dissipated=rows["D"], grad_norm=rows["g"], status=status, message=message,
        n_steps=state.step, counts=counts, x_final=x_final, value_final=value_final,
        grad_norm_final=grad_norm_final, particle_status=particle_status,
        converged_step=conv, diverged_step=div, method=type(integrator).__name__,
        params=integrator.params(), potential=potential.name, minimum_value=potential.minimum_value,
        record=record, every=every)
