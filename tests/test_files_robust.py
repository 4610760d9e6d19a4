"""Saved runs are untrusted input: damaged or edited files give a Trajectory that is right or one ValueError.

The damages are those of issue 10 §2 (a layout naming an object dtype, files cut, deleted or
grown, a layout with another dtype, a garbage or edited final.npz), plus a fuzz test of random
damage. Every error must name the file it is about.
"""

import json
import os
import shutil
import warnings

import numpy as np
import pytest

import newtonopt as no
from newtonopt.potentials import Quadratic
from newtonopt.schedules import Cosine

V = Quadratic([1.0, 5.0], [0.3, -1.0])
N = 300  # steps: 301 records of one 2-D particle; x.bin rows are 16 bytes


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs") / "run"
    no.simulate(V, no.HeavyBall(0.05, 0.8), [1.0, -2.0], n_steps=N, record_to=folder)
    return folder


@pytest.fixture
def run(pristine, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(pristine, folder)
    return folder


def edit_layout(folder, edit):
    layout = json.loads((folder / "layout.json").read_text())
    edit(layout)
    (folder / "layout.json").write_text(json.dumps(layout))


def edit_npz(path, edit_meta=None, edit_arrays=None):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    if edit_meta:
        edit_meta(meta)
    if edit_arrays:
        edit_arrays(arrays)
    arrays["__meta__"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def cut(path, n_bytes):
    os.truncate(path, os.path.getsize(path) - n_bytes)


def test_the_pristine_folder_loads_whole(run):
    traj = no.Trajectory.load(run)
    assert traj.status == "max_steps" and traj.n_records == N + 1 and traj.x.shape == (N + 1, 2)
    assert traj.resumable


def test_a_layout_naming_an_object_dtype_is_refused(run):
    # Today an '|O' memmap over raw bytes is returned, and touching it segfaults.
    edit_layout(run, lambda layout: layout["x"].update(dtype="|O"))
    with pytest.raises(ValueError, match=r"layout\.json: field 'x' has dtype '\|O'"):
        no.Trajectory.load(run)


@pytest.mark.parametrize("dtype", ["<f4", ">f8", "<i8", "<c16", "<U8", "<M8[s]", "V16"])
def test_a_layout_with_another_dtype_is_refused(run, dtype):
    # '<f4' read 602 rows of garbage out of 301 float64 rows.
    edit_layout(run, lambda layout: layout["x"].update(dtype=dtype))
    with pytest.raises(ValueError, match="layout.json|x.bin|final.npz"):
        no.Trajectory.load(run)


def test_a_cut_x_file_is_refused_by_name(run):
    cut(run / "x.bin", 24)  # gave 299 rows of x against 301 of V
    with pytest.raises(ValueError, match=r"x\.bin: holds 299 rows and 8 more bytes.*step\.bin holds 301 rows"):
        no.Trajectory.load(run)


def test_a_deleted_file_is_refused_by_name(run):
    (run / "V.bin").unlink()  # gave 0 rows of V
    with pytest.raises(ValueError, match=r"V\.bin: is missing"):
        no.Trajectory.load(run)


def test_appended_bytes_are_refused_by_name(run):
    with open(run / "g.bin", "ab") as fh:
        fh.write(b"\x7f" * 27)  # gave 304 rows ending in 3e180
    with pytest.raises(ValueError, match=r"g\.bin: holds 304 rows and 3 more bytes"):
        no.Trajectory.load(run)


def test_a_garbage_final_npz_is_a_value_error(run):
    (run / "final.npz").write_bytes(b"PK\x03\x04 this is not a zip archive" * 10)  # gave a raw BadZipFile
    with pytest.raises(ValueError, match=r"final\.npz: cannot be read"):
        no.Trajectory.load(run)


def test_a_bad_schedule_name_in_the_meta_is_a_value_error(tmp_path):
    folder = tmp_path / "sched"
    no.simulate(V, no.HeavyBall(Cosine(0.05, 0.01, 70), 0.8), [1.0, -2.0], n_steps=20, record_to=folder)
    assert isinstance(no.Trajectory.load(folder).params["lr"], Cosine)
    edit_npz(folder / "final.npz", lambda m: m["params"]["lr"].update(__schedule__="__import__"))
    with pytest.raises(ValueError, match=r"final\.npz: parameter 'lr' names the schedule '__import__'"):
        no.Trajectory.load(folder)  # was a raw KeyError


def test_a_schedule_with_bad_arguments_is_a_value_error(tmp_path):
    folder = tmp_path / "sched"
    no.simulate(V, no.HeavyBall(Cosine(0.05, 0.01, 70), 0.8), [1.0, -2.0], n_steps=20, record_to=folder)
    edit_npz(folder / "final.npz", lambda m: m["params"]["lr"].update(bogus=1))
    with pytest.raises(ValueError, match=r"final\.npz: parameter 'lr': the schedule Cosine"):
        no.Trajectory.load(folder)  # was a raw TypeError


def test_an_extra_meta_key_is_a_value_error(run):
    edit_npz(run / "final.npz", lambda m: m.update(evil=1))  # was a raw TypeError from the constructor
    with pytest.raises(ValueError, match=r"final\.npz: the meta has the unknown key 'evil'"):
        no.Trajectory.load(run)


@pytest.mark.parametrize("key, value", [("status", "fine"), ("n_steps", "300"), ("n_steps", 299), ("every", 0),
                                        ("counts", [1]), ("resumable", 1), ("record", "most")])
def test_meta_values_of_the_wrong_type_are_value_errors(run, key, value):
    edit_npz(run / "final.npz", lambda m: m.update({key: value}))
    with pytest.raises(ValueError, match=r"final\.npz: .*'?(n_steps|" + key + ")"):
        no.Trajectory.load(run)


def test_a_saved_state_of_the_wrong_shape_is_refused(run):
    edit_npz(run / "final.npz", edit_arrays=lambda a: a.update(state__velocity=np.zeros(3)))
    with pytest.raises(ValueError, match=r"final\.npz: the saved state's 'velocity' has shape \(3,\)"):
        no.Trajectory.load(run)


def test_a_run_that_died_mid_write_is_read_to_its_last_complete_row(run):
    (run / "final.npz").unlink()
    cut(run / "p.bin", 24)  # the process died while appending p, the last file: 299 whole rows and a half one
    traj = no.Trajectory.load(run)
    assert traj.status == "interrupted" and traj.n_records == 299
    for name in ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm"):
        assert len(getattr(traj, name)) == 299, name
    assert "no final.npz" in traj.message and "299 complete records read" in traj.message
    assert "step.bin" in traj.message and "p.bin" in traj.message  # the rows it ignored
    assert traj.resumable is False and traj.final_state is None


def test_a_run_that_died_before_its_first_row_is_a_value_error(run):
    (run / "final.npz").unlink()
    for name in ("x", "p"):
        (run / f"{name}.bin").unlink()
    with pytest.raises(ValueError, match="holds no complete record"):
        no.Trajectory.load(run)


def test_an_unfinished_folder_whose_files_are_out_of_writing_order_is_refused(run):
    # The writer appends step, t, V, K, D, g, x, p in this order: V cannot be behind g.
    (run / "final.npz").unlink()
    cut(run / "V.bin", 8 * 10)
    with pytest.raises(ValueError, match=r"K\.bin: holds 301 rows and V\.bin 291"):
        no.Trajectory.load(run)


def test_save_adds_the_npz_suffix_like_numpy(tmp_path):
    traj = no.simulate(V, no.GradientDescent(0.05), [1.0, -2.0], n_steps=5)
    path = traj.save(tmp_path / "run")
    assert path == tmp_path / "run.npz" and path.exists() and not (tmp_path / "run").exists()
    assert no.Trajectory.load(tmp_path / "run").n_steps == 5  # the suffix is tried when missing
    assert traj.save(tmp_path / "b.npz") == tmp_path / "b.npz"


@pytest.fixture
def saved(tmp_path):
    traj = no.simulate(V, no.HeavyBall(0.05, 0.8), [[1.0, -2.0], [0.5, 0.5]], n_steps=10)
    return traj.save(tmp_path / "run.npz")


def test_a_garbage_npz_is_a_value_error(tmp_path):
    path = tmp_path / "g.npz"
    path.write_bytes(os.urandom(300))
    with pytest.raises(ValueError, match=r"g\.npz: cannot be read as a Trajectory \.npz"):
        no.Trajectory.load(path)


def test_an_npy_file_is_a_value_error(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"a\.npy: is a \.npy array"):
        no.Trajectory.load(tmp_path / "a.npy")


@pytest.mark.parametrize("name", ["x_final", "step", "potential_energy", "particle_status", "state__grad"])
def test_an_npz_missing_an_array_is_a_value_error(saved, name):
    edit_npz(saved, edit_arrays=lambda a: a.pop(name))
    with pytest.raises(ValueError, match=r"run\.npz: .*(lacks|shape).*'" + name.replace("state__", "") + "'"):
        no.Trajectory.load(saved)


@pytest.mark.parametrize("name, value", [
    ("potential_energy", np.zeros((11, 3))), ("x", np.zeros((11, 2, 3))), ("step", np.zeros(11)),
    ("particle_status", np.array(["max_steps", "hacked"])), ("converged_step", np.zeros(2, dtype=complex)),
    ("t", np.zeros(12)), ("bogus", np.zeros(1)), ("state__velocity", np.zeros((2, 3))),
])
def test_an_npz_with_a_wrong_array_is_a_value_error(saved, name, value):
    edit_npz(saved, edit_arrays=lambda a: a.update({name: value}))
    with pytest.raises(ValueError, match=r"run\.npz: "):
        no.Trajectory.load(saved)


def test_an_npz_with_an_object_array_is_a_value_error(saved):
    with np.load(saved) as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    arrays["x_final"] = np.array([None, 1], dtype=object)
    np.savez(saved, **arrays)
    with pytest.raises(ValueError, match=r"run\.npz: cannot be read.*pickle"):
        no.Trajectory.load(saved)


@pytest.mark.parametrize("meta", ["[1, 2]", "{", json.dumps({"status": "max_steps"})])
def test_an_npz_with_a_bad_meta_is_a_value_error(saved, meta):
    with np.load(saved) as data:
        arrays = {k: np.array(data[k]) for k in data.files}
    arrays["__meta__"] = np.array(meta)
    np.savez(saved, **arrays)
    with pytest.raises(ValueError, match=r"run\.npz: .*meta"):
        no.Trajectory.load(saved)


# ----------------------------------------------------------------------------- join
def heavy_ball_run(x0=(1.0, -2.0), lr=0.05, n=20, potential=V, **kw):
    return no.simulate(potential, no.HeavyBall(lr, 0.8), list(x0), n_steps=n, **kw)


def test_join_accepts_the_true_continuation():
    first = heavy_ball_run()
    whole = heavy_ball_run(n=40)
    joined = no.Trajectory.join(first, no.simulate(V, no.HeavyBall(0.05, 0.8), first, n_steps=20))
    np.testing.assert_array_equal(joined.x, whole.x)


def test_join_accepts_a_continuation_recorded_with_another_policy():
    # Recording is not part of the run: a 'scalars' run continued with record='all' joins (without x).
    first = heavy_ball_run(record="scalars")
    joined = no.Trajectory.join(first, no.simulate(V, no.HeavyBall(0.05, 0.8), first, n_steps=20))
    np.testing.assert_array_equal(joined.potential_energy, heavy_ball_run(n=40).potential_energy)
    assert joined.x is None


def test_join_refuses_another_run_ending_at_the_same_step():
    # Today this is accepted: the seam only compared step numbers.
    first, other = heavy_ball_run(), heavy_ball_run(x0=(0.5, 0.5))
    rest = no.simulate(V, no.HeavyBall(0.05, 0.8), other, n_steps=20)
    with pytest.raises(ValueError, match="second does not continue first: .*differs from first's last one in 't'|'x'"):
        no.Trajectory.join(first, rest)


def test_join_refuses_other_parameters():
    first = heavy_ball_run()
    rest = no.simulate(V, no.HeavyBall(0.06, 0.8), heavy_ball_run(lr=0.06), n_steps=5)
    with pytest.raises(ValueError, match="the parameters differ: lr = 0.05 in first, 0.06 in second"):
        no.Trajectory.join(first, rest)


def test_join_refuses_another_method():
    first = heavy_ball_run()
    other = no.simulate(V, no.Nesterov(0.05, 0.8), [1.0, -2.0], n_steps=20)
    rest = no.simulate(V, no.Nesterov(0.05, 0.8), other, n_steps=5)
    with pytest.raises(ValueError, match="first was run by 'HeavyBall', second by 'Nesterov'"):
        no.Trajectory.join(first, rest)


def test_join_refuses_another_potential():
    W = Quadratic([1.0, 5.0], [0.3, -1.0])
    W.name = "another"
    first = heavy_ball_run()
    rest = no.simulate(W, no.HeavyBall(0.05, 0.8), heavy_ball_run(potential=W), n_steps=5)
    with pytest.raises(ValueError, match="first ran on .* second on 'another'"):
        no.Trajectory.join(first, rest)


# ----------------------------------------------------------------------------- fuzz
def _damage(folder, rng):
    """One random damage of the kind a crash, a full disk or a hand edit makes."""
    files = sorted(p for p in folder.iterdir())
    path = files[rng.integers(len(files))]
    kind = rng.integers(6)
    data = bytearray(path.read_bytes())
    if kind == 0 and data:  # truncate
        del data[rng.integers(len(data)):]
    elif kind == 1:  # append bytes
        data += rng.bytes(int(rng.integers(1, 40)))
    elif kind == 2 and data:  # flip bytes
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(len(data)))
            data[i] ^= 1 << int(rng.integers(8))
    elif kind == 3:  # delete the file
        path.unlink()
        return
    elif kind == 4:  # edit layout.json
        try:
            layout = json.loads((folder / "layout.json").read_text())
            assert isinstance(layout, dict) and layout
        except Exception:  # already damaged or deleted: leave it
            return
        field = list(layout)[rng.integers(len(layout))]
        choice = rng.integers(4)
        if not isinstance(layout[field], dict):
            return
        if choice == 0:
            layout[field]["dtype"] = str(rng.choice(["<f4", "|O", "<i8", "<f8", ">f8", "<f2", "<U3"]))
        elif choice == 1:
            layout[field]["row_shape"] = [int(v) for v in rng.integers(0, 4, size=rng.integers(0, 3))]
        elif choice == 2:
            del layout[field]
        else:
            layout[str(rng.choice(["q", "x", "p", "V"]))] = {"dtype": "<f8", "row_shape": [2]}
        (folder / "layout.json").write_text(json.dumps(layout))
        return
    else:  # edit the meta in final.npz
        if not (folder / "final.npz").exists():
            return
        key = str(rng.choice(["status", "n_steps", "every", "counts", "params", "record", "zzz", "method"]))
        value = [None, -1, "x", 1.5, [1], {"__schedule__": "Cosine"}, True][rng.integers(7)]
        try:
            edit_npz(folder / "final.npz", lambda m: m.update({key: value}))
        except Exception:  # the archive was already damaged: leave it
            pass
        return
    path.write_bytes(bytes(data))


def test_fuzzed_folders_load_consistently_or_raise_value_error(pristine, tmp_path):
    rng = np.random.default_rng(2024)
    outcomes = {"loaded": 0, "refused": 0}
    for trial in range(300):
        folder = tmp_path / f"f{trial}"
        shutil.copytree(pristine, folder)
        if rng.random() < 0.3:  # as if the run had been killed: the loader reads to the last complete row
            (folder / "final.npz").unlink()
        for _ in range(int(rng.integers(1, 3))):
            _damage(folder, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                traj = no.Trajectory.load(folder)
        except ValueError as exc:
            assert str(folder) in str(exc), exc  # names the file
            outcomes["refused"] += 1
            continue
        n = traj.n_records
        assert n >= 1
        for name in ("t", "step", "potential_energy", "kinetic_energy", "dissipated", "grad_norm", "x", "p"):
            value = getattr(traj, name)
            if value is None and name in ("x", "p") and traj.status == "interrupted":
                continue  # an unfinished folder whose layout lost x or p: the rest is a scalar record
            assert value is not None and len(value) == n, name
            assert value.dtype.kind in "if"
            np.asarray(value).sum()  # every byte is readable
        if traj.p is not None:
            assert traj.x.shape[1:] == traj.p.shape[1:] == (2,)
        assert np.all(np.diff(traj.step) > 0)
        outcomes["loaded"] += 1
        shutil.rmtree(folder)
    assert outcomes["loaded"] > 20 and outcomes["refused"] > 100, outcomes


def test_fuzzed_npz_files_load_consistently_or_raise_value_error(tmp_path):
    rng = np.random.default_rng(7)
    traj = no.simulate(V, no.HeavyBall(0.05, 0.8), [[1.0, -2.0], [0.5, 0.5]], n_steps=10)
    clean = traj.save(tmp_path / "clean.npz").read_bytes()
    refused = 0
    for trial in range(100):
        data = bytearray(clean)
        kind = rng.integers(3)
        if kind == 0:
            del data[rng.integers(len(data)):]
        elif kind == 1:
            data += rng.bytes(int(rng.integers(1, 40)))
        else:
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        path = tmp_path / f"t{trial}.npz"
        path.write_bytes(bytes(data))
        try:
            back = no.Trajectory.load(path)
        except ValueError as exc:
            assert str(path) in str(exc), exc
            refused += 1
            continue
        assert back.x.shape == (back.n_records, 2, 2) and back.potential_energy.shape == (back.n_records, 2)
    assert refused > 50


# ---------------------------------------------------------------------------------------------- adversarial review
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_layout_that_is_not_a_regular_file_is_refused_at_once(run, kind):
    """A FIFO blocked for ever, /dev/zero filled the memory, a directory raised IsADirectoryError."""
    layout = run / "layout.json"
    layout.unlink()
    if kind == "fifo":
        os.mkfifo(layout)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", layout)
    else:
        layout.mkdir()
    with pytest.raises(ValueError, match="layout.json: is not a regular file"):
        no.Trajectory.load(run)


def test_a_bin_file_that_is_a_device_counts_as_missing(run):
    (run / "V.bin").unlink()
    os.symlink("/dev/zero", run / "V.bin")
    with pytest.raises(ValueError, match="V.bin: is missing"):
        no.Trajectory.load(run)


def test_a_loaded_folder_survives_its_files_being_cut_afterwards(run):
    """Loaded arrays are in memory by default: cutting a file later used to kill the interpreter with SIGBUS
    on the next read of a memory-mapped array."""
    traj = no.Trajectory.load(run)
    os.truncate(run / "x.bin", 0)
    assert traj.x.shape == (N + 1, 2) and np.isfinite(traj.x.sum())


def test_mmap_is_there_for_records_larger_than_memory(pristine):
    traj = no.Trajectory.load(pristine, mmap=True)
    assert isinstance(traj.potential_energy, np.memmap)
    np.testing.assert_array_equal(traj.potential_energy, no.Trajectory.load(pristine).potential_energy)


def test_a_zip_bomb_is_refused_before_it_is_inflated(saved):
    """A compressed member (3 MB inflating to gigabytes in the adversarial review) is refused unread."""
    import zipfile

    with zipfile.ZipFile(saved, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("state__bomb.npy", b"\x93NUMPY" + b"\0" * 10_000)
    with pytest.raises(ValueError, match=r"run\.npz: entry 'state__bomb.npy' is compressed"):
        no.Trajectory.load(saved)


def test_a_header_declaring_more_data_than_the_member_holds(saved):
    """An .npy header declaring a 745 GiB array made numpy allocate it first (a raw MemoryError)."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**11,)})
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("state__huge.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(ValueError, match=r"state__huge.npy' declares 800000000000 bytes"):
        no.Trajectory.load(saved)


@pytest.mark.parametrize("value, match", [
    ({"__schedule__": ["Cosine"], "initial": 0.1}, "names the schedule"),          # was a raw TypeError
    ({"__schedule__": "Constant", "value": int("9" * 400)}, "cannot be built"),   # was a raw OverflowError
])
def test_schedules_in_a_meta_are_data(saved, value, match):
    edit_npz(saved, edit_meta=lambda m: m["params"].update(lr=value))
    with pytest.raises(ValueError, match=match):
        no.Trajectory.load(saved)


def test_a_json_integer_beyond_pythons_digit_limit_names_the_file(run):
    (run / "layout.json").write_text('{"step": ["<i8", [' + "9" * 5000 + "]]}")
    with pytest.raises(ValueError, match=r"layout.json: is not valid JSON"):
        no.Trajectory.load(run)


def test_final_values_from_another_run_are_refused(saved, tmp_path):
    """An .npz whose x_final was edited (or a final.npz from another run with the same shapes) loaded
    silently; a particle that ran to the end must end at the last record."""
    edit_npz(saved, edit_arrays=lambda a: a.__setitem__("x_final", a["x_final"] + 1e-3))
    with pytest.raises(ValueError, match="'x_final' disagrees with the last record"):
        no.Trajectory.load(saved)


def test_steps_out_of_order_in_an_npz_are_refused(saved):
    edit_npz(saved, edit_arrays=lambda a: a.__setitem__("step", a["step"][::-1].copy()))
    with pytest.raises(ValueError, match="'step' is not non-negative and increasing"):
        no.Trajectory.load(saved)


def test_messages_and_gaps_after_the_adversarial_review(saved, run):
    edit_npz(saved, edit_meta=lambda m: m.__setitem__("minimum_value", int("9" * 400)))
    with pytest.raises(ValueError, match="minimum_value' must be a finite float64 number"):
        no.Trajectory.load(saved)
    (run / "final.npz").unlink()
    (run / "final.npz").mkdir()
    with pytest.raises(ValueError, match="final.npz: is not a regular file"):
        no.Trajectory.load(run)


def test_an_npz_without_t_says_so(saved):
    edit_npz(saved, edit_arrays=lambda a: a.pop("t"))
    with pytest.raises(ValueError, match="lacks the array 't'"):
        no.Trajectory.load(saved)
