"""Optional overhead models: they shift simulated time; all are off by default.

- ``startup``: seconds between a worker taking a trial (a start or a resume) and the trial
  beginning to train; the worker is busy during it.
- ``per_decision``: a constant number of seconds each scheduler decision takes
  (``suggest`` that returns work, and every ``on_report`` call).
- ``measured=True``: each decision takes the wall-clock time the scheduler really took
  (``time.perf_counter``), times ``scale``. The run is then no longer reproducible bit
  for bit; that is the point: it shows what a slow optimizer costs.

How a decision's cost enters simulated time: after ``suggest`` the trial's reports are
delayed by it; after ``on_report`` with "continue" the trial's later reports are delayed
by it; after a report that ends the trial's segment (pause, stop, complete) the worker is
free only that much later. Failures involve no decision and free the worker at once.

Example:
    >>> Overhead(startup=30).active
    True
    >>> Overhead.coerce({"per_decision": 0.5}).per_decision
    0.5
    >>> Overhead.coerce(None).active
    False
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from blackbox_repo.errors import InputError
from simulator.fields import from_mapping

__all__ = ["Overhead", "OverheadError"]


class OverheadError(InputError):
    """Invalid overhead settings."""


@dataclass(frozen=True)
class Overhead:
    """Simulated overheads: start-up delay per trial and cost per scheduler decision.

    Example:
        >>> Overhead(per_decision=0.1).decision_cost(0.002)
        0.1
        >>> Overhead(measured=True, scale=10).decision_cost(0.002)
        0.02
    """

    startup: float = 0.0
    per_decision: float = 0.0
    measured: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        for name in ("startup", "per_decision", "scale"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v < 0 \
                    or math.isinf(v):
                raise OverheadError(f"overhead {name}={v!r} is not valid; it must be a finite number >= 0")
            object.__setattr__(self, name, float(v))
        if not isinstance(self.measured, bool):
            raise OverheadError(f"overhead measured={self.measured!r} must be True or False")
        if self.measured and self.per_decision:
            raise OverheadError(
                "overhead: give either per_decision (a constant cost) or measured=True, not both")

    @property
    def active(self) -> bool:
        """Whether this model changes simulated time at all."""
        return bool(self.startup or self.per_decision or self.measured)

    @property
    def charges_decisions(self) -> bool:
        return bool(self.per_decision or self.measured)

    def decision_cost(self, measured_seconds: float) -> float:
        """Simulated seconds charged for a decision that really took ``measured_seconds``."""
        if self.measured:
            return measured_seconds * self.scale
        return self.per_decision

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def coerce(cls, value: "Overhead | Mapping[str, Any] | None") -> "Overhead":
        """An ``Overhead`` from ``None`` (no overhead), an ``Overhead`` or a dict."""
        if value is None:
            return cls()
        if isinstance(value, Overhead):
            return value
        if not isinstance(value, Mapping):
            raise OverheadError(f"overhead must be an Overhead or a dict, got {value!r}")
        return from_mapping(cls, value, OverheadError, "overhead settings")
