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

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox
from simulator.assemble import COMPLETE as _COMPLETE
from simulator.assemble import CONTINUE as _CONTINUE
from simulator.assemble import FAILED as _FAILED
from simulator.assemble import PAUSE as _PAUSE
from simulator.assemble import STOP as _STOP
from simulator.assemble import Buffers, assemble, value_error
from simulator.events import FREE, REPORT
from simulator.lookup import curve_source, row_index
from simulator.seeds import TrialSeeds
from simulator.overhead import Overhead
from simulator.results import SimulationResult
from simulator.settings import (SchedulerProtocolError, Settings, SimulationError, check_metric,
                                resolve_settings)
from simulator.stopping import Stop

__all__ = ["simulate", "make_scheduler", "bind_scheduler", "SimulationError", "SchedulerProtocolError"]


#: the run ends ("no_progress") after this many trial starts and resumes in a row (and at least
#: as many as before the last progress) without progress toward a stopping criterion that can
#: end it: simulated time advancing (max_time, max_cost), a trial completing (max_completed), the
#: best metric improving (target). Runs with max_trials or max_reports always end; never checked.
NO_PROGRESS_LIMIT = 10_000
#: progress is looked at every this many starts and resumes (not per event: the loop stays lean)
_WATCH_EVERY = 1_000

# trial states during the loop
_RUNNING, _PAUSED, _DONE = 0, 1, 2
_STATE_NAMES = {_RUNNING: "running", _PAUSED: "paused", _DONE: "finished (completed, stopped or failed)"}

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
    if isinstance(blackbox, TabularBlackbox) and "candidates" not in kw:
        kw["candidates"] = blackbox.configs()
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
        methods.base.MethodError: RandomSearch was built with its problem ...
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
    scheduler.bind(blackbox.configuration_space, metric=objective, mode=direction, fidelity_values=fidelities,
                   seed=seed,
                   candidates=blackbox.configs() if isinstance(blackbox, TabularBlackbox) else None)
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
    results, trials, end_time, renamed = assemble(blackbox, st, cut_time, buf)
    if cut_time is None:
        end_time = t
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


def _run(blackbox: Blackbox, scheduler: Any, st: Settings,
         buf: Buffers) -> tuple[float, float | None, str, float, float, str | None]:
    """The event loop: runs until a stopping criterion, until nothing is left to run or
    until no progress is made (``NO_PROGRESS_LIMIT``), filling ``buf``. Returns ``(last
    event time, cut time or None, end reason, wall seconds of the loop, seconds spent in
    suggest(), a message when the run ended without reaching a criterion)``; reports are
    recorded in ``buf`` up to the cut time (running trials included), the finer cuts are
    ``assemble``'s."""
    # the settings, bound to locals for the loop
    n_workers = st.n_workers
    stop = st.stop
    overhead = st.overhead
    blackbox_seed = st.blackbox_seed
    sign = st.sign
    names = st.names
    mi = st.mi
    ei = st.ei
    tpf = st.tpf
    fid_list = st.fid_list
    level_of = st.level_of
    max_level = st.max_level
    sched_mask = st.sched_mask
    next_obs = st.next_obs
    tabular = st.tabular

    max_time = stop.max_time if stop.max_time is not None else math.inf
    max_trials = stop.max_trials if stop.max_trials is not None else sys.maxsize
    max_completed = stop.max_completed if stop.max_completed is not None else sys.maxsize
    max_reports = stop.max_reports if stop.max_reports is not None else sys.maxsize
    max_cost = stop.max_cost
    target = stop.target
    tgt = sign * target if target is not None else None
    # no-progress watch (see NO_PROGRESS_LIMIT): n_segs counts starts and resumes; every
    # watch_every of them, (time, completed trials, best metric) are compared with the last
    # snapshot, and mark is n_segs at the last look that saw progress
    watch_time = stop.max_time is not None or max_cost is not None
    watch_done = stop.max_completed is not None
    stall_limit = NO_PROGRESS_LIMIT if stop.max_trials is None and stop.max_reports is None else sys.maxsize
    watch_every = max(1, min(_WATCH_EVERY, stall_limit))
    next_watch = watch_every if stall_limit < sys.maxsize else sys.maxsize
    n_segs = 0
    mark = 0
    snap_t, snap_done, snap_best = 0.0, 0, math.inf
    best_seen = math.inf
    stalled = False
    ov_start = overhead.startup
    charge = overhead.charges_decisions
    measured = overhead.measured
    ov_const = overhead.per_decision
    ov_scale = overhead.scale

    # the run's own stream (blackbox seeds): child 1 of the seed's SeedSequence, so a scheduler
    # seeded with the same integer (default_rng(seed)) draws from an independent stream
    rng = np.random.default_rng(np.random.SeedSequence(st.seed, spawn_key=(1,)))
    trial_seeds = TrialSeeds(rng, int(blackbox.num_seeds), blackbox_seed, max_trials)
    next_seed = trial_seeds.next

    if tabular:
        # a plain ndarray view of the (memory-mapped) table: same memory, no memmap indexing overhead
        objectives = np.asarray(blackbox.objectives)
        row_of, hp_keys = row_index(blackbox)
        slow_config_id = blackbox.config_id
    else:
        # with a trial budget the seeds shown never exceed it: whole batches from the start
        computed_curve = curve_source(blackbox, scheduler, names, trial_seeds.upcoming,
                                      first_batch=sys.maxsize if stop.max_trials is not None else None)

    from methods.base import Decision, Suggestion, Trial, TrialStatus
    D_CONTINUE, D_PAUSE, D_STOP = Decision.CONTINUE, Decision.PAUSE, Decision.STOP
    ST_COMPLETED, ST_STOPPED, ST_FAILED = TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED
    suggest = scheduler.suggest
    on_report = scheduler.on_report
    on_end = getattr(scheduler, "on_end", None) or (lambda trial, status: None)
    # protocol additions (optional for duck-typed schedulers): a suggestion started or discarded,
    # and the reports between observed levels in one batch for methods that want whole curves
    on_start = getattr(scheduler, "on_start", None)
    on_discard = getattr(scheduler, "on_discard", None)
    on_skipped = scheduler.on_skipped_reports if getattr(scheduler, "wants_skipped_reports", False) else None
    perf = _time.perf_counter
    isnan = math.isnan
    np_isnan = np.isnan
    INF = math.inf

    # per trial (index = trial id); the recorded ones live in buf
    t_cid = buf.t_cid
    t_seed = buf.t_seed
    t_curve = buf.t_curve
    t_configs = buf.t_configs
    t_trial: list[Any] = []
    t_level: list[int] = []      # last recorded level index (-1: none)
    t_end: list[int] = []        # segment end level index
    t_origin: list[float] = []   # report time of level k = origin + elapsed(k)
    t_worker: list[int] = []
    t_state: list[int] = []
    sugg_seconds = 0.0           # measured seconds of all suggest() calls
    # blocks of report rows: levels lo..hi of a trial; all "continue" but the last
    b_trial = buf.b_trial
    b_lo = buf.b_lo
    b_hi = buf.b_hi
    b_origin = buf.b_origin
    b_time = buf.b_time
    b_worker = buf.b_worker
    b_dec = buf.b_dec
    b_dt = buf.b_dt
    # segments (start or resume): trial, start time, worker
    s_trial = buf.s_trial
    s_start = buf.s_start
    s_worker = buf.s_worker

    heap: list = []
    seq = 0
    free = list(range(n_workers))      # a heap: lowest id first
    busy_since = [0.0] * n_workers
    closed_cost = 0.0
    sum_since = 0.0
    n_busy = 0
    n_started = 0
    n_paused = 0
    n_completed = 0
    n_rows = 0
    t = 0.0
    changed = True
    end_reason = "exhausted"
    cut_time: float | None = None      # rows with time <= cut_time are kept
    triggered = False

    def elapsed(curve: np.ndarray, k: int) -> float:
        if k < 0:
            return 0.0
        if ei < 0:
            return tpf * (k + 1)
        return float(curve[k, ei])

    def schedule(tid: int, now: float) -> None:
        """Push the trial's next event: next observed level, segment end, failure or target."""
        nonlocal seq
        lo = t_level[tid]
        k = next_obs[lo + 1]
        m = t_end[tid]
        if k > m:
            k = m
        curve = t_curve[tid]
        if k - lo > 1:
            # reports lo+1..k-1 are not observed by the scheduler: find a failure or the target
            # (values the simulator refuses in them, infinite metrics and negative or infinite
            # elapsed times, are found once for all rows by ``assemble``)
            if k - lo <= 33:
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
                    bad = np_isnan(col) if ei < 0 else (np_isnan(col) | np_isnan(seg[:, ei]))
                    nz = np.flatnonzero(bad)
                    if len(nz):
                        k = lo + 1 + int(nz[0])
                if tgt is not None and k - lo > 1:
                    hit = np.flatnonzero(sign * curve[lo + 1:k, mi] <= tgt)
                    if len(hit):
                        k = lo + 1 + int(hit[0])
        if ei < 0:
            tk = t_origin[tid] + tpf * (k + 1)
        else:
            ek = float(curve[k, ei])
            if not 0.0 <= ek < INF:
                if ek != ek:   # failed cell without a time: fails right after its last timed report
                    ek = _last_finite_elapsed(curve, lo, k, ei)
                else:
                    raise value_error(blackbox, st, tid, k, ei, ek, buf)
            tk = t_origin[tid] + ek
        if tk < now:
            tk = now
        seq += 1
        heappush(heap, (tk, REPORT, t_worker[tid], tid, seq, k))

    def release(w: int, when: float) -> None:
        nonlocal closed_cost, sum_since, n_busy
        closed_cost += when - busy_since[w]
        sum_since -= busy_since[w]
        n_busy -= 1
        heappush(free, w)

    # the loop allocates many small objects and frees none: a cyclic GC pass would only
    # re-scan the (possibly large) live heap, so it is paused for the loop's duration
    gc_was_enabled = gc.isenabled()
    gc.disable()
    wall0 = perf()
    try:
        while True:
            # ---------------------------------------------------- give work to free workers
            if free and changed and t < max_time and (n_started < max_trials or n_paused):
                changed = False
                while free:
                    t0 = perf()
                    s = suggest(t)
                    dt = perf() - t0
                    sugg_seconds += dt
                    if s is None:
                        break
                    if type(s) is not Suggestion and not isinstance(s, Suggestion):
                        raise _protocol_error(f"suggest(time={t!r}) returned {_shown(s)}; expected a "
                                              f"methods.base.Suggestion (Suggestion.start(config) or "
                                              f"Suggestion.resume_trial(trial_id)) or None for nothing now")
                    resume = s.resume
                    mf = s.max_fidelity
                    if mf is None:
                        m = max_level
                    else:
                        m = level_of.get(mf)
                        if m is None:
                            m = _level_or_error(blackbox, mf, s)
                    if resume is None:
                        if n_started >= max_trials:
                            if on_discard is not None:
                                on_discard(s)
                            break      # budget of trials used up: ignore new starts
                        cfg = s.config
                        tid = n_started
                        n_started += 1
                        bseed = next_seed()
                        if tabular:
                            try:
                                cid = row_of[tuple([cfg[h] for h in hp_keys])]
                            except (KeyError, TypeError):
                                cid = _table_row(slow_config_id, cfg, t)
                            curve = objectives[cid, bseed]
                        else:
                            cid = -1
                            curve = computed_curve(cfg, bseed)
                        w = heappop(free)
                        t_cid.append(cid)
                        t_seed.append(bseed)
                        t_curve.append(curve)
                        t_trial.append(Trial(tid, cfg, s.meta))
                        t_configs.append(cfg)
                        t_level.append(-1)
                        t_end.append(m)
                        origin = t + ov_start
                        if charge:
                            origin += ov_const if not measured else dt * ov_scale
                        t_origin.append(origin)
                        t_worker.append(w)
                        t_state.append(_RUNNING)
                        if on_start is not None:
                            on_start(t_trial[tid])
                    else:
                        tid = resume
                        if not (isinstance(tid, int) and 0 <= tid < n_started) or t_state[tid] != _PAUSED:
                            state = _STATE_NAMES[t_state[tid]] if isinstance(tid, int) and 0 <= tid < n_started \
                                else "never started"
                            raise _protocol_error(
                                f"scheduler asked to resume trial {tid!r} at time {t}, but that trial is {state}; "
                                f"only paused trials can be resumed")
                        r = t_level[tid]
                        if m <= r:
                            raise _protocol_error(
                                f"scheduler asked to resume trial {tid} to fidelity {fid_list[m]!r}, but it is "
                                f"already at {fid_list[r]!r}; the max_fidelity of a resume must be larger")
                        w = heappop(free)
                        n_paused -= 1
                        t_state[tid] = _RUNNING
                        t_end[tid] = m
                        t_worker[tid] = w
                        origin = t + ov_start - elapsed(t_curve[tid], r)
                        if charge:
                            origin += ov_const if not measured else dt * ov_scale
                        t_origin[tid] = origin
                    busy_since[w] = t
                    sum_since += t
                    n_busy += 1
                    s_trial.append(tid)
                    s_start.append(t)
                    s_worker.append(w)
                    n_segs += 1
                    schedule(tid, t)
                    if n_segs >= next_watch:
                        next_watch += watch_every
                        if (watch_time and t > snap_t) or (watch_done and n_completed > snap_done) \
                                or best_seen < snap_best:
                            mark = n_segs
                            snap_t, snap_done, snap_best = t, n_completed, best_seen
                        elif n_segs - mark >= stall_limit and n_segs >= 2 * mark:
                            stalled = True
                            break
                if stalled:        # everything up to now is kept (trials started now included)
                    end_reason = "no_progress"
                    break
            # ---------------------------------------------------- next time step
            if not heap:
                end_reason = "exhausted" if n_started < max_trials else "max_trials"
                break
            tn = heap[0][0]
            if tn > max_time:
                end_reason, cut_time = "max_time", max_time
                break
            if max_cost is not None and closed_cost + n_busy * tn - sum_since > max_cost:
                tc = (max_cost - closed_cost + sum_since) / n_busy
                end_reason, cut_time = "max_cost", max(tc, t)
                break
            t = tn
            while heap and heap[0][0] == t:
                _, cls, w, tid, _, k = heappop(heap)
                if cls == FREE:
                    release(w, t)
                    continue
                curve = t_curve[tid]
                vals = curve[k].tolist()
                mv = vals[mi]
                lo = t_level[tid] + 1
                origin0 = t_origin[tid]
                n_rows += k - lo + 1
                t_level[tid] = k
                dt = 0.0
                if on_skipped is not None:
                    # levels lo..k-1, and k itself when on_report will not see it
                    upto = k if (sched_mask[k] or k == t_end[tid] or mv - mv != 0
                                 or (ei >= 0 and isnan(vals[ei]))) else k + 1
                    if upto > lo:
                        seg = curve[lo:upto]
                        on_skipped(t_trial[tid], fid_list[lo:upto], {n: seg[:, j] for j, n in enumerate(names)})
                if mv - mv != 0 or (ei >= 0 and isnan(vals[ei])):     # NaN (or +-inf: refused)
                    if mv == mv and mv - mv != 0:
                        raise value_error(blackbox, st, tid, k, mi, mv, buf)
                    dec = _FAILED
                    t_state[tid] = _DONE
                    on_end(t_trial[tid], ST_FAILED)
                    release(w, t)
                else:
                    if tgt is not None:
                        if sign * mv < best_seen:
                            best_seen = sign * mv
                        if sign * mv <= tgt:
                            triggered = True
                            end_reason = "target"
                    is_end = k == t_end[tid]
                    if sched_mask[k] or is_end:
                        t0 = perf()
                        d = on_report(t_trial[tid], fid_list[k], dict(zip(names, vals)), t)
                        dt = perf() - t0
                        if d is not D_CONTINUE and d is not D_PAUSE and d is not D_STOP:
                            d = _decision(d, tid)
                        cost = (ov_const if not measured else dt * ov_scale) if charge else 0.0
                        if is_end or d is not D_CONTINUE:
                            if k == max_level:
                                dec = _COMPLETE
                                t_state[tid] = _DONE
                                n_completed += 1
                                on_end(t_trial[tid], ST_COMPLETED)
                            elif d is D_STOP:
                                dec = _STOP
                                t_state[tid] = _DONE
                                on_end(t_trial[tid], ST_STOPPED)
                            else:
                                dec = _PAUSE
                                t_state[tid] = _PAUSED
                                n_paused += 1
                            if cost:
                                seq += 1
                                heappush(heap, (t + cost, FREE, w, -1, seq, -1))
                            else:
                                release(w, t)
                        else:
                            dec = _CONTINUE
                            if cost:
                                t_origin[tid] += cost
                            schedule(tid, t)
                    else:
                        dec = _CONTINUE
                        schedule(tid, t)
                b_trial.append(tid)
                b_lo.append(lo)
                b_hi.append(k)
                b_origin.append(origin0)
                b_time.append(t)
                b_worker.append(w)
                b_dec.append(dec)
                b_dt.append(dt)
            changed = True
            if n_completed >= max_completed:
                triggered, end_reason = True, "max_completed"
            if n_rows >= max_reports:
                triggered, end_reason = True, "max_reports"
            if triggered:
                cut_time = t
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    wall = perf() - wall0
    if cut_time is not None or stalled:
        _record_running(heap, t if stalled else cut_time, t_level, t_origin, st, buf)
    message = None
    if stalled:
        message = _no_progress_message(st, n_segs - mark, t, n_completed, sign * best_seen,
                                       watch_time, watch_done)
    return t, cut_time, end_reason, wall, sugg_seconds, message


def _no_progress_message(st: Settings, n: int, t: float, n_completed: int, best: float,
                         watch_time: bool, watch_done: bool) -> str:
    """Why a run was ended for making no progress, and what to do."""
    facts = []
    if watch_time:
        facts.append(f"simulated time stayed at {t:g} s")
    if watch_done:
        facts.append(f"no trial completed (completed so far: {n_completed})")
    if st.stop.target is not None:
        facts.append(f"the best {st.metric} stayed {best:g} (target {st.stop.target:g})"
                     if math.isfinite(best) else f"no finite {st.metric} was reported (target {st.stop.target:g})")
    return (f"no progress toward the stopping criteria {st.stop.active()} in the last {n:,} trial starts "
            f"and resumes: {'; '.join(facts)}. The run was ended at simulated time {t:g} s and its "
            f"results are kept. Bound the run with a trial or report budget (max_trials, max_reports; "
            f"--max-trials, --max-reports on the command line), or check the blackbox and the target")


def _record_running(heap: list, cut_time: float, t_level: list[int], t_origin: list[float],
                    st: Settings, buf: Buffers) -> None:
    """Record the reports of the still running trials up to ``cut_time`` (the levels
    between their last recorded one and their pending event)."""
    ei, tpf, t_curve = st.ei, st.tpf, buf.t_curve
    for (_, cls, w, tid, _, k) in sorted(heap):
        if cls != REPORT:
            continue
        lo = t_level[tid] + 1
        if k <= lo:
            continue
        curve = t_curve[tid]
        if ei < 0:
            times = t_origin[tid] + tpf * (np.arange(lo, k) + 1.0)
        else:
            times = t_origin[tid] + curve[lo:k, ei].astype(np.float64)
        n = int(np.count_nonzero(times <= cut_time))
        if n:
            buf.b_trial.append(tid)
            buf.b_lo.append(lo)
            buf.b_hi.append(lo + n - 1)
            buf.b_origin.append(t_origin[tid])
            buf.b_time.append(float(times[n - 1]))
            buf.b_worker.append(w)
            buf.b_dec.append(_CONTINUE)
            buf.b_dt.append(0.0)


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
                     "shape": list(blackbox.shape) if st.tabular else None},
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


def _table_row(config_id: Any, cfg: Any, t: float) -> int:
    """The table row of a suggested configuration; one the table does not have is the
    scheduler's fault (it was given the table's rows as candidates)."""
    try:
        return config_id(cfg)
    except (BlackboxError, TypeError, ValueError, KeyError) as e:
        raise _protocol_error(f"suggest(time={t!r}) returned the configuration {_shown(cfg)}, which this "
                              f"tabulated blackbox does not have ({e}); a scheduler must suggest rows of the "
                              f"table (make_scheduler passes them as candidates)") from None


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

