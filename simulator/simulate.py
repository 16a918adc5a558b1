"""The discrete-event simulation of an HPO run on a blackbox, and ``make_scheduler``.

Semantics (docs/architecture.md#simulator-contract): ``n_workers`` slots; a free slot asks the scheduler
for work (lowest free worker first, after every event at that time, see
``simulator.events``). A trial started at ``t0`` reports fidelity level ``k`` at
``t0 + elapsed(k)``; resumed at ``t1`` from level ``r`` it reports ``k > r`` at
``t1 + elapsed(k) - elapsed(r)``. Pause or stop frees the worker at that instant.
Reaching the segment's ``max_fidelity`` below the largest fidelity pauses the trial (the
scheduler's report there is still asked; "continue" is recorded as "pause"); reaching the
largest fidelity completes it. A NaN metric (or elapsed time) at a level is a failed
evaluation: decision "failed", ``on_end(FAILED)``, worker freed at that time.

Speed: the scheduler is called only at its ``report_levels()`` and at segment ends; the
reports in between are not events at all. Each observed report appends one "block"
(trial, first level, last level, time origin, ...) to the plain lists of a
``simulator.assemble.Buffers``; the results table is built once at the end by vectorized
numpy indexing into the table (``simulator.assemble``). The inputs are checked and
resolved first (``simulator.settings``); curves come from ``simulator.lookup``.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> obj = np.zeros((3, 1, 2, 2), np.float32)
    >>> obj[..., 0] = [[[0.5, 0.4]], [[0.3, 0.2]], [[0.9, 0.8]]]   # loss
    >>> obj[..., 1] = [[[10, 20]], [[5, 10]], [[1, 2]]]             # cumulative time
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2, 3]}), obj, [1, 2], ["loss", "time"],
    ...                      metric_elapsed_time="time")
    >>> res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=2, stop=Stop(max_trials=3))
    >>> res.trials["end_time"].tolist()
    [20.0, 10.0, 12.0]
"""
from __future__ import annotations

import contextlib
import functools
import gc
import math
import platform
import sys
import time as _time
import weakref
from heapq import heappop, heappush
from typing import Any, Mapping

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from blackbox_repo.blackbox import Blackbox, BlackboxError
from blackbox_repo.curve_source import CurveSource
from simulator.assemble import COMPLETE as _COMPLETE
from simulator.assemble import CONTINUE as _CONTINUE
from simulator.assemble import FAILED as _FAILED
from simulator.assemble import PAUSE as _PAUSE
from simulator.assemble import STOP as _STOP
from simulator.assemble import Buffers, assemble, value_error
from simulator.budget import Budget, Workers
from simulator.events import FREE, REPORT
from simulator.lookup import NotInTable, trial_curves
from simulator.seeds import TrialSeeds
from simulator.overhead import Overhead
from simulator.results import SimulationResult
from simulator.settings import (SchedulerProtocolError, Settings, SimulationError, check_metric,
                                resolve_settings)
from simulator.stopping import Stop
from simulator.trials import DONE, PAUSED, RUNNING, TrialState

__all__ = ["simulate", "make_scheduler", "bind_scheduler", "SimulationError", "SchedulerProtocolError"]


#: the run ends ("no_progress") after this many trial starts and resumes in a row (and at least
#: as many as before the last progress) without progress toward a stopping criterion that can
#: end it: simulated time advancing (max_time, max_cost), a trial completing (max_completed), the
#: best metric improving (target). Runs with max_trials or max_reports always end; never checked.
NO_PROGRESS_LIMIT = 10_000

#: method name and arguments of schedulers built by ``make_scheduler`` (for metadata)
_METHOD_INFO: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=None)
def _version() -> str:
    try:
        from importlib.metadata import version
        return version("hposim")
    except Exception:  # not installed (running from a source tree)
        return "unknown"


# ---------------------------------------------------------------------- make_scheduler
def make_scheduler(method_name: str, blackbox: Blackbox, *, metric: str | None = None,
                   mode: str | None = None, seed: int = 0, **kwargs: Any):
    """A registered method set up for ``blackbox``: its space, fidelities, metric and mode
    (defaults: the blackbox's) and, for a table, its rows as ``candidates`` (row order).

    Example:
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> import numpy as np, pandas as pd
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 2)), [1],
        ...                      ["loss", "time"], metric_elapsed_time="time")
        >>> make_scheduler("RandomSearch", bb, seed=3).metric
        'loss'
    """
    import methods
    from methods.arguments import check_seed
    from methods.registry import check_objectives

    if not isinstance(blackbox, Blackbox):
        raise SimulationError(f"make_scheduler needs a Blackbox (e.g. blackbox_repo.load_blackbox(name, task)), "
                              f"got {type(blackbox).__name__}: {blackbox!r}")
    if not isinstance(method_name, str):
        raise SimulationError(f"method_name must be a registered method name (a string, see "
                              f"'hposim methods'), got {type(method_name).__name__}: {method_name!r}")
    seed = check_seed("seed", seed, SimulationError)
    metric, mode = _objectives_for(method_name, blackbox, metric, mode, check_objectives)
    check_metric(blackbox, metric, mode)
    kw = dict(kwargs)
    kw.setdefault("fidelity_values", np.asarray(blackbox.fidelity_values))
    table = blackbox.rows()
    if table is not None and "candidates" not in kw:
        kw["candidates"] = table.configs()
    sched = methods.create(method_name, blackbox.configuration_space, metric=metric, mode=mode,
                           seed=seed, **kw)
    try:
        _METHOD_INFO[sched] = {"name": method_name, "args": dict(kwargs), "seed": seed}
    except TypeError:  # not weak-referenceable
        pass
    return sched


def _objectives_for(method_name: str, blackbox: Blackbox, metric: Any, mode: Any,
                    check_objectives: Any) -> tuple[Any, Any]:
    """The metric and mode ``method_name`` is created with: the blackbox's by default; for
    several metrics (a list or ``"a,b"``), lists with one mode per metric (required). Raises
    ``methods.MethodError`` (an ``InputError``) naming what is allowed."""
    import methods

    several = isinstance(metric, (list, tuple)) or (isinstance(metric, str) and "," in metric)
    if several and mode is None:
        raise methods.MethodError(
            f"several metrics ({metric!r}) need one mode each, e.g. mode='max,min' (on the command line "
            f"--mode max,min); modes: 'min' or 'max'")
    metric = metric if metric is not None else blackbox.metric
    mode = mode if mode is not None else blackbox.mode
    metrics, modes = check_objectives(method_name, metric, mode)   # existence: check_metric
    flag = getattr(methods.METHODS.get(method_name), "multi_objective", False)
    if flag or (flag is None and len(metrics) > 1):
        return metrics, modes
    return metrics[0], modes[0]


def bind_scheduler(scheduler: Any, blackbox: Blackbox, *, metric: Any = None, mode: Any = None,
                   seed: int = 0) -> None:
    """Bind an unbound scheduler (``bound`` False, e.g. ``OptunaScheduler(sampler)``) to ``blackbox``
    as ``make_scheduler`` builds one: the blackbox's space, fidelities, rows (a table) and, unless
    given, its metric and mode; ``seed`` is the run's. ``simulate`` calls it for an unbound scheduler.
    Errors (``methods.MethodError``/``SimulationError``, ``InputError``s) name what is allowed.

    Example:
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> import numpy as np, pandas as pd
        >>> from methods.base import Scheduler
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 1, 2)), [1],
        ...                      ["loss", "time"], metric_elapsed_time="time")
        >>> bind_scheduler(make_scheduler("RandomSearch", bb), bb)    # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        methods.errors.MethodError: RandomSearch was built with its problem ...
    """
    import methods
    from methods.arguments import check_seed
    from methods.base import check_objective_count, parse_objectives

    if not isinstance(scheduler, methods.Scheduler):
        raise SimulationError(f"only an hposim Scheduler (methods.base.Scheduler) can be bound, got "
                              f"{type(scheduler).__name__}")
    if scheduler.bound:
        scheduler.bind(blackbox.configuration_space, metric=blackbox.metric)   # refuses, with its message
    seed = check_seed("seed", seed, SimulationError)
    several = isinstance(metric, (list, tuple)) or (isinstance(metric, str) and "," in metric)
    if several and mode is None:
        raise methods.MethodError(f"several metrics ({metric!r}) need one mode each, e.g. mode='max,min'; "
                                  f"modes: 'min' or 'max'")
    metrics, modes = parse_objectives(metric if metric is not None else blackbox.metric,
                                      mode if mode is not None else blackbox.mode)
    flag = getattr(type(scheduler), "multi_objective", False)
    check_objective_count(type(scheduler).__name__, flag, metrics)
    several = bool(flag) or (flag is None and len(metrics) > 1)
    objective: Any = metrics if several else metrics[0]
    direction: Any = modes if several else modes[0]
    check_metric(blackbox, objective, direction)
    fidelities: Any = np.asarray(blackbox.fidelity_values)
    table = blackbox.rows()      # a table: its rows are the candidates (CurveSource)
    scheduler.bind(blackbox.configuration_space, metric=objective, mode=direction, fidelity_values=fidelities,
                   seed=seed, candidates=None if table is None else table.configs())
    name = next((n for n, c in methods.METHODS.items() if c is type(scheduler)), type(scheduler).__name__)
    try:
        _METHOD_INFO.setdefault(scheduler, {"name": name, "args": {}, "seed": seed})
    except TypeError:  # not weak-referenceable
        pass


# ---------------------------------------------------------------------- simulate
def simulate(blackbox: Blackbox, scheduler: Any, *, n_workers: int = 4,
             stop: Stop | Mapping[str, Any] | None = None, seed: int = 0,
             blackbox_seed: int | None = None, overhead: Overhead | Mapping[str, Any] | None = None,
             metric: str | None = None, mode: str | None = None,
             time_per_fidelity: float | None = None) -> SimulationResult:
    """Simulate ``scheduler`` tuning ``blackbox`` on ``n_workers`` workers until ``stop``.

    ``seed`` seeds the run's random stream (the blackbox seed of each trial is drawn from
    it) unless ``blackbox_seed`` fixes one seed for every trial. ``metric``/``mode``
    (default: the scheduler's, else the blackbox's) are used for ``Stop.target`` and the
    summary. ``time_per_fidelity``: a constant cost in seconds per fidelity level, for
    blackboxes without an elapsed-time objective (it overrides one if both exist).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> obj = np.ones((4, 1, 3, 1), np.float32)
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2, 3, 4]}), obj, [1, 2, 3], ["loss"])
        >>> res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=2,
        ...                stop={"max_time": 100}, time_per_fidelity=10)
        >>> len(res.results), float(res.results["time"].max())
        (12, 60.0)
    """
    t_total0 = _time.perf_counter()
    from methods.base import Scheduler
    if isinstance(scheduler, Scheduler) and not scheduler.bound:    # built without its problem
        bind_scheduler(scheduler, blackbox, metric=metric, mode=mode, seed=seed)
    st = resolve_settings(blackbox, scheduler, n_workers=n_workers, stop=stop, seed=seed,
                          blackbox_seed=blackbox_seed, overhead=overhead, metric=metric, mode=mode,
                          time_per_fidelity=time_per_fidelity)
    buf = Buffers()
    threads = getattr(scheduler, "blas_threads", None)
    with (threadpool_limits(limits=threads, user_api="blas") if threads else contextlib.nullcontext()):
        t, cut_time, end_reason, wall, sugg_seconds, end_message = _run(blackbox, scheduler, st, buf)
    results, trials, end_time, renamed, cut_reason = assemble(blackbox, st, cut_time, buf)
    if cut_time is None:
        end_time = t
    if cut_reason is not None:      # the report that ended the run may come before the one that
        end_reason = cut_reason     # made the loop stop (the same time step, or recorded in bulk)
    metadata = _metadata(blackbox, scheduler, st, results, trials)
    metadata.update({
        "end_reason": end_reason,
        "end_message": end_message,
        "end_time": float(end_time),
        "wall_seconds": wall,
        "suggest_seconds": sugg_seconds,
        "report_seconds": float(results["decision_time"].sum()),
        "total_seconds": _time.perf_counter() - t_total0,
        "renamed_columns": renamed,
    })
    return SimulationResult(results, trials, metadata)


def _run(blackbox: CurveSource, scheduler: Any, st: Settings,
         buf: Buffers) -> tuple[float, float | None, str, float, float, str | None]:
    """The event loop: runs until a stopping criterion, until nothing is left to run or
    until no progress is made (``NO_PROGRESS_LIMIT``), filling ``buf``. Returns ``(last
    event time, cut time or None, end reason, wall seconds of the loop, seconds spent in
    suggest(), a message when the run ended without reaching a criterion)``; reports are
    recorded in ``buf`` up to the cut time (running trials included), the finer cuts are
    ``assemble``'s."""
    loop = _EventLoop(blackbox, scheduler, st, buf, Budget(st.stop, st.sign, NO_PROGRESS_LIMIT))
    # the loop allocates many small objects and frees none: a cyclic GC pass would only
    # re-scan the (possibly large) live heap, so it is paused for the loop's duration
    gc_was_enabled = gc.isenabled()
    gc.disable()
    wall0 = _time.perf_counter()
    try:
        t, cut_time, end_reason = loop.run()
    finally:
        loop.hot = loop.hot_give = None     # they hold the loop's bound methods: no cycle left behind
        if gc_was_enabled:
            gc.enable()
    wall = _time.perf_counter() - wall0
    if cut_time is not None or loop.stalled:
        _record_running(loop.heap, t if loop.stalled else cut_time, loop.trials, st, buf)
    message = None
    if loop.stalled:
        message = loop.budget.no_progress_message(st, loop.n_segs, t, loop.n_completed, st.sign * loop.best_seen)
    return t, cut_time, end_reason, wall, loop.sugg_seconds, message


class _EventLoop:
    """One run's event loop, in named parts: ``run`` (the time steps: free workers get work,
    then every event of the next time, then the budget), ``give_work`` with ``start`` and
    ``resume`` (a suggestion taken by a worker), ``report`` (a trial reaching the level of its
    pending event) and ``schedule`` (a trial's next pending event). The state: ``trials``
    (``simulator.trials``), ``workers`` and ``budget`` (``simulator.budget``), the event
    ``heap`` and a few counters. The settings, the trial lists and the scheduler's methods are
    bound to slots once (one attribute load each in the hot methods). Nothing here uses pandas
    or does I/O."""

    __slots__ = ("blackbox", "st", "buf", "budget", "workers", "trials", "heap", "seq", "curves", "next_seed",
                 # settings and the trial lists, bound once
                 "mi", "ei", "tpf", "sign", "tgt", "next_obs", "sched_mask", "fid_list", "names", "max_level",
                 "level", "end", "origin", "curve", "worker", "state", "trial",
                 # decision costs: Overhead.decision_cost when charged (cost_of), else none
                 "cost_of", "ov_start", "perf", "release", "record", "record_segment", "hot", "hot_start",
                 "hot_give",
                 "suggest", "on_report", "on_end", "on_start", "on_discard", "on_skipped",
                 "Suggestion", "Trial", "d_continue", "d_pause", "d_stop", "completed", "stopped", "failed",
                 "n_paused", "n_completed", "n_rows", "n_segs", "best_seen", "sugg_seconds",
                 "triggered", "end_reason", "stalled")

    def __init__(self, blackbox: CurveSource, scheduler: Any, st: Settings, buf: Buffers, budget: Budget) -> None:
        from methods.base import Decision, Suggestion, Trial, TrialStatus
        self.blackbox, self.st, self.buf, self.budget = blackbox, st, buf, budget
        self.workers = Workers(st.n_workers)
        self.release = self.workers.release
        trials = self.trials = TrialState(buf)
        self.level, self.end, self.origin, self.curve = trials.level, trials.end, trials.origin, trials.curve
        self.worker, self.state, self.trial = trials.worker, trials.state, trials.trial
        self.mi, self.ei, self.tpf, self.sign, self.tgt = st.mi, st.ei, st.tpf, st.sign, budget.tgt
        self.next_obs, self.sched_mask, self.fid_list = st.next_obs, st.sched_mask, st.fid_list
        self.names, self.max_level = st.names, st.max_level
        self.record, self.record_segment = buf.blocks.append, buf.segments.append
        self.heap: list = []
        self.seq = 0
        # the run's own stream (blackbox seeds): child 1 of the seed's SeedSequence, so a scheduler
        # seeded with the same integer (default_rng(seed)) draws from an independent stream
        rng = np.random.default_rng(np.random.SeedSequence(st.seed, spawn_key=(1,)))
        seeds = TrialSeeds(rng, int(blackbox.num_seeds), st.blackbox_seed, budget.max_trials)
        self.next_seed = seeds.next
        # with a trial budget the seeds shown never exceed it: whole batches from the start
        self.curves = trial_curves(blackbox, scheduler, seeds.upcoming,
                                   first_batch=sys.maxsize if st.stop.max_trials is not None else None)
        self.cost_of = st.overhead.decision_cost if st.overhead.charges_decisions else None
        self.ov_start = st.overhead.startup
        self.perf = _time.perf_counter
        self.suggest = scheduler.suggest
        self.on_report = scheduler.on_report
        self.on_end = getattr(scheduler, "on_end", None) or (lambda trial, status: None)
        # protocol additions (optional for duck-typed schedulers): a suggestion started or discarded,
        # and the reports between observed levels in one batch for methods that want whole curves
        self.on_start = getattr(scheduler, "on_start", None)
        self.on_discard = getattr(scheduler, "on_discard", None)
        self.on_skipped = scheduler.on_skipped_reports if getattr(scheduler, "wants_skipped_reports", False) \
            else None
        self.Suggestion, self.Trial = Suggestion, Trial
        self.d_continue, self.d_pause, self.d_stop = Decision.CONTINUE, Decision.PAUSE, Decision.STOP
        self.completed, self.stopped, self.failed = TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED
        self.n_paused = self.n_completed = self.n_rows = self.n_segs = 0
        self.best_seen = math.inf        # best sign * metric seen (watched only with a target)
        self.sugg_seconds = 0.0          # measured seconds of all suggest() calls
        self.triggered = False
        self.end_reason = "exhausted"
        self.stalled = False
        # what report() reads on every event, unpacked in one step (cheaper than an attribute each)
        self.hot = (self.mi, self.ei, self.curve, self.level, self.end, self.origin, self.state, self.trial,
                    self.sched_mask, self.fid_list, self.names, self.record, self.release, self.schedule,
                    self.on_skipped, self.tgt, self.sign, self.perf, self.on_report, self.cost_of, self.max_level,
                    self.on_end, self.d_continue, self.d_pause, self.d_stop)
        # what give_work() reads
        self.hot_give = (self.workers.free, budget, self.suggest, self.perf, st.level_of, self.max_level,
                         self.Suggestion, self.record_segment, self.start, self.resume, self.schedule, self.worker)
        # and what start() reads (TrialState's lists, and the run's per-trial lists in buf)
        self.hot_start = (self.next_seed, self.curves, self.Trial, self.ov_start, self.cost_of, self.on_start,
                          self.workers.take, buf.t_cid, buf.t_seed, buf.t_curve, buf.t_configs, self.trial,
                          self.level, self.end, self.origin, self.worker, self.state)

    # ------------------------------------------------------------------ the time steps
    def run(self) -> tuple[float, float | None, str]:
        """``(last event time, cut time or None, end reason)``."""
        budget, workers, heap, report, release = self.budget, self.workers, self.heap, self.report, self.release
        free = workers.free
        max_time, max_trials, max_cost = budget.max_time, budget.max_trials, budget.max_cost
        max_completed, max_reports = budget.max_completed, budget.max_reports
        started = self.state     # one entry per trial started
        t = 0.0
        while True:
            if free and t < max_time and (len(started) < max_trials or self.n_paused):
                self.give_work(t)
                if self.stalled:     # everything up to now is kept (trials started now included)
                    return t, None, "no_progress"
            if not heap:
                return t, None, "exhausted" if len(started) < max_trials else "max_trials"
            tn = heap[0][0]
            if max_cost is not None:     # the worker-seconds may run out before max_time too
                tc = workers.cost_cut(tn if tn <= max_time else max_time, t, max_cost)
                if tc is not None:
                    return t, tc, "max_cost"
            if tn > max_time:
                return t, max_time, "max_time"
            t = tn
            while heap and heap[0][0] == t:
                _, cls, w, tid, _, k = heappop(heap)
                if cls == FREE:
                    release(w, t)
                else:
                    report(w, tid, k, t)
            if self.n_completed >= max_completed:
                self.triggered, self.end_reason = True, "max_completed"
            if self.n_rows >= max_reports:
                self.triggered, self.end_reason = True, "max_reports"
            if self.triggered:
                return t, t, self.end_reason

    # ------------------------------------------------------------------ start and resume
    def give_work(self, t: float) -> None:
        """Ask ``suggest(t)`` for the lowest free worker, then the next, until it answers ``None``,
        a start is beyond the trial budget, or no worker is free; sets ``stalled`` when the
        no-progress watch ends the run."""
        free, budget, suggest, perf, level_of, max_level, Suggestion, record_segment, start, resume, schedule, \
            worker = self.hot_give
        while free:
            t0 = perf()
            s = suggest(t)
            dt = perf() - t0
            self.sugg_seconds += dt
            if s is None:
                return
            if type(s) is not Suggestion and not isinstance(s, Suggestion):
                raise _protocol_error(f"suggest(time={t!r}) returned {_shown(s)}; expected a "
                                      f"methods.base.Suggestion (Suggestion.start(config) or "
                                      f"Suggestion.resume_trial(trial_id)) or None for nothing now")
            mf = s.max_fidelity
            if mf is None:
                m = max_level
            else:
                m = level_of.get(mf)
                if m is None:
                    m = _level_or_error(self.blackbox, mf, s)
            if s.resume is None:
                if len(self.state) >= budget.max_trials:
                    if self.on_discard is not None:
                        self.on_discard(s)
                    return      # budget of trials used up: ignore new starts
                tid = start(s, m, t, dt)
            else:
                tid = resume(s.resume, m, t, dt)
            record_segment((tid, t, worker[tid]))
            self.n_segs += 1
            schedule(tid, t)
            if self.n_segs >= budget.next_watch and budget.look(self.n_segs, t, self.n_completed, self.best_seen):
                self.stalled = True
                return

    def start(self, s: Any, m: int, t: float, dt: float) -> int:
        """A new trial for suggestion ``s`` up to level ``m``, on the lowest free worker; its
        reports are delayed by the start-up time and the cost of the decision (``dt`` seconds)."""
        next_seed, curves, Trial, ov_start, cost_of, on_start, take, t_cid, t_seed, t_curve, t_configs, \
            t_trial, t_level, t_end, t_origin, t_worker, t_state = self.hot_start
        cfg = s.config
        bseed = next_seed()
        try:
            cid, curve = curves(cfg, bseed)
        except NotInTable as e:
            raise _protocol_error(
                f"suggest(time={t!r}) returned the configuration {_shown(cfg)}, which this tabulated "
                f"blackbox does not have ({e}); a scheduler must suggest rows of the table "
                f"(make_scheduler passes them as candidates)") from None
        tid = len(t_state)
        trial = Trial(tid, cfg, s.meta)
        origin = t + ov_start
        if cost_of is not None:
            origin += cost_of(dt)
        # the new trial's entry in every list of TrialState
        t_cid.append(cid)
        t_seed.append(bseed)
        t_curve.append(curve)
        t_configs.append(cfg)
        t_trial.append(trial)
        t_level.append(-1)
        t_end.append(m)
        t_origin.append(origin)
        t_worker.append(take(t))
        t_state.append(RUNNING)
        if on_start is not None:
            on_start(trial)
        return tid

    def resume(self, tid: Any, m: int, t: float, dt: float) -> int:
        """Paused trial ``tid`` resumed up to level ``m`` on the lowest free worker, from its last
        level (``simulator.trials.TrialState.resume_problem`` says when it cannot be)."""
        problem = self.trials.resume_problem(tid, m, self.fid_list, t)
        if problem is not None:
            raise _protocol_error(problem)
        self.n_paused -= 1
        self.state[tid] = RUNNING
        self.end[tid] = m
        self.worker[tid] = self.workers.take(t)
        origin = t + self.ov_start - self.elapsed(self.curve[tid], self.level[tid])
        if self.cost_of is not None:
            origin += self.cost_of(dt)
        self.origin[tid] = origin
        return tid

    def elapsed(self, curve: np.ndarray, k: int) -> float:
        """Elapsed time of level ``k`` (0 before the first)."""
        if k < 0:
            return 0.0
        if self.ei < 0:
            return self.tpf * (k + 1)
        return float(curve[k, self.ei])

    # ------------------------------------------------------------------ events
    def schedule(self, tid: int, now: float) -> None:
        """Push the trial's next event: its next observed level, its segment end, or the first
        level before them with a failure or reaching the target."""
        mi, ei, tgt = self.mi, self.ei, self.tgt
        lo = self.level[tid]
        k = self.next_obs[lo + 1]
        m = self.end[tid]
        if k > m:
            k = m
        curve = self.curve[tid]
        if k - lo > 1:
            # reports lo+1..k-1 are not observed by the scheduler: find a failure or the target
            # (values the simulator refuses in them, infinite metrics and negative or infinite
            # elapsed times, are found once for all rows by ``assemble``)
            if k - lo <= 33:
                # Python over the two columns: one sum finds any NaN (or +inf + -inf, sent on to the
                # exact loop too), min/max any target hit; the exact loop runs only then
                col = curve[lo + 1:k, mi].tolist()
                chk = sum(col) if ei < 0 else sum(col) + sum(curve[lo + 1:k, ei].tolist())
                sign = self.sign
                if chk != chk or (tgt is not None and (min(col) <= tgt if sign > 0 else -max(col) <= tgt)):
                    j = lo + 1
                    for row in curve[lo + 1:k].tolist():
                        v = row[mi]
                        if v != v or (ei >= 0 and row[ei] != row[ei]) or (tgt is not None and sign * v <= tgt):
                            k = j
                            break
                        j += 1
            else:
                seg = curve[lo + 1:k]
                col = seg[:, mi]
                chk = col.sum() if ei < 0 else col.sum() + seg[:, ei].sum()
                if chk != chk:
                    bad = np.isnan(col) if ei < 0 else (np.isnan(col) | np.isnan(seg[:, ei]))
                    nz = np.flatnonzero(bad)
                    if len(nz):
                        k = lo + 1 + int(nz[0])
                if tgt is not None and k - lo > 1:
                    hit = np.flatnonzero(self.sign * curve[lo + 1:k, mi] <= tgt)
                    if len(hit):
                        k = lo + 1 + int(hit[0])
        if ei < 0:
            tk = self.origin[tid] + self.tpf * (k + 1)
        else:
            ek = float(curve[k, ei])
            if not 0.0 <= ek < math.inf:
                if ek != ek:   # failed cell without a time: fails right after its last timed report
                    ek = _last_finite_elapsed(curve, lo, k, ei)
                else:
                    raise value_error(self.blackbox, self.st, tid, k, ei, ek, self.buf)
            tk = self.origin[tid] + ek
        if tk < now:
            tk = now
        self.seq += 1
        heappush(self.heap, (tk, REPORT, self.worker[tid], tid, self.seq, k))

    def report(self, w: int, tid: int, k: int, t: float) -> None:
        """Trial ``tid`` on worker ``w`` reaches level ``k`` at ``t``: the levels since its last
        event are recorded as one block; a failure ends it, else the scheduler decides if it
        observes ``k`` or ``k`` ends the segment, and the trial completes, stops, pauses or
        continues (its next event scheduled)."""
        mi, ei, curves, level, end, origin, state, trial, sched_mask, fid_list, names, record, release, \
            schedule, on_skipped, tgt, sign, perf, on_report, cost_of, max_level, on_end, d_continue, d_pause, \
            d_stop = self.hot
        curve = curves[tid]
        vals = curve[k].tolist()
        mv = vals[mi]
        lo = level[tid] + 1
        origin0 = origin[tid]
        self.n_rows += k - lo + 1
        level[tid] = k
        dt = 0.0
        failed = mv - mv != 0 or (ei >= 0 and vals[ei] != vals[ei])     # NaN (or +-inf: refused)
        if on_skipped is not None:
            # levels lo..k-1, and k itself when on_report will not see it
            upto = k if (sched_mask[k] or k == end[tid] or failed) else k + 1
            if upto > lo:
                seg = curve[lo:upto]
                on_skipped(trial[tid], fid_list[lo:upto], {n: seg[:, j] for j, n in enumerate(names)})
        if failed:
            if mv == mv and mv - mv != 0:
                raise value_error(self.blackbox, self.st, tid, k, mi, mv, self.buf)
            dec = _FAILED
            state[tid] = DONE
            on_end(trial[tid], self.failed)
            release(w, t)
        else:
            if tgt is not None:
                sv = sign * mv
                if sv < self.best_seen:
                    self.best_seen = sv
                if sv <= tgt:
                    self.triggered, self.end_reason = True, "target"
            is_end = k == end[tid]
            if sched_mask[k] or is_end:
                t0 = perf()
                d = on_report(trial[tid], fid_list[k], dict(zip(names, vals)), t)
                dt = perf() - t0
                if d is not d_continue and d is not d_pause and d is not d_stop:
                    d = _decision(d, tid)
                cost = cost_of(dt) if cost_of is not None else 0.0
                if is_end or d is not d_continue:
                    if k == max_level:
                        dec = _COMPLETE
                        state[tid] = DONE
                        self.n_completed += 1
                        on_end(trial[tid], self.completed)
                    elif d is d_stop:
                        dec = _STOP
                        state[tid] = DONE
                        on_end(trial[tid], self.stopped)
                    else:
                        dec = _PAUSE
                        state[tid] = PAUSED
                        self.n_paused += 1
                    if cost:
                        self.seq += 1
                        heappush(self.heap, (t + cost, FREE, w, -1, self.seq, -1))
                    else:
                        release(w, t)
                else:
                    dec = _CONTINUE
                    if cost:
                        origin[tid] += cost
                    schedule(tid, t)
            else:
                dec = _CONTINUE
                schedule(tid, t)
        record((tid, lo, k, origin0, t, w, dec, dt))


def _record_running(heap: list, cut_time: float, trials: TrialState, st: Settings, buf: Buffers) -> None:
    """Record the reports of the still running trials up to ``cut_time`` (the levels
    between their last recorded one and their pending event)."""
    ei, tpf = st.ei, st.tpf
    for (_, cls, w, tid, _, k) in sorted(heap):
        if cls != REPORT:
            continue
        lo = trials.level[tid] + 1
        if k <= lo:
            continue
        curve = trials.curve[tid]
        origin = trials.origin[tid]
        if ei < 0:
            times = origin + tpf * (np.arange(lo, k) + 1.0)
        else:
            times = origin + curve[lo:k, ei].astype(np.float64)
        n = int(np.count_nonzero(times <= cut_time))
        if n:
            buf.blocks.append((tid, lo, lo + n - 1, origin, float(times[n - 1]), w, _CONTINUE, 0.0))


def _metadata(blackbox: Blackbox, scheduler: Any, st: Settings, results: pd.DataFrame,
              trials: pd.DataFrame) -> dict[str, Any]:
    """The run's metadata but for its outcome (end reason and time, timings)."""
    md = blackbox.metadata or {}
    method = _METHOD_INFO.get(scheduler) if _weakrefable(scheduler) else None
    return {
        "settings": {"n_workers": st.n_workers, "stop": st.stop.to_dict(), "blackbox_seed": st.blackbox_seed,
                     "overhead": st.overhead.to_dict(), "metric": st.metric, "mode": st.mode,
                     "time_per_fidelity": st.time_per_fidelity},
        "seed": st.seed,
        "metric": st.metric,
        "mode": st.mode,
        "versions": {"hposim": _version(), "numpy": np.__version__, "pandas": pd.__version__,
                     "python": platform.python_version()},
        "blackbox": {"name": md.get("name"), "task": md.get("task"),
                     "label": "/".join(str(x) for x in (md.get("name"), md.get("task")) if x) or repr(blackbox),
                     "fidelity_name": blackbox.fidelity_name, "fidelity_values": st.fid_list,
                     "objectives": st.names, "metric_elapsed_time": blackbox.metric_elapsed_time,
                     "shape": list(blackbox.rows().shape) if st.tabular else None},
        "method": method or {"name": type(scheduler).__name__, "args": None},
        **({"metrics": list(scheduler.metric), "modes": list(scheduler.mode)}
           if isinstance(getattr(scheduler, "metric", None), (list, tuple)) else {}),
        "n_trials": int(len(trials)),
        "n_reports": int(len(results)),
    }


def _weakrefable(x: Any) -> bool:
    try:
        weakref.ref(x)
        return True
    except TypeError:
        return False


def _shown(x: Any) -> str:
    """``x`` for a message: its type and a short repr."""
    text = repr(x)
    return f"{type(x).__name__} {text[:200] + '...' if len(text) > 200 else text}"


def _protocol_error(message: str) -> SchedulerProtocolError:
    return SchedulerProtocolError(f"scheduler protocol broken: {message}")


def _decision(d: Any, tid: int):
    from methods.base import Decision
    try:
        return Decision(d)
    except (ValueError, TypeError):
        raise _protocol_error(
            f"on_report for trial {tid} returned {_shown(d)}; expected a methods.base.Decision "
            f"(Decision.CONTINUE, Decision.PAUSE or Decision.STOP)") from None


def _level_or_error(blackbox: Blackbox, mf: Any, s: Any) -> int:
    try:
        return blackbox.fidelity_index(mf)
    except (BlackboxError, TypeError, ValueError) as e:
        raise _protocol_error(f"suggestion {s!r} has max_fidelity {mf!r}: {e}") from None


def _last_finite_elapsed(curve: np.ndarray, lo: int, k: int, ei: int) -> float:
    """Elapsed time of the last timed level before ``k`` (from ``lo``), else of level ``lo``."""
    for j in range(k - 1, lo - 1, -1):
        v = float(curve[j, ei]) if j >= 0 else 0.0
        if v == v:
            return v
    return float(curve[lo, ei]) if lo >= 0 and curve[lo, ei] == curve[lo, ei] else 0.0

