"""When a simulated run ends: ``Stop`` and its criteria.

Every criterion is optional, at least one is required, and the first one reached ends
the run:

- ``max_time``: simulated seconds. No report later than ``max_time`` is recorded and no
  trial starts at or after it.
- ``max_trials``: trials started. No trial beyond the ``max_trials``-th is started (paused
  trials may still be resumed); the run ends once nothing is left to run.
- ``max_completed``: the run ends at the report that completes the ``max_completed``-th trial.
- ``max_reports``: the run ends at the ``max_reports``-th report.
- ``max_cost``: total worker-seconds (busy time summed over workers, overheads included);
  the run ends at the instant the budget is used up.
- ``target``: the run ends at the first report whose metric reaches ``target``
  (``<=`` for mode ``min``, ``>=`` for mode ``max``).

"At the report" means that report is the last row of the results (reports at the same
time that come later in the documented order, see ``simulator.events``, are not).

A run also ends when nothing is left to run (``end_reason`` "exhausted"), and when it makes
no progress toward its criteria for ``simulator.simulate.NO_PROGRESS_LIMIT`` trial starts in a
row ("no_progress", with ``metadata["end_message"]`` saying why): a criterion that can never
be met (a target no trial reaches, ``max_completed`` when every evaluation fails, a scheduler
that only pauses) must not run forever. ``max_trials`` and ``max_reports`` always end a run.

Example:
    >>> Stop(max_time=3600, target=0.05).active()
    {'max_time': 3600.0, 'target': 0.05}
    >>> Stop.coerce({"max_trials": 20}).max_trials
    20
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from blackbox_repo.errors import InputError
from simulator.fields import from_mapping

__all__ = ["Stop", "StopError"]


class StopError(InputError):
    """Invalid stopping criteria."""


_INT_FIELDS = ("max_trials", "max_completed", "max_reports")
_FLOAT_FIELDS = ("max_time", "max_cost", "target")


@dataclass(frozen=True)
class Stop:
    """Stopping criteria of a simulated run (combinable; the first reached ends the run).

    Example:
        >>> Stop(max_time=72000, max_trials=100)
        Stop(max_time=72000.0, max_trials=100, max_completed=None, max_reports=None, max_cost=None, target=None)
    """

    max_time: float | None = None
    max_trials: int | None = None
    max_completed: int | None = None
    max_reports: int | None = None
    max_cost: float | None = None
    target: float | None = None

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or v < 1:
                raise StopError(f"{name}={v!r} is not valid; it must be an integer >= 1")
            object.__setattr__(self, name, int(v))
        for name in _FLOAT_FIELDS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise StopError(f"{name}={v!r} is not valid; it must be a finite number")
            v = float(v)
            if name != "target" and not v > 0:
                raise StopError(f"{name}={v!r} is not valid; it must be > 0")
            object.__setattr__(self, name, v)
        if not self.active():
            raise StopError(
                "no stopping criterion given; set at least one of "
                f"{[f.name for f in dataclasses.fields(self)]}")

    def active(self) -> dict[str, Any]:
        """The criteria that are set, as a dict (the order of the fields)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not None}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def coerce(cls, value: "Stop | Mapping[str, Any] | None") -> "Stop":
        """A ``Stop`` from a ``Stop`` or a dict with the same keys (unknown keys are errors)."""
        if isinstance(value, Stop):
            return value
        if value is None:
            return cls()  # raises: no criterion
        if not isinstance(value, Mapping):
            raise StopError(f"stop must be a Stop or a dict, got {type(value).__name__}: {value!r}")
        return from_mapping(cls, value, StopError, "stopping criteria")
