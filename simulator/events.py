"""Event keys of the simulation heap, and their fixed order at equal times.

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
the processing order above but in one case: a worker freed at ``t`` can take a trial whose
next report is also at ``t`` (a resume whose next level failed without a time), and that
report, processed later, sorts before the first if its trial id is lower.

Dropping a paused or stopped trial's later events costs nothing: the simulator keeps at
most one pending event per running trial (its next level the scheduler must observe, its
segment end, or its first failed level); the reports in between are recorded in bulk
when that event fires. So when a trial is paused or stopped there is no later event to
delete, and the heap never holds more than ``n_workers`` report events.

Example (``simulator.simulate`` keeps such tuples in a plain ``heapq`` list):
    >>> import heapq
    >>> heap = []
    >>> for event in [(5.0, REPORT, 1, 7, 3, 2), (5.0, REPORT, 0, 9, 1, 0), (2.0, FREE, 2, -1, 2, -1)]:
    ...     heapq.heappush(heap, event)
    >>> [heapq.heappop(heap)[2] for _ in range(len(heap))]
    [2, 0, 1]
"""
from __future__ import annotations

__all__ = ["REPORT", "FREE"]

#: order classes (smaller first at equal times)
REPORT = 0
FREE = 1
