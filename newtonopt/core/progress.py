"""Progress bars that appear only when the work is long enough to need one.

:class:`Progress` wraps tqdm (the optional extra ``newtonopt[progress]``). With ``progress=None``
(the default everywhere) a bar opens only when someone can watch it — stderr is a terminal or the
code runs in a Jupyter kernel — and not under pytest, and only once the first items or steps
project the whole job past :data:`THRESHOLD` seconds: quick calls stay silent, long ones show
themselves without being asked. ``progress=True`` opens the bar at once (tqdm must be installed),
``progress=False`` never opens one.

Loops over items call :meth:`Progress.update`. A hot loop over steps compares its step counter with
the integer :meth:`Progress.report` returned and calls it again only when the counter reaches that
value, so when no bar is shown the loop pays one integer comparison per step::

    with Progress(n_steps, progress=progress, desc="simulate", unit="step") as bar:
        check = bar.next_check
        for k in range(n_steps):
            ...  # one step
            if k + 1 >= check:
                check = bar.report(k + 1)
"""

from __future__ import annotations

import math
import operator
import os
import sys
import time
from collections.abc import Callable

#: A job projected to take longer than this many seconds gets a bar (with ``progress=None``).
THRESHOLD = 2.0

#: Seconds of work between two looks at the clock: the bar's refresh interval, and the cadence at
#: which a job without a bar re-projects its total.
INTERVAL = 0.1

#: ``next_check`` when no further report is wanted: no step counter reaches it.
NEVER = sys.maxsize

EXTRA_HINT = "pip install 'newtonopt[progress]' (or pip install tqdm)"


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (classic, lab, VS Code, Colab): their shells derive from ZMQInteractiveShell."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)


def _under_pytest() -> bool:
    """True while pytest runs a test (it sets this variable for each phase of each test)."""
    return "PYTEST_CURRENT_TEST" in os.environ


def watched(stream=None) -> bool:
    """Whether a bar written to ``stream`` (default ``sys.stderr``) would be seen by a person.

    True in a terminal (the stream is a tty) or a notebook; False in pipes, files, and under pytest
    (whose capture would otherwise fill logs with bars).
    """
    if _under_pytest():
        return False
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    return tty or _in_notebook()


def _zero_width(stream) -> int:
    """80 when ``stream`` is a terminal that reports zero columns and rows (a pseudo-terminal nobody sized,
    as `script` or some CI runners make: tqdm would then draw nothing), else 0 (tqdm follows the terminal)."""
    try:
        return 80 if os.get_terminal_size(stream.fileno()).columns == 0 else 0
    except (AttributeError, OSError, ValueError):  # not a file, or not a terminal
        return 0


def _tqdm_class(required: bool):
    """tqdm's bar class (the notebook widget in a kernel when ipywidgets is there), or None when absent."""
    try:
        from tqdm import std
    except ImportError:
        if required:
            raise ImportError(f"progress=True needs tqdm: {EXTRA_HINT}") from None
        return None
    if _in_notebook():
        try:
            from tqdm.notebook import IProgress, tqdm_notebook

            if IProgress is not None:  # the widget needs ipywidgets; without it the text bar is used
                return tqdm_notebook
        except ImportError:
            pass
    return std.tqdm


class Progress:
    """A progress bar over ``total`` units of work that opens only when needed.

    Parameters
    ----------
    total : int
        Units of work (items, steps, frames); at least 0.
    progress : bool or None
        None (default): a bar opens when the work is watched (:func:`watched`) and the first units
        project it past :data:`THRESHOLD` seconds; silent without tqdm. True: a bar at once; raises
        ImportError naming the extra ``newtonopt[progress]`` when tqdm is missing. False: never a bar.
    desc : str
        The bar's label.
    unit : str
        The unit's name, shown in the rate ("12.5 step/s").
    threshold : float
        The projected duration in seconds above which ``progress=None`` opens a bar.
    stream : file-like, optional
        Where the bar is written (default ``sys.stderr``); its ``isatty`` decides ``progress=None``.
    clock : callable, optional
        Seconds as a float (default ``time.perf_counter``); tests pass a fake one.

    Attributes
    ----------
    next_check : int
        The count at which the caller should call :meth:`report` next (:data:`NEVER` when no bar
        can appear any more).
    bar : tqdm or None
        The open bar, if any.

    Examples
    --------
    >>> with Progress(3, progress=False, desc="runs", unit="run") as bar:
    ...     for _ in range(3):
    ...         bar.update()
    >>> bar.bar is None
    True
    """

    def __init__(self, total: int, *, progress: bool | None = None, desc: str = "", unit: str = "it",
                 threshold: float = THRESHOLD, stream=None, clock: Callable[[], float] = time.perf_counter):
        try:
            if isinstance(total, bool):
                raise TypeError
            total = operator.index(total)
        except TypeError:
            raise TypeError(f"total must be an integer, got {type(total).__name__} {total!r}") from None
        if total < 0:
            raise ValueError(f"total must be at least 0, got {total}")
        if progress is not None and not isinstance(progress, bool):
            raise TypeError(f"progress must be True, False or None, got {type(progress).__name__} {progress!r}")
        if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold >= 0):
            raise ValueError(f"threshold must be a finite number of seconds ≥ 0, got {threshold!r}")
        self.total, self.desc, self.unit, self.threshold = total, desc, unit, float(threshold)
        self.stream = sys.stderr if stream is None else stream
        self._clock = clock
        self.n = 0
        self.bar = None
        self._cls = None
        if progress is True:
            self._cls = _tqdm_class(required=True)
        elif progress is None and total > 0 and watched(self.stream):
            self._cls = _tqdm_class(required=False)
        self._t0 = clock()
        if self._cls is None:
            self.next_check = NEVER  # no bar can ever open: callers stop reporting
        elif progress is True:
            self._open()
            self.next_check = 1
        else:
            self.next_check = 1  # measure the first unit, then project

    def _open(self, elapsed: float = 0.0) -> None:
        width = _zero_width(self.stream)
        self.bar = self._cls(total=self.total, initial=self.n, desc=self.desc or None, unit=self.unit,
                             file=self.stream, mininterval=INTERVAL, dynamic_ncols=not width,
                             ncols=width or None, nrows=24 if width else None, leave=True)
        # The bar counts from when the work began, not from when it decided to show itself.
        self.bar.start_t -= elapsed

    def report(self, done: int) -> int:
        """Record that ``done`` units in all are finished; return the count at which to report next.

        Cheap to call (a clock read); callers in a hot loop call it only when their counter reaches
        the value it returned last (:attr:`next_check`).
        """
        done = min(int(done), self.total)
        if self._cls is None:
            self.n = done
            return NEVER
        elapsed = self._clock() - self._t0
        # Open once the rate so far projects the whole job past the threshold (not when it is already over).
        if self.bar is None and 0 < done < self.total and elapsed * self.total / done > self.threshold:
            self.n = done
            self._open(elapsed)
        elif self.bar is not None and done > self.n:
            self.bar.update(done - self.n)
        self.n = done
        if done >= self.total:
            self.next_check = NEVER
        elif done <= 0 or elapsed <= 0:
            self.next_check = done + 1
        else:  # the count expected after INTERVAL more seconds at the rate measured so far
            self.next_check = done + max(1, math.ceil(done * INTERVAL / elapsed))
        return self.next_check

    def update(self, n: int = 1) -> None:
        """Record ``n`` more finished units (for loops over items: runs, chunks, frames)."""
        done = self.n + int(n)
        if done >= self.next_check:
            self.report(done)
        else:
            self.n = min(done, self.total)

    def close(self) -> None:
        """Close the bar, if one opened (it stays on screen with its final count)."""
        if self.bar is not None:
            if self.n > self.bar.n:
                self.bar.update(self.n - self.bar.n)
            self.bar.close()
        self.next_check = NEVER

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "shown" if self.bar is not None else "hidden"
        return f"<Progress {self.desc or 'work'}: {self.n}/{self.total} {self.unit}, {state}>"


def progress_bar(total: int, *, progress: bool | None = None, desc: str = "", unit: str = "it") -> Progress:
    """A :class:`Progress` over ``total`` units: the form the package's functions call."""
    return Progress(total, progress=progress, desc=desc, unit=unit)
