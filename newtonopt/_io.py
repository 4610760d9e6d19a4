"""Reading saved runs as untrusted input: every dtype, shape, size and key is checked.

A file on disk may have been truncated by a crash, filled by a full disk, or edited by hand
or by an attacker. Nothing read here runs code (no pickle, no eval), and every array handed
on has a numeric dtype the writer produces and a shape consistent with the others. Anything
else is one ValueError naming the file (and the field or key) and what was expected.

Two formats:

- ``Trajectory.save`` writes one ``.npz``: the arrays of ``ARRAY_FIELDS``, the integrator's
  state as ``state__<name>`` arrays and a JSON ``__meta__`` string.
- ``simulate(record_to=folder)`` streams ``<field>.bin`` raw little-endian rows described by
  ``layout.json`` (written before any row), then ``final.npz`` (written last, atomically)
  with the per-particle results, the state and the meta. A folder without ``final.npz`` is
  a run that was stopped before it finished (killed, or its disk filled): it is read up to
  its last complete row.
"""

from __future__ import annotations

import json
import math
import numbers
import zipfile
from pathlib import Path

import numpy as np

from .schedules import SCHEDULES

STATUSES = ("converged", "max_steps", "diverged", "stopped", "interrupted", "failed")
RECORD_MODES = ("all", "scalars", "final")
ARRAY_FIELDS = ("t", "step", "x", "p", "potential_energy", "kinetic_energy", "dissipated", "grad_norm",
                "x_final", "value_final", "grad_norm_final", "particle_status", "converged_step", "diverged_step",
                "evaluations", "sharpness", "sharpness_step")
META_FIELDS = ("status", "message", "n_steps", "counts", "method", "params", "potential", "minimum_value",
               "record", "every", "resumable", "potential_state")
FINAL_FIELDS = ("x_final", "value_final", "grad_norm_final", "particle_status", "converged_step", "diverged_step")
STATE_PREFIX = "state__"
# The streamed files in the order the writer appends them, and the Trajectory field each becomes.
SINK_FIELDS = {"step": "step", "t": "t", "V": "potential_energy", "K": "kinetic_energy", "D": "dissipated",
               "g": "grad_norm", "x": "x", "p": "p"}
# The writer's dtypes: fixed for the ledger, the run's own float type for positions and momenta.
SINK_DTYPES = {"step": "<i8", "t": "<f8", "V": "<f8", "K": "<f8", "D": "<f8", "g": "<f8"}
FLOAT_DTYPES = tuple(sorted({np.dtype(t).newbyteorder("<").str for t in (np.float16, np.float32, np.float64,
                                                                          np.longdouble)}))
_STATE_REQUIRED = ("x", "grad", "value", "dissipated", "t", "step")
_MAX_JSON_BYTES = 1 << 24  # a layout or meta this large was not written by newtonopt
_MAX_NDIM = 32


def block_rows(row_bytes: int, max_rows: float) -> int:
    """Rows per streamed block: about 4 MiB, at least 16, at most what the run can make.

    ``row_bytes`` counts 8 bytes an item. The loader uses the same rule (with no
    ``max_rows``) to bound how far a killed run's files may disagree.
    """
    return int(min(max_rows, max(16, (1 << 22) // max(row_bytes, 1))))


class _LoadError(ValueError):
    """A check failed (told apart from numpy's own ValueErrors while a file is open)."""


def _fail(where, what: str):
    raise _LoadError(f"{where}: {what}")


def _read_json(path: Path, what: str):
    # Only a regular file (a FIFO would block for ever, /dev/zero never ends), and never more bytes than
    # the cap, whatever the size the file system reports.
    if not path.exists() and not path.is_symlink():
        _fail(path, f"missing: {what}")
    if not path.is_file():
        _fail(path, f"is not a regular file: expected the {what} newtonopt writes")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_JSON_BYTES + 1)
    except OSError as exc:
        _fail(path, f"cannot be read ({type(exc).__name__}: {exc.strerror or exc})")
    if len(raw) > _MAX_JSON_BYTES:
        _fail(path, f"is more than {_MAX_JSON_BYTES} bytes, more than any {what} newtonopt writes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8, bad JSON, an integer beyond Python's digit limit
        _fail(path, f"is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- the streamed rows
def check_layout(layout, path: Path) -> dict:
    """name -> (dtype, row shape) from a parsed layout.json, or a ValueError naming ``path``."""
    if not isinstance(layout, dict):
        _fail(path, f"must hold a JSON object of fields, got {type(layout).__name__}")
    unknown = [k for k in layout if k not in SINK_FIELDS]
    if unknown:
        _fail(path, f"unknown field {unknown[0]!r}; the fields are {list(SINK_FIELDS)}")
    missing = [k for k in SINK_DTYPES if k not in layout]
    if missing:
        _fail(path, f"lacks the field {missing[0]!r}")
    if "p" in layout and "x" not in layout:
        _fail(path, "has the field 'p' without 'x'")
    order = [k for k in SINK_FIELDS if k in layout]
    if list(layout) != order:
        _fail(path, f"lists the fields in the order {list(layout)}, but the writer writes {order}")
    out = {}
    for name, spec in layout.items():
        if not isinstance(spec, dict) or set(spec) != {"dtype", "row_shape"}:
            _fail(path, f"field {name!r} must be an object with the keys 'dtype' and 'row_shape', got {spec!r}")
        dtype, shape = spec["dtype"], spec["row_shape"]
        allowed = (SINK_DTYPES[name],) if name in SINK_DTYPES else FLOAT_DTYPES
        if dtype not in allowed:
            _fail(path, f"field {name!r} has dtype {dtype!r}; the writer writes {' or '.join(map(repr, allowed))}")
        if (not isinstance(shape, list) or len(shape) > _MAX_NDIM
                or not all(_is_int(n) and n >= 1 for n in shape)):
            _fail(path, f"field {name!r} has row_shape {shape!r}; expected a list of at most {_MAX_NDIM} "
                        "positive integers")
        out[name] = (np.dtype(dtype), tuple(int(n) for n in shape))
    particles = out["V"][1]
    for name in ("K", "D", "g"):
        if out[name][1] != particles:
            _fail(path, f"field {name!r} has row_shape {list(out[name][1])}, but 'V' has {list(particles)}")
    if out["step"][1] != ():
        _fail(path, f"field 'step' has row_shape {list(out['step'][1])}; expected []")
    if out["t"][1] not in ((), particles):
        _fail(path, f"field 't' has row_shape {list(out['t'][1])}; expected [] or {list(particles)}")
    if "x" in out and out["x"][1][:-1] != particles:
        _fail(path, f"field 'x' has row_shape {list(out['x'][1])}; expected {list(particles)} + [dim]")
    if "p" in out and out["p"] != out["x"]:
        _fail(path, f"field 'p' is {out['p']}, but 'x' is {out['x']}: they must agree")
    return out


def read_rows(folder: Path, *, finished: bool, mmap: bool = False) -> tuple[dict, str]:
    """The streamed rows of ``folder``, checked against layout.json: read into memory, or with ``mmap``
    as read-only memory maps (for records larger than memory; a file cut shorter while it is mapped
    makes the next read of the lost pages a bus error, which kills the interpreter).

    Returns ``(rows, note)``: ``rows`` maps each field of ``SINK_FIELDS`` to an array (None
    for x and p when not recorded), all with the same number of rows. With ``finished`` every
    file must hold exactly that many rows. Without it (a run stopped mid-write) the files are
    read up to the last row complete in all of them, and ``note`` says how many rows that is
    and what was left out; the files may then disagree only as the writer's order allows:
    each holds at most as many rows as the one written before it, by less than one block.
    """
    folder = Path(folder)
    layout_path = folder / "layout.json"
    if not layout_path.exists():
        _fail(folder, "has no layout.json: it is not a record_to folder, or its run stopped before it wrote "
                      "its first record")
    layout = check_layout(_read_json(layout_path, "record layout"), layout_path)
    counts, extra = {}, {}
    for name, (dtype, shape) in layout.items():
        path = folder / f"{name}.bin"
        row_bytes = dtype.itemsize * int(np.prod(shape, dtype=object))
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError as exc:
            _fail(path, f"cannot be read ({exc})")
        if size is None:
            if finished:
                _fail(path, f"is missing, but {layout_path.name} lists the field {name!r}")
            size = 0
        counts[name], extra[name] = divmod(size, row_bytes)
    names = list(layout)
    if finished:
        n = counts["step"]
        for name in names:
            if extra[name] or counts[name] != n:
                _fail(folder / f"{name}.bin", f"holds {counts[name]} rows and {extra[name]} more bytes of "
                                              f"{layout[name][0].str} rows of shape {list(layout[name][1])}, but "
                                              f"step.bin holds {n} rows: the files disagree")
        if n == 0:
            _fail(folder / "step.bin", "holds no record, but final.npz says the run finished")
        note = ""
    else:
        limit = block_rows(sum(8 * int(np.prod(s, dtype=object)) for _, s in layout.values()), float("inf"))
        for before, name in zip(names, names[1:]):
            ahead = counts[before] - counts[name]
            if not 0 <= ahead <= limit:
                _fail(folder / f"{name}.bin", f"holds {counts[name]} rows and {before}.bin {counts[before]}: a run "
                                              "stopped mid-write leaves each file at most one block of "
                                              f"{limit} rows behind the one written before it")
        n = counts[names[-1]]
        if n == 0:
            _fail(folder, "holds no complete record: its run stopped before it wrote its first row")
        left = [f"{k}.bin" for k in names if counts[k] > n or extra[k]]
        note = f"{n} complete records read" + (f" (the partial rows after them in {', '.join(left)} are "
                                                 "ignored)" if left else "")
    rows = {}
    for name, (dtype, shape) in layout.items():
        path, count = folder / f"{name}.bin", n * int(np.prod(shape, dtype=object))
        try:
            if mmap:
                rows[name] = np.memmap(path, dtype=dtype, mode="r", shape=(n,) + shape)
            else:
                rows[name] = np.fromfile(path, dtype=dtype, count=count).reshape((n,) + shape)
        except (OSError, ValueError) as exc:  # the file changed (or vanished) since its size was checked
            _fail(path, f"cannot be read as {n} rows of {dtype.str} ({type(exc).__name__}: {exc})")
    step = np.asarray(rows["step"])
    if step[0] < 0 or (n > 1 and not np.all(step[1:] > step[:-1])):
        _fail(folder / "step.bin", "the step numbers are not non-negative and increasing: the file is damaged")
    rows.setdefault("x", None)
    rows.setdefault("p", None)
    return rows, note


# ----------------------------------------------------------------------------- .npz files
def read_npz(path: Path, allowed: tuple) -> tuple[dict, dict, dict]:
    """``(arrays, meta, state)`` from a newtonopt ``.npz``; only ``allowed`` and state arrays.

    Every array must be numeric or boolean (``particle_status``: text); the meta must be a
    JSON object. Shapes and meta values are checked by :func:`check_parts`.
    """
    _check_members(path)
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            _fail(path, "is a .npy array, not a Trajectory .npz")
        with data:
            names = list(data.files)
            if "__meta__" not in names:
                _fail(path, "has no '__meta__' entry: it was not written by Trajectory.save or simulate")
            for name in names:
                if name != "__meta__" and name not in allowed and not name.startswith(STATE_PREFIX):
                    _fail(path, f"has the unexpected entry {name!r}")
            raw = {name: np.array(data[name]) for name in names}
    except _LoadError:
        raise
    except ValueError as exc:  # e.g. an object array, which allow_pickle=False refuses
        _fail(path, f"cannot be read as a Trajectory .npz ({type(exc).__name__}: {exc})")
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, NotImplementedError) as exc:
        # np.load raises OSError/EOFError on garbage, BadZipFile on a damaged archive or a bad CRC
        _fail(path, f"cannot be read as a Trajectory .npz ({type(exc).__name__}: {exc})")
    meta_raw = raw.pop("__meta__")
    if meta_raw.dtype.kind != "U" or meta_raw.ndim != 0:
        _fail(path, f"'__meta__' must be a JSON string, got an array of dtype {meta_raw.dtype.str} and shape "
                    f"{meta_raw.shape}")
    try:
        meta = json.loads(str(meta_raw))
    except (ValueError, RecursionError) as exc:
        _fail(path, f"'__meta__' is not valid JSON ({str(exc)[:200]})")
    arrays, state = {}, {}
    for name, value in raw.items():
        text = name == "particle_status"
        if (value.dtype.kind not in "U" if text else value.dtype.kind not in "biuf") or value.dtype.hasobject:
            _fail(path, f"entry {name!r} has dtype {value.dtype.str}; expected "
                        + ("text" if text else "a numeric or boolean dtype"))
        if name.startswith(STATE_PREFIX):
            state[name[len(STATE_PREFIX):]] = value
        else:
            arrays[name] = value
    return arrays, meta, state


def _check_members(path: Path) -> None:
    """Refuse an archive newtonopt did not write before numpy reads a byte of data from it.

    ``np.savez`` stores its members uncompressed, so every member's data is in the file: a compressed
    member (a zip bomb inflates 3 MB into 6 GB), an encrypted one, or an ``.npy`` header that declares
    more data than its member holds (numpy would allocate it first) is refused, and so nothing read
    from the file can be larger than the file.
    """
    if not path.is_file():
        _fail(path, "is not a regular file: expected a Trajectory .npz")
    try:
        with open(path, "rb") as fh:
            if fh.read(6) == b"\x93NUMPY":
                _fail(path, "is a .npy array, not a Trajectory .npz")
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.flag_bits & 0x1:
                    _fail(path, f"entry {info.filename!r} is encrypted: not written by newtonopt")
                if info.compress_type != zipfile.ZIP_STORED:
                    _fail(path, f"entry {info.filename!r} is compressed: newtonopt writes its .npz uncompressed")
                if info.file_size != info.compress_size or info.file_size > path.stat().st_size:
                    _fail(path, f"entry {info.filename!r} declares {info.file_size} bytes, more than the file holds")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    reader = {(1, 0): np.lib.format.read_array_header_1_0,
                              (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if reader is None:
                        _fail(path, f"entry {info.filename!r} is an .npy of version {version}, not one numpy writes")
                    shape, _, dtype = reader(member)
                    if dtype.hasobject:
                        _fail(path, f"cannot be read: entry {info.filename!r} holds Python objects (dtype "
                                    f"{dtype.str}), which only pickle could load")
                    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                    if declared + member.tell() != info.file_size:
                        _fail(path, f"entry {info.filename!r} declares {declared} bytes of data of shape "
                                    f"{list(shape)}, but holds {info.file_size - member.tell()}")
    except _LoadError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError,
            NotImplementedError) as exc:
        _fail(path, f"cannot be read as a Trajectory .npz ({type(exc).__name__}: {str(exc)[:200]})")


def _as_float(value) -> float:
    try:
        return float(value)
    except OverflowError:  # a JSON integer beyond float64
        return math.inf


def check_meta(meta, path: Path) -> dict:
    """The meta with its types checked (schedules rebuilt), or a ValueError naming ``path`` and the key."""
    if not isinstance(meta, dict):
        _fail(path, f"the meta must be a JSON object, got {type(meta).__name__}")
    unknown = [k for k in meta if k not in META_FIELDS]
    if unknown:
        _fail(path, f"the meta has the unknown key {unknown[0]!r}; the keys are {list(META_FIELDS)}")
    for key in ("status", "message", "n_steps", "counts"):
        if key not in meta:
            _fail(path, f"the meta lacks the key {key!r}")

    def bad(key, expected):
        _fail(path, f"the meta's {key!r} must be {expected}, got {meta[key]!r}")

    if meta["status"] not in STATUSES:
        bad("status", f"one of {STATUSES}")
    for key in ("message", "method", "potential"):
        if key in meta and not isinstance(meta[key], str):
            bad(key, "a string")
    if not _is_int(meta["n_steps"]) or meta["n_steps"] < 0:
        bad("n_steps", "a non-negative integer")
    counts = meta["counts"]
    if not isinstance(counts, dict) or not all(_is_int(v) and v >= 0 for v in counts.values()):
        bad("counts", "an object of non-negative integer counts")
    if "every" in meta and (not _is_int(meta["every"]) or meta["every"] < 1):
        bad("every", "a positive integer")
    if "record" in meta and meta["record"] not in RECORD_MODES:
        bad("record", f"one of {RECORD_MODES}")
    if "resumable" in meta and not isinstance(meta["resumable"], bool):
        bad("resumable", "true or false")
    if meta.get("minimum_value") is not None and (not isinstance(meta["minimum_value"], numbers.Real)
                                                  or isinstance(meta["minimum_value"], bool)
                                                  or not math.isfinite(_as_float(meta["minimum_value"]))):
        bad("minimum_value", "a finite float64 number or null")
    if not all(v < 2**63 for v in counts.values()) or ("n_steps" in meta and meta["n_steps"] >= 2**63):
        _fail(path, "the meta's counts and n_steps must fit in 64 bits")
    meta = dict(meta)
    params = meta.get("params", {})
    if not isinstance(params, dict):
        bad("params", "an object")
    meta["params"] = {name: _param_from_json(name, value, path) for name, value in params.items()}
    return meta


def _param_from_json(name: str, value, path: Path):
    if isinstance(value, list):
        try:
            arr = np.array(value)
        except ValueError:
            arr = None
        if arr is None or arr.dtype.kind not in "biuf":
            _fail(path, f"parameter {name!r} must be a number or a rectangular list of numbers, got {value!r:.80}")
        return arr
    if isinstance(value, dict):
        kwargs = dict(value)
        kind = kwargs.pop("__schedule__", None)
        if not isinstance(kind, str) or kind not in SCHEDULES:
            _fail(path, f"parameter {name!r} names the schedule {kind!r}; the schedules are {sorted(SCHEDULES)}")
        try:
            return SCHEDULES[kind](**kwargs)
        except (TypeError, ValueError, OverflowError) as exc:
            _fail(path, f"parameter {name!r}: the schedule {kind}({str(kwargs)[:80]}) cannot be built ({exc})")
    if value is None or isinstance(value, (bool, numbers.Real, str)):
        return value
    _fail(path, f"parameter {name!r} has an unexpected value {value!r:.80}")


_KIND_NAMES = {"iu": "an integer dtype", "f": "a float dtype"}


def check_parts(fields: dict, state: dict, meta: dict, path: Path) -> None:
    """Check that the arrays of a Trajectory agree with each other and with the meta."""
    for name in ("x_final", "particle_status", "converged_step", "diverged_step"):
        if fields.get(name) is None:
            _fail(path, f"lacks the array {name!r}")
    particles = fields["particle_status"].shape
    if 0 in particles:
        _fail(path, f"holds an ensemble of no particle ('particle_status' has shape {particles})")
    x_final = fields["x_final"]
    if x_final.ndim != len(particles) + 1 or x_final.shape[:-1] != particles or x_final.shape[-1] < 1:
        _fail(path, f"'x_final' has shape {x_final.shape}, but 'particle_status' has shape {particles}: "
                    f"expected {particles} + (dim,)")
    if x_final.dtype.kind != "f":
        _fail(path, f"'x_final' has dtype {x_final.dtype.str}; expected a float dtype")
    bad_status = sorted(set(np.unique(fields["particle_status"]).tolist()) - set(STATUSES))
    if bad_status:
        _fail(path, f"'particle_status' holds {bad_status[0]!r}; expected one of {STATUSES}")
    for name, kinds in (("converged_step", "iu"), ("diverged_step", "iu"), ("value_final", "f"),
                        ("grad_norm_final", "f")):
        value = fields.get(name)
        if value is None:
            continue
        if value.shape != particles or value.dtype.kind not in kinds:
            _fail(path, f"{name!r} has shape {value.shape} and dtype {value.dtype.str}; expected shape {particles}")
    if fields.get("step") is None or np.ndim(fields["step"]) != 1:
        _fail(path, "lacks the array 'step' of shape (n_records,)")
    n = len(fields["step"])
    if n == 0:
        _fail(path, "holds no record")
    record_shapes = {"step": ((n,), "iu"), "potential_energy": ((n,) + particles, "f"),
                     "kinetic_energy": ((n,) + particles, "f"), "dissipated": ((n,) + particles, "f"),
                     "grad_norm": ((n,) + particles, "f"), "x": ((n,) + x_final.shape, "f"),
                     "p": ((n,) + x_final.shape, "f"), "evaluations": ((n,), "iu")}
    for name, (shape, kinds) in record_shapes.items():
        value = fields.get(name)
        if value is None:
            if name in ("x", "p", "evaluations"):
                continue
            _fail(path, f"lacks the array {name!r}")
        if value.shape != shape or value.dtype.kind not in kinds:
            _fail(path, f"{name!r} has shape {value.shape} and dtype {value.dtype.str}; expected shape {shape} "
                        f"and {_KIND_NAMES[kinds]}")
    if fields.get("p") is not None and fields.get("x") is None:
        _fail(path, "has momenta 'p' without positions 'x'")
    sharp, sharp_step = fields.get("sharpness"), fields.get("sharpness_step")
    if (sharp is None) != (sharp_step is None):
        _fail(path, "has one of 'sharpness' and 'sharpness_step' without the other")
    if sharp is not None:
        m = len(sharp_step) if np.ndim(sharp_step) == 1 else -1
        if m < 1 or sharp_step.dtype.kind not in "iu" or np.any(sharp_step[1:] <= sharp_step[:-1]):
            _fail(path, f"'sharpness_step' must be increasing integers of shape (m,), got shape {sharp_step.shape} "
                        f"and dtype {sharp_step.dtype.str}")
        if sharp.dtype.kind != "f" or sharp.shape[:1 + len(particles)] != (m,) + particles or \
                sharp.ndim > 2 + len(particles):
            _fail(path, f"'sharpness' has shape {sharp.shape} and dtype {sharp.dtype.str}; expected shape "
                        f"{(m,) + particles} (or with a last axis of eigenvalues) and a float dtype")
    t = fields.get("t")
    if t is None:
        _fail(path, "lacks the array 't'")
    expected_t = f"({n},)" if not particles else f"({n},) or {(n,) + particles}"
    if t.shape not in ((n,), (n,) + particles) or t.dtype.kind != "f":
        _fail(path, f"'t' has shape {t.shape} and dtype {t.dtype.str}; expected shape {expected_t} and a float dtype")
    step = fields["step"]
    if step[0] < 0 or np.any(step[1:] <= step[:-1]):
        _fail(path, "'step' is not non-negative and increasing: the file is damaged")
    if int(step[-1]) != meta["n_steps"]:
        _fail(path, f"the last record is at step {int(step[-1])}, but the meta says n_steps = "
                    f"{meta['n_steps']}")
    # A particle still running at the end ended at the last record: its final values are that record's.
    running = ~np.isin(fields["particle_status"], ("converged", "diverged"))
    last = {"value_final": fields["potential_energy"][-1], "grad_norm_final": fields["grad_norm"][-1],
            "x_final": None if fields.get("x") is None else fields["x"][-1]}
    for name, recorded in last.items():
        final = fields.get(name)
        if final is None or recorded is None:
            continue
        same = (final == recorded) | (np.isnan(final) & np.isnan(recorded))
        if name == "x_final":
            same = same.all(axis=-1)
        if not np.all(same[running]):
            _fail(path, f"{name!r} disagrees with the last record for a particle that ran to the end: the final "
                        "values and the records come from different runs")
    record = meta.get("record", "all")
    if (record == "scalars") != (fields.get("x") is None):
        _fail(path, f"the meta says record = {record!r}, but the positions 'x' are "
                    + ("missing" if fields.get("x") is None else "there"))
    if state:
        check_state(state, x_final.shape, path)
        # A second-order method keeps a kinetic energy in its state and records momenta with positions.
        if fields.get("x") is not None and ("kinetic" in state) != (fields.get("p") is not None):
            _fail(path, "the momenta 'p' are " + ("missing" if fields.get("p") is None else "there")
                        + ", but the saved state is that of a " + ("second" if "kinetic" in state else "first")
                        + "-order method")


def check_state(state: dict, x_shape: tuple, where) -> None:
    """A saved integrator state: the arrays every integrator keeps, shaped for positions ``x_shape``."""
    missing = [k for k in _STATE_REQUIRED if k not in state]
    if missing:
        _fail(where, f"the saved state lacks {missing[0]!r}")
    particles = x_shape[:-1]
    expected = {"x": (x_shape,), "grad": (x_shape,), "value": (particles,), "dissipated": (particles,),
                "kinetic": (particles,), "t": ((), particles), "step": ((),)}
    for name, value in state.items():
        value = np.asarray(value)
        shapes = expected.get(name, (x_shape, particles, (), (0,)))  # a method's memory: per coordinate or particle
        if value.shape not in shapes:
            _fail(where, f"the saved state's {name!r} has shape {value.shape}; expected "
                         + " or ".join(map(str, shapes)) + f" for positions of shape {x_shape}")
        if value.dtype.kind not in "biuf":
            _fail(where, f"the saved state's {name!r} has dtype {value.dtype.str}; expected a numeric dtype")
    if np.asarray(state["step"]).dtype.kind not in "iu" or int(state["step"]) < 0:
        _fail(where, f"the saved state's 'step' must be a non-negative integer, got {state['step']!r}")


def npz_path(path) -> Path:
    """``path`` with ``.npz`` appended when it lacks it (numpy's savez convention)."""
    path = Path(path)
    return path if path.name.endswith(".npz") else path.with_name(path.name + ".npz")
