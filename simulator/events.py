"""The deterministic event core: a binary heap of totally ordered event keys.

An event is a tuple ``(time, order_class, worker, trial_id, sequence, level)``; tuples
compare field by field, so the heap order is a pure function of the simulated state.

Tie order at equal times (the documented, fixed order):

1. ``REPORT`` events (a trial reaching a fidelity level: continue, pause, stop, complete
   or failure), by worker id, then trial id.
2. ``FREE`` events (a worker freed later than its trial's last report because a decision
   overhead was charged, see ``simulator.overhead``), by worker id.
3. Then, and only then, free workers get work: the scheduler's ``suggest(time)`` is
   asked for the lowest free worker first, then the next, until it answers ``None``.
   Starts are not heap events; they happen after every event at that time.

``sequence`` (a counter) makes every key unique, so payloads are never compared.
In the results table, rows are sorted by (time, worker, trial_id, fidelity), which is
the processing order above.

Dropping a paused or stopped trial's later events costs nothing: the simulator keeps at
most one pending event per running trial (its next level the scheduler must observe, its
segment end, or its first failed level); the reports in between are recorded in bulk
when that event fires. So when a trial is paused or stopped there is no later event to
delete, and the heap never holds more than ``n_workers`` report events.

Example:
    >>> q = EventQueue()
    >>> q.push(5.0, REPORT, 1, 7, 3)
    >>> q.push(5.0, REPORT, 0, 9, 1)
    >>> q.push(2.0, FREE, 2, -1, 0)
    >>> [q.pop()[2] for _ in range(len(q))]
    [2, 0, 1]
"""
from __future__ import annotations

import heapq
from typing import Tuple

__all__ = ["REPORT", "FREE", "EventQueue", "Event"]

#: order classes (smaller first at equal times)
REPORT = 0
FREE = 1

Event = Tuple[float, int, int, int, int, int]


class EventQueue:
    """A heap of events ``(time, order_class, worker, trial_id, sequence, level)``.

    Example:
        >>> q = EventQueue()
        >>> q.push(1.5, REPORT, 0, 0, 4)
        >>> q.next_time(), len(q)
        (1.5, 1)
    """

    __slots__ = ("heap", "_seq")

    def __init__(self) -> None:
        self.heap: list[Event] = []
        self._seq = 0

    def push(self, time: float, order_class: int, worker: int, trial_id: int, level: int) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (time, order_class, worker, trial_id, self._seq, level))

    def pop(self) -> Event:
        return heapq.heappop(self.heap)

    def next_time(self) -> float | None:
        """Time of the next event, or ``None`` when the queue is empty."""
        return self.heap[0][0] if self.heap else None

    def pending(self, order_class: int = REPORT) -> list[Event]:
        """Pending events of one class, in processing order."""
        return sorted(e for e in self.heap if e[1] == order_class)

    def __len__(self) -> int:
        return len(self.heap)
