"""What a run may use, as the event loop reads it: the stopping limits, the workers and their
busy seconds (what ``max_cost`` counts), and the no-progress watch.

``Budget`` holds the limits of a ``Stop`` as plain numbers (``inf`` / ``sys.maxsize`` when
absent) and watches for runs that make no progress; ``Workers`` hands out the lowest free
worker and keeps the busy worker-seconds so that the instant a cost budget runs out is exact.

Example:
    >>> from simulator.stopping import Stop
    >>> workers = Workers(2)
    >>> workers.take(0.0), workers.take(1.0)
    (0, 1)
    >>> workers.release(0, 4.0)            # worker 0 was busy 4 s, worker 1 still is
    >>> workers.cost_cut(10.0, 4.0, max_cost=10.0)   # 4 + (t - 1) = 10 at t = 7
    7.0
    >>> b = Budget(Stop(max_time=100), sign=1.0, no_progress_limit=10_000)
    >>> b.max_time, b.max_trials == b.max_reports, b.tgt
    (100.0, True, None)
"""
from __future__ import annotations

import math
import sys
from heapq import heappop, heappush

from simulator.settings import Settings
from simulator.stopping import Stop

__all__ = ["Budget", "Workers", "WATCH_EVERY"]

#: progress is looked at every this many starts and resumes (not per event: the loop stays lean)
WATCH_EVERY = 1_000


class Workers:
    """The free workers (a heap: lowest id first) and the busy worker-seconds: ``closed_cost``
    of the segments that ended, plus ``n_busy * t - sum_since`` of those still running.

    Example:
        >>> w = Workers(3)
        >>> w.take(2.0), w.n_busy, w.free
        (0, 1, [1, 2])
    """

    __slots__ = ("free", "busy_since", "closed_cost", "sum_since", "n_busy")

    def __init__(self, n_workers: int) -> None:
        self.free = list(range(n_workers))
        self.busy_since = [0.0] * n_workers
        self.closed_cost = 0.0
        self.sum_since = 0.0
        self.n_busy = 0

    def take(self, t: float) -> int:
        """The lowest free worker, busy from ``t``."""
        w = heappop(self.free)
        self.busy_since[w] = t
        self.sum_since += t
        self.n_busy += 1
        return w

    def release(self, w: int, when: float) -> None:
        since = self.busy_since[w]
        self.closed_cost += when - since
        self.sum_since -= since
        self.n_busy -= 1
        heappush(self.free, w)

    def cost_cut(self, tn: float, t: float, max_cost: float) -> float | None:
        """The instant (not before ``t``) the worker-seconds reach ``max_cost`` if that happens
        before ``tn`` with the workers busy now, else ``None``."""
        if self.closed_cost + self.n_busy * tn - self.sum_since > max_cost:
            return max((max_cost - self.closed_cost + self.sum_since) / self.n_busy, t)
        return None


class Budget:
    """The limits of ``stop`` as numbers the loop compares with, the target as ``sign * target``
    (``tgt``, lower is better), and the no-progress watch: every ``WATCH_EVERY`` starts and
    resumes, ``look`` compares (time, completed trials, best metric) with the last snapshot;
    a run with a trial or report budget always ends and is never watched.

    Example:
        >>> from simulator.stopping import Stop
        >>> b = Budget(Stop(max_time=10, target=0.5), sign=-1.0, no_progress_limit=2, watch_every=1)
        >>> b.tgt, b.look(1, t=0.0, n_completed=0, best=math.inf), b.look(2, 0.0, 0, math.inf)
        (-0.5, False, True)
    """

    __slots__ = ("stop", "max_time", "max_trials", "max_completed", "max_reports", "max_cost", "tgt",
                 "watch_time", "watch_done", "stall_limit", "watch_every", "next_watch", "mark",
                 "snap_t", "snap_done", "snap_best")

    def __init__(self, stop: Stop, sign: float, no_progress_limit: int, watch_every: int = WATCH_EVERY) -> None:
        self.stop = stop
        self.max_time = stop.max_time if stop.max_time is not None else math.inf
        self.max_trials = stop.max_trials if stop.max_trials is not None else sys.maxsize
        self.max_completed = stop.max_completed if stop.max_completed is not None else sys.maxsize
        self.max_reports = stop.max_reports if stop.max_reports is not None else sys.maxsize
        self.max_cost = stop.max_cost
        self.tgt = sign * stop.target if stop.target is not None else None
        # the watch: progress toward a criterion that can end the run (time for max_time and
        # max_cost, completions for max_completed, the best metric for target); mark is the
        # number of starts and resumes at the last look that saw progress
        self.watch_time = stop.max_time is not None or stop.max_cost is not None
        self.watch_done = stop.max_completed is not None
        bounded = stop.max_trials is not None or stop.max_reports is not None
        self.stall_limit = sys.maxsize if bounded else no_progress_limit
        self.watch_every = max(1, min(watch_every, self.stall_limit))
        self.next_watch = self.watch_every if not bounded else sys.maxsize
        self.mark = 0
        self.snap_t, self.snap_done, self.snap_best = 0.0, 0, math.inf

    def look(self, n_segs: int, t: float, n_completed: int, best: float) -> bool:
        """Called when ``n_segs`` (starts and resumes) reaches ``next_watch``: whether the run
        has made no progress for ``stall_limit`` of them (and at least as many as before the
        last progress)."""
        self.next_watch += self.watch_every
        if (self.watch_time and t > self.snap_t) or (self.watch_done and n_completed > self.snap_done) \
                or best < self.snap_best:
            self.mark = n_segs
            self.snap_t, self.snap_done, self.snap_best = t, n_completed, best
            return False
        return n_segs - self.mark >= self.stall_limit and n_segs >= 2 * self.mark

    def no_progress_message(self, st: Settings, n_segs: int, t: float, n_completed: int, best: float) -> str:
        """Why a run was ended for making no progress, and what to do (``best``: the best metric
        seen, in the metric's own sign)."""
        facts = []
        if self.watch_time:
            facts.append(f"simulated time stayed at {t:g} s")
        if self.watch_done:
            facts.append(f"no trial completed (completed so far: {n_completed})")
        if st.stop.target is not None:
            facts.append(f"the best {st.metric} stayed {best:g} (target {st.stop.target:g})"
                         if math.isfinite(best) else f"no finite {st.metric} was reported (target {st.stop.target:g})")
        return (f"no progress toward the stopping criteria {st.stop.active()} in the last {n_segs - self.mark:,} "
                f"trial starts and resumes: {'; '.join(facts)}. The run was ended at simulated time {t:g} s and "
                f"its results are kept. Bound the run with a trial or report budget (max_trials, max_reports; "
                f"--max-trials, --max-reports on the command line), or check the blackbox and the target")
