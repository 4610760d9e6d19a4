"""The Schedule base: a hyperparameter as a function of the step number.

It lives in the leaf layer because the parameter checks (:mod:`newtonopt._validation`) accept a
Schedule wherever a number is allowed, while the concrete schedules in :mod:`newtonopt.schedules`
use those checks for their own arguments; with the base here, both import downward.
"""

from __future__ import annotations


class Schedule:
    """A value as a function of the step ``k = 0, 1, 2, …`` (the step about to be taken)."""

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params() == other.params()

    __hash__ = None
