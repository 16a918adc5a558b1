"""A deliberately naive simulator, to check ``simulator.simulate`` against.

It implements docs/architecture.md#simulator-contract the slow and obvious way: every fidelity
level of every running trial is its own event on one heap; each value is read through the
blackbox's public ``evaluate(config, fidelity, seed)``; each report is recorded as it happens
and the run ends at the first report that reaches a criterion. No blocks of reports, no
scanning of curves for failures or targets, no numpy, no cut applied afterwards -- so the real
simulator's shortcuts (bulk recording, the short-gap loop and the long-gap numpy scan,
``assemble``'s stopping cut, ``_record_running``) are what a comparison tests.

Not modelled (the comparison avoids them): ``on_skipped_reports``, measured decision time, the
no-progress watch, and values the simulator refuses (infinite metrics, negative times).

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> from simulator import Stop, make_scheduler
    >>> obj = np.zeros((2, 1, 2, 2), np.float32)
    >>> obj[..., 0] = [[[0.5, 0.4]], [[0.3, 0.2]]]; obj[..., 1] = [[[10, 20]], [[5, 10]]]
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), obj, [1, 2], ["loss", "time"],
    ...                      metric_elapsed_time="time")
    >>> run = reference_simulate(bb, make_scheduler("GridSearch", bb), n_workers=2,
    ...                          stop=Stop(max_trials=2))
    >>> run.end_reason, [r.time for r in run.reports]
    ('max_trials', [5.0, 10.0, 10.0, 20.0])
    >>> [(r.trial, r.fidelity, r.decision) for r in run.reports]
    [(1, 1, 'continue'), (0, 1, 'continue'), (1, 2, 'complete'), (0, 2, 'complete')]
"""
from __future__ import annotations

import heapq
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from blackbox_repo.blackbox import Blackbox
from methods.base import Decision, Suggestion, Trial, TrialStatus
from simulator.stopping import Stop

__all__ = ["Report", "ReferenceRun", "reference_simulate"]

REPORT, FREE = 0, 1      # event classes: reports before freed workers at equal times


@dataclass(frozen=True)
class Report:
    """One recorded report: when, which trial on which worker, the level, every objective, the decision."""

    time: float
    trial: int
    worker: int
    fidelity: Any
    values: tuple
    decision: str


@dataclass
class ReferenceRun:
    """The reports in the results' order (by time, worker, trial, fidelity; ``reference_simulate``
    sorts the reports in the order they happened, stably), and why the run ended."""

    reports: list[Report] = field(default_factory=list)
    end_reason: str = "exhausted"


@dataclass
class _Trial:
    trial: Trial
    seed: int
    level: int = -1          # last level reached
    end: int = -1            # segment end level
    origin: float = 0.0      # level k is reached at origin + elapsed(k)
    worker: int = -1
    state: str = "running"   # running, paused, done


class _Seeds:
    """Each new trial's blackbox seed: uniform draws in blocks of 1,024 from child 1 of the run
    seed's SeedSequence (docs/architecture.md#seeds)."""

    def __init__(self, seed: int, num_seeds: int, fixed: int | None):
        self.rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1,)))
        self.n, self.fixed, self.pool = num_seeds, fixed, []

    def next(self) -> int:
        if self.fixed is not None:
            return self.fixed
        if self.n <= 1:
            return 0
        if not self.pool:
            self.pool = self.rng.integers(0, self.n, size=1024).tolist()[::-1]
        return self.pool.pop()


def reference_simulate(blackbox: Blackbox, scheduler: Any, *, n_workers: int, stop: Stop, seed: int = 0,
                       blackbox_seed: int | None = None, startup: float = 0.0, per_decision: float = 0.0,
                       time_per_fidelity: float | None = None) -> ReferenceRun:
    """Run ``scheduler`` on ``blackbox`` event by event (same meaning as ``simulator.simulate``
    with ``Overhead(startup=..., per_decision=...)``); the reports in the results' order."""
    run = _events(blackbox, scheduler, n_workers=n_workers, stop=stop, seed=seed, blackbox_seed=blackbox_seed,
                  startup=startup, per_decision=per_decision, time_per_fidelity=time_per_fidelity)
    run.reports.sort(key=lambda r: (r.time, r.worker, r.trial))     # stable: levels stay in order
    return run


def _events(blackbox: Blackbox, scheduler: Any, *, n_workers: int, stop: Stop, seed: int,
            blackbox_seed: int | None, startup: float, per_decision: float,
            time_per_fidelity: float | None) -> ReferenceRun:
    """The run, its reports in the order they happened."""
    fids = np.asarray(blackbox.fidelity_values).tolist()
    top = len(fids) - 1
    names = list(blackbox.objectives_names)
    metric = scheduler.metric if getattr(scheduler, "metric", None) else blackbox.metric
    sign = 1.0 if (getattr(scheduler, "mode", None) or blackbox.mode) == "min" else -1.0
    mi = names.index(metric)
    ei = None if time_per_fidelity is not None else names.index(blackbox.metric_elapsed_time)
    levels = scheduler.report_levels()
    observed = set(range(len(fids))) if levels is None else {fids.index(v) for v in levels}
    max_time = math.inf if stop.max_time is None else stop.max_time
    max_trials = sys.maxsize if stop.max_trials is None else stop.max_trials
    seeds = _Seeds(seed, int(blackbox.num_seeds), blackbox_seed)
    run = ReferenceRun()
    trials: list[_Trial] = []
    heap: list = []
    free = list(range(n_workers))
    busy_since = [0.0] * n_workers
    closed_cost = sum_since = 0.0
    n_busy = n_paused = n_completed = 0
    seq = 0
    t = 0.0
    changed = True           # an event the scheduler sees happened since workers were last offered work

    def values(tid: int, k: int) -> list[float]:
        tr = trials[tid]
        got = blackbox.evaluate(tr.trial.config, fids[k], tr.seed)
        return [float(got[n]) for n in names]

    def elapsed(tid: int, k: int) -> float:
        if k < 0:
            return 0.0
        if ei is None:
            return time_per_fidelity * (k + 1)
        return values(tid, k)[ei]

    def push_next_level(tid: int) -> None:
        """The trial's next level becomes an event (a failed cell without a time at the time of
        the level before it), never earlier than now."""
        nonlocal seq
        tr = trials[tid]
        k = tr.level + 1
        e = elapsed(tid, k)
        if e != e:
            e = elapsed(tid, k - 1)
        seq += 1
        heapq.heappush(heap, (max(tr.origin + e, t), REPORT, tr.worker, tid, seq, k))

    def release(w: int) -> None:
        nonlocal closed_cost, sum_since, n_busy
        closed_cost += t - busy_since[w]
        sum_since -= busy_since[w]
        n_busy -= 1
        heapq.heappush(free, w)

    def give_work() -> None:
        nonlocal n_paused, sum_since, n_busy
        while free:
            s = scheduler.suggest(t)
            if s is None:
                return
            assert isinstance(s, Suggestion)
            m = top if s.max_fidelity is None else fids.index(s.max_fidelity)
            if s.resume is None:
                if len(trials) >= max_trials:
                    scheduler.on_discard(s)
                    return
                tid = len(trials)
                trials.append(_Trial(Trial(tid, s.config, s.meta), seeds.next()))
                tr = trials[tid]
                tr.origin = t + startup
                if per_decision:
                    tr.origin += per_decision
                scheduler.on_start(tr.trial)
            else:
                tid = s.resume
                tr = trials[tid]
                assert tr.state == "paused" and m > tr.level, "the scheduler resumed a trial it may not"
                n_paused -= 1
                tr.origin = t + startup - elapsed(tid, tr.level)
                if per_decision:
                    tr.origin += per_decision
            tr.state, tr.end, tr.worker = "running", m, heapq.heappop(free)
            busy_since[tr.worker] = t
            sum_since += t
            n_busy += 1
            push_next_level(tid)

    while True:
        if changed and free and t < max_time and (len(trials) < max_trials or n_paused):
            changed = False
            give_work()
        if not heap:
            run.end_reason = "exhausted" if len(trials) < max_trials else "max_trials"
            return run
        tn = heap[0][0]
        # the worker-seconds used up before the next event, or before max_time if that comes first
        if stop.max_cost is not None and closed_cost + n_busy * min(tn, max_time) - sum_since > stop.max_cost:
            run.end_reason = "max_cost"
            return run
        if tn > max_time:
            run.end_reason = "max_time"
            return run
        t = tn
        while heap and heap[0][0] == t:       # every event at this time, in heap order
            _, cls, w, tid, _, k = heapq.heappop(heap)
            changed_before, changed = changed, True
            if cls == FREE:
                release(w)
                continue
            tr = trials[tid]
            tr.level = k
            vals = values(tid, k)
            mv = vals[mi]
            if mv != mv or (ei is not None and vals[ei] != vals[ei]):
                decision = "failed"
                tr.state = "done"
                scheduler.on_end(tr.trial, TrialStatus.FAILED)
                release(w)
            elif k in observed or k == tr.end:
                d = Decision(scheduler.on_report(tr.trial, fids[k], dict(zip(names, vals)), t))
                if k == tr.end or d is not Decision.CONTINUE:
                    if k == top:
                        decision, tr.state = "complete", "done"
                        n_completed += 1
                        scheduler.on_end(tr.trial, TrialStatus.COMPLETED)
                    elif d is Decision.STOP:
                        decision, tr.state = "stop", "done"
                        scheduler.on_end(tr.trial, TrialStatus.STOPPED)
                    else:
                        decision, tr.state = "pause", "paused"
                        n_paused += 1
                    if per_decision:
                        seq += 1
                        heapq.heappush(heap, (t + per_decision, FREE, w, -1, seq, -1))
                    else:
                        release(w)
                else:
                    decision = "continue"
                    tr.origin += per_decision
                    push_next_level(tid)
            else:                             # a level the scheduler does not observe: not an event to it
                decision = "continue"
                changed = changed_before
                push_next_level(tid)
            run.reports.append(Report(t, tid, w, fids[k], tuple(vals), decision))
            # the first report that reaches a criterion ends the run (one report reaching several:
            # max_reports, then max_completed, then target names it)
            if stop.max_reports is not None and len(run.reports) >= stop.max_reports:
                run.end_reason = "max_reports"
            elif stop.max_completed is not None and n_completed >= stop.max_completed:
                run.end_reason = "max_completed"
            elif stop.target is not None and sign * mv <= sign * stop.target:
                run.end_reason = "target"
            else:
                continue
            return run
