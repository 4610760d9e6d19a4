"""Ctrl-C during a run: the first one ends it between steps (the state stays resumable)."""

from __future__ import annotations

import signal
import threading


class DeferredInterrupt:
    """Turn the first Ctrl-C into a flag checked between steps, so the state stays consistent (resumable).

    A second Ctrl-C raises KeyboardInterrupt at once. Only in the main thread, where signals are delivered.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):  # pragma: no cover - embedded interpreters
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
