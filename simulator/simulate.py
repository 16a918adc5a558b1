"""The discrete-event simulation of an HPO run on a blackbox, and ``make_scheduler``.

Semantics (DESIGN.md, "Simulator"): ``n_workers`` slots; a free slot asks the scheduler
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
(trial, first level, last level, time origin, ...) to plain lists; the results table is
built once at the end by vectorized numpy indexing into the table.

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

from blackbox_repo.blackbox import Blackbox, BlackboxError, TabularBlackbox
from simulator.events import FREE, REPORT
from simulator.overhead import Overhead
from simulator.results import DECISIONS, STATUSES, SimulationResult
from simulator.stopping import Stop

__all__ = ["simulate", "make_scheduler", "SimulationError"]


class SimulationError(ValueError):
    """Bad simulation input, or a scheduler breaking the protocol."""


# decision codes (index into results.DECISIONS)
_CONTINUE, _PAUSE, _STOP, _COMPLETE, _FAILED = range(5)
# trial states during the loop
_RUNNING, _PAUSED, _DONE = 0, 1, 2
_STATE_NAMES = {_RUNNING: "running", _PAUSED: "paused", _DONE: "finished (completed, stopped or failed)"}

_RESERVED = ("trial_id", "fidelity", "time", "worker", "decision", "blackbox_seed", "decision_time")

#: method name and arguments of schedulers built by ``make_scheduler`` (for metadata)
_METHOD_INFO: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


_DECISION_DTYPE = pd.CategoricalDtype(list(DECISIONS))
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))


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

    metric = metric if metric is not None else blackbox.metric
    mode = mode if mode is not None else blackbox.mode
    _check_metric(blackbox, metric, mode)
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


def _check_metric(blackbox: Blackbox, metric: str, mode: str) -> None:
    if metric not in blackbox.objectives_names:
        import difflib
        close = difflib.get_close_matches(str(metric), blackbox.objectives_names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SimulationError(
            f"metric {metric!r} is not an objective of this blackbox; objectives: "
            f"{blackbox.objectives_names}.{hint}")
    if mode not in ("min", "max"):
        raise SimulationError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'")


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
    # ------------------------------------------------------------ validate everything first
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        raise SimulationError(f"n_workers={n_workers!r} is not valid; it must be an integer >= 1")
    n_workers = int(n_workers)
    stop = Stop.coerce(stop)
    overhead = Overhead.coerce(overhead)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SimulationError(f"seed={seed!r} is not valid; it must be an integer")
    if not isinstance(blackbox, Blackbox):
        raise SimulationError(f"blackbox must be a Blackbox, got {type(blackbox).__name__}")
    for attr in ("suggest", "on_report"):
        if not callable(getattr(scheduler, attr, None)):
            raise SimulationError(f"scheduler {scheduler!r} has no {attr}() method; see methods.base.Scheduler")
    names = list(blackbox.objectives_names)
    sched_metric = getattr(scheduler, "metric", None)
    if sched_metric is not None:
        _check_metric(blackbox, sched_metric, getattr(scheduler, "mode", "min"))
    metric = metric if metric is not None else (sched_metric or blackbox.metric)
    mode = mode if mode is not None else getattr(scheduler, "mode", None) or blackbox.mode
    _check_metric(blackbox, metric, mode)
    mi = names.index(metric)
    fidelities = np.asarray(blackbox.fidelity_values)
    fid_list = fidelities.tolist()
    n_fid = len(fid_list)
    sched_fids = getattr(scheduler, "fidelity_values", None)
    if sched_fids is not None and np.asarray(sched_fids).tolist() != fid_list:
        raise SimulationError(
            f"the scheduler was created with fidelity values {np.asarray(sched_fids).tolist()} but the "
            f"blackbox's are {fid_list}; create it with fidelity_values=blackbox.fidelity_values "
            f"(simulator.make_scheduler does)")
    level_of = {v: i for i, v in enumerate(fid_list)}
    levels = scheduler.report_levels() if callable(getattr(scheduler, "report_levels", None)) else None
    if levels is None:
        sched_mask = [True] * n_fid
    else:
        sched_mask = [False] * n_fid
        bad = [v for v in levels if _to_py(v) not in level_of]
        if bad:
            raise SimulationError(
                f"the scheduler's report_levels() {list(map(_to_py, levels))} include fidelities {bad} that "
                f"the blackbox does not have; valid fidelities: {fid_list}")
        for v in levels:
            sched_mask[level_of[_to_py(v)]] = True
    # next_obs[i + 1] = first scheduler level > i (n_fid if none)
    next_obs = [n_fid] * (n_fid + 1)
    for i in range(n_fid - 1, -1, -1):
        next_obs[i] = i if sched_mask[i] else next_obs[i + 1]
    # elapsed time
    if time_per_fidelity is not None:
        if isinstance(time_per_fidelity, bool) or not isinstance(time_per_fidelity, (int, float)) \
                or not math.isfinite(time_per_fidelity) or time_per_fidelity <= 0:
            raise SimulationError(f"time_per_fidelity={time_per_fidelity!r} must be a finite number > 0")
        tpf = float(time_per_fidelity)
        ei = -1
    else:
        if blackbox.metric_elapsed_time is None:
            raise SimulationError(
                f"this blackbox has no elapsed-time objective (objectives: {names}); pass "
                f"time_per_fidelity=<seconds per fidelity level> to simulate it with a constant cost")
        tpf = 0.0
        ei = names.index(blackbox.metric_elapsed_time)
    if blackbox_seed is not None:
        blackbox_seed = blackbox.check_seed(blackbox_seed)
    tabular = isinstance(blackbox, TabularBlackbox)
    max_level = n_fid - 1

    # ------------------------------------------------------------ the run's state
    max_time = stop.max_time if stop.max_time is not None else math.inf
    max_trials = stop.max_trials if stop.max_trials is not None else sys.maxsize
    max_completed = stop.max_completed if stop.max_completed is not None else sys.maxsize
    max_reports = stop.max_reports if stop.max_reports is not None else sys.maxsize
    max_cost = stop.max_cost
    target = stop.target
    sign = 1.0 if mode == "min" else -1.0
    tgt = sign * target if target is not None else None
    ov_start = overhead.startup
    charge = overhead.charges_decisions
    measured = overhead.measured
    ov_const = overhead.per_decision
    ov_scale = overhead.scale

    rng = np.random.default_rng(int(seed))
    num_seeds = int(blackbox.num_seeds)
    seed_pool: list[int] = []
    seed_pos = 0

    # a plain ndarray view of the (memory-mapped) table: same memory, no memmap indexing overhead
    objectives = np.asarray(blackbox.objectives) if tabular else None
    if tabular:
        row_index, hp_keys = _row_index(blackbox)
        slow_config_id = blackbox.config_id
    # a blackbox that predicts curves (a surrogate) gets, on a cache miss, the configurations
    # the scheduler will suggest next as well, to predict them in one batch
    prefetch = None if tabular else getattr(blackbox, "prefetch", None)
    cached_curve = getattr(blackbox, "cached_curve", None)
    upcoming = getattr(scheduler, "upcoming_configs", None)
    if cached_curve is None or not callable(upcoming):
        prefetch = None

    from methods.base import Decision, Trial, TrialStatus
    D_CONTINUE, D_PAUSE, D_STOP = Decision.CONTINUE, Decision.PAUSE, Decision.STOP
    ST_COMPLETED, ST_STOPPED, ST_FAILED = TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED
    suggest = scheduler.suggest
    on_report = scheduler.on_report
    on_end = getattr(scheduler, "on_end", None) or (lambda trial, status: None)
    perf = _time.perf_counter
    isnan = math.isnan
    np_isnan = np.isnan

    # per trial (index = trial id)
    t_cid: list[int] = []
    t_seed: list[int] = []
    t_curve: list[np.ndarray] = []
    t_trial: list[Any] = []
    t_level: list[int] = []      # last recorded level index (-1: none)
    t_end: list[int] = []        # segment end level index
    t_origin: list[float] = []   # report time of level k = origin + elapsed(k)
    t_worker: list[int] = []
    t_state: list[int] = []
    t_configs: list[dict] = []
    sugg_seconds = 0.0           # measured seconds of all suggest() calls
    # blocks of report rows: levels lo..hi of a trial; all "continue" but the last
    b_trial: list[int] = []
    b_lo: list[int] = []
    b_hi: list[int] = []
    b_origin: list[float] = []
    b_time: list[float] = []
    b_worker: list[int] = []
    b_dec: list[int] = []
    b_dt: list[float] = []
    # segments (start or resume): trial, start time, worker
    s_trial: list[int] = []
    s_start: list[float] = []
    s_worker: list[int] = []

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
            if ek != ek:   # failed cell without a time: fails right after its last timed report
                ek = _last_finite_elapsed(curve, lo, k, ei)
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
                            break      # budget of trials used up: ignore new starts
                        cfg = s.config
                        tid = n_started
                        n_started += 1
                        if blackbox_seed is not None:
                            bseed = blackbox_seed
                        elif num_seeds > 1:
                            if seed_pos == len(seed_pool):
                                seed_pool = rng.integers(0, num_seeds, size=1024).tolist()
                                seed_pos = 0
                            bseed = seed_pool[seed_pos]
                            seed_pos += 1
                        else:
                            bseed = 0
                        if tabular:
                            try:
                                cid = row_index[tuple([cfg[h] for h in hp_keys])]
                            except (KeyError, TypeError):
                                cid = slow_config_id(cfg)
                            curve = objectives[cid, bseed]
                        else:
                            cid = -1
                            curve = None if prefetch is None else cached_curve(cfg, bseed)
                            if curve is None:
                                if prefetch is not None:
                                    prefetch([cfg, *upcoming()])
                                curve = _generic_curve(blackbox, cfg, bseed, names)
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
                    else:
                        tid = resume
                        if not (isinstance(tid, int) and 0 <= tid < n_started) or t_state[tid] != _PAUSED:
                            state = _STATE_NAMES[t_state[tid]] if isinstance(tid, int) and 0 <= tid < n_started \
                                else "never started"
                            raise SimulationError(
                                f"scheduler asked to resume trial {tid!r} at time {t}, but that trial is {state}; "
                                f"only paused trials can be resumed")
                        r = t_level[tid]
                        if m <= r:
                            raise SimulationError(
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
                    schedule(tid, t)
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
                if mv != mv or (ei >= 0 and isnan(vals[ei])):
                    dec = _FAILED
                    t_state[tid] = _DONE
                    on_end(t_trial[tid], ST_FAILED)
                    release(w, t)
                else:
                    if tgt is not None and sign * mv <= tgt:
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

    # ------------------------------------------------------------ flush running trials
    if cut_time is not None:
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
                b_trial.append(tid)
                b_lo.append(lo)
                b_hi.append(lo + n - 1)
                b_origin.append(t_origin[tid])
                b_time.append(float(times[n - 1]))
                b_worker.append(w)
                b_dec.append(_CONTINUE)
                b_dt.append(0.0)

    results, trials, end_time, renamed = _assemble(
        blackbox, tabular, names, mi, ei, tpf, fidelities, sign, stop, cut_time,
        t_cid, t_seed, t_curve, t_configs,
        b_trial, b_lo, b_hi, b_origin, b_time, b_worker, b_dec, b_dt, s_trial, s_start, s_worker)
    if cut_time is None:
        end_time = t
    md = blackbox.metadata or {}
    method = _METHOD_INFO.get(scheduler) if _weakrefable(scheduler) else None
    metadata = {
        "settings": {"n_workers": n_workers, "stop": stop.to_dict(), "blackbox_seed": blackbox_seed,
                     "overhead": overhead.to_dict(), "metric": metric, "mode": mode,
                     "time_per_fidelity": time_per_fidelity},
        "seed": int(seed),
        "metric": metric,
        "mode": mode,
        "versions": {"hposim": _version(), "numpy": np.__version__, "pandas": pd.__version__,
                     "python": platform.python_version()},
        "blackbox": {"name": md.get("name"), "task": md.get("task"),
                     "label": "/".join(str(x) for x in (md.get("name"), md.get("task")) if x) or repr(blackbox),
                     "fidelity_name": blackbox.fidelity_name, "fidelity_values": fid_list,
                     "objectives": names, "metric_elapsed_time": blackbox.metric_elapsed_time,
                     "shape": list(blackbox.shape) if tabular else None},
        "method": method or {"name": type(scheduler).__name__, "args": None},
        "n_trials": int(len(trials)),
        "n_reports": int(len(results)),
        "end_reason": end_reason,
        "end_time": float(end_time),
        "wall_seconds": wall,
        "suggest_seconds": sugg_seconds,
        "report_seconds": float(results["decision_time"].sum()),
        "total_seconds": _time.perf_counter() - t_total0,
        "renamed_columns": renamed,
    }
    return SimulationResult(results, trials, metadata)


_ROW_INDEX: "weakref.WeakKeyDictionary[Any, tuple[dict, list[str]]]" = weakref.WeakKeyDictionary()


def _row_index(blackbox: TabularBlackbox) -> tuple[dict, list[str]]:
    """``{tuple of a row's values: row}`` (first row of duplicates), cached per blackbox.

    A plain-tuple lookup is the fast path; anything it misses goes to
    ``blackbox.config_id``, which normalizes values and explains errors."""
    got = _ROW_INDEX.get(blackbox)
    if got is None:
        hp = blackbox.hyperparameters
        keys = list(hp.columns)
        index: dict = {}
        for i, row in enumerate(zip(*[hp[c].tolist() for c in keys])):
            index.setdefault(row, i)
        got = (index, keys)
        _ROW_INDEX[blackbox] = got
    return got


def _weakrefable(x: Any) -> bool:
    try:
        weakref.ref(x)
        return True
    except TypeError:
        return False


def _to_py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _decision(d: Any, tid: int):
    from methods.base import Decision
    try:
        return Decision(d)
    except ValueError:
        raise SimulationError(
            f"on_report for trial {tid} returned {d!r}; expected a Decision "
            f"(continue, pause or stop)") from None


def _level_or_error(blackbox: Blackbox, mf: Any, s: Any) -> int:
    try:
        return blackbox.fidelity_index(mf)
    except BlackboxError as e:
        raise SimulationError(f"suggestion {s!r} has max_fidelity {mf!r}: {e}") from None


def _last_finite_elapsed(curve: np.ndarray, lo: int, k: int, ei: int) -> float:
    """Elapsed time of the last timed level before ``k`` (from ``lo``), else of level ``lo``."""
    for j in range(k - 1, lo - 1, -1):
        v = float(curve[j, ei]) if j >= 0 else 0.0
        if v == v:
            return v
    return float(curve[lo, ei]) if lo >= 0 and curve[lo, ei] == curve[lo, ei] else 0.0


def _generic_curve(blackbox: Blackbox, cfg: Mapping[str, Any], bseed: int, names: list[str]) -> np.ndarray:
    whole = getattr(blackbox, "config_curve", None)
    if whole is not None:   # serves (n_fidelities, n_objectives) curves directly, e.g. a SurrogateBlackbox
        return whole(cfg, bseed)
    ev = blackbox.evaluate(cfg, None, bseed)
    return np.column_stack([np.asarray(ev[n], dtype=np.float32) for n in names])


def _column_names(hp_names: list[str], obj_names: list[str]) -> tuple[list[str], list[str], dict]:
    """Hyperparameter and objective column names, renamed when they clash with reserved ones."""
    renamed = {}
    hp_out, obj_out = [], []
    taken = set(_RESERVED)
    for h in hp_names:
        n = h if h not in taken else f"config_{h}"
        if n != h:
            renamed[h] = n
        taken.add(n)
        hp_out.append(n)
    for o in obj_names:
        n = o if o not in taken else f"objective_{o}"
        if n != o:
            renamed[o] = n
        taken.add(n)
        obj_out.append(n)
    return hp_out, obj_out, renamed


def _assemble(blackbox, tabular, names, mi, ei, tpf, fidelities, sign, stop: Stop, cut_time,
              t_cid, t_seed, t_curve, t_configs,
              b_trial, b_lo, b_hi, b_origin, b_time, b_worker, b_dec, b_dt, s_trial, s_start, s_worker):
    """Build the results and trials tables once, vectorized, and apply the stopping cut."""
    nb = len(b_trial)
    bt = np.asarray(b_trial, dtype=np.int64)
    blo = np.asarray(b_lo, dtype=np.int64)
    bhi = np.asarray(b_hi, dtype=np.int64)
    lens = bhi - blo + 1
    total = int(lens.sum()) if nb else 0
    rep = np.repeat(np.arange(nb), lens)
    starts = np.cumsum(lens) - lens
    level = blo[rep] + (np.arange(total) - starts[rep])
    trial = bt[rep]
    cids = np.asarray(t_cid, dtype=np.int64)
    seeds = np.asarray(t_seed, dtype=np.int64)
    if tabular:
        obj = np.asarray(np.asarray(blackbox.objectives)[cids[trial], seeds[trial], level], dtype=np.float32) \
            if total else np.zeros((0, len(names)), np.float32)
    else:
        obj = np.concatenate([t_curve[b_trial[i]][b_lo[i]:b_hi[i] + 1] for i in range(nb)]) \
            if nb else np.zeros((0, len(names)), np.float32)
    if ei >= 0:
        el = obj[:, ei].astype(np.float64)
    else:
        el = tpf * (level + 1.0)
    time = np.asarray(b_origin, dtype=np.float64)[rep] + el
    last = starts + lens - 1
    time[last] = np.asarray(b_time, dtype=np.float64)
    dec = np.zeros(total, dtype=np.int8)
    dec[last] = np.asarray(b_dec, dtype=np.int8)
    dtime = np.zeros(total, dtype=np.float64)
    dtime[last] = np.asarray(b_dt, dtype=np.float64)
    worker = np.asarray(b_worker, dtype=np.int64)[rep]
    order = np.lexsort((level, trial, worker, time))
    time, trial, level, worker, dec, dtime, obj = (a[order] for a in (time, trial, level, worker, dec, dtime, obj))

    # ---------------------------------------------------------------- the stopping cut
    keep = total
    seg_cut = None                   # segments (starts/resumes) at or after this time are dropped
    if cut_time is not None:
        keep = int(np.searchsorted(time, cut_time, side="right"))
        seg_cut = cut_time
    cands = []
    if stop.max_reports is not None and stop.max_reports <= keep:
        cands.append(stop.max_reports - 1)
    if stop.max_completed is not None:
        c = np.flatnonzero(dec[:keep] == _COMPLETE)
        if len(c) >= stop.max_completed:
            cands.append(int(c[stop.max_completed - 1]))
    if stop.target is not None:
        with np.errstate(invalid="ignore"):
            c = np.flatnonzero(sign * obj[:keep, mi] <= sign * stop.target)
        if len(c):
            cands.append(int(c[0]))
    if cands:
        idx = min(cands)
        keep = idx + 1
        seg_cut = float(time[idx])
    time, trial, level, worker, dec, dtime, obj = (a[:keep] for a in (time, trial, level, worker, dec, dtime, obj))
    end_time = float(seg_cut) if seg_cut is not None else (float(time[-1]) if keep else 0.0)

    hp_cols = list(blackbox.configuration_space) if not tabular else list(blackbox.hyperparameters.columns)
    hp_out, obj_out, renamed = _column_names(hp_cols, names)
    n_trials_all = len(t_cid)
    s_trial_a = np.asarray(s_trial, dtype=np.int64)
    s_start_a = np.asarray(s_start, dtype=np.float64)
    s_worker_a = np.asarray(s_worker, dtype=np.int64)
    if seg_cut is not None:
        sk = s_start_a < seg_cut
        s_trial_a, s_start_a, s_worker_a = s_trial_a[sk], s_start_a[sk], s_worker_a[sk]
    n_trials = int(s_trial_a.max()) + 1 if len(s_trial_a) else 0   # trials start in id order

    def config_columns(ids: np.ndarray) -> dict[str, Any]:
        if tabular:
            hp = blackbox.hyperparameters
            rows = cids[ids]
            return {o: hp[c].array.take(rows) for c, o in zip(hp_cols, hp_out)}
        frame = pd.DataFrame([t_configs[i] for i in range(n_trials_all)], columns=hp_cols)
        return {o: frame[c].to_numpy()[ids] for c, o in zip(hp_cols, hp_out)}

    cols: dict[str, Any] = {"trial_id": trial}
    cols.update(config_columns(trial))
    cols["fidelity"] = fidelities[level]
    for j, o in enumerate(obj_out):
        cols[o] = obj[:, j]
    cols["time"] = time
    cols["worker"] = worker
    cols["decision"] = pd.Categorical.from_codes(dec, dtype=_DECISION_DTYPE, validate=False)
    cols["blackbox_seed"] = seeds[trial] if n_trials_all else np.zeros(0, np.int64)
    cols["decision_time"] = dtime
    results = pd.DataFrame(cols)

    # ---------------------------------------------------------------- trials table
    tids = np.arange(n_trials)
    first_seg = np.full(n_trials, -1, dtype=np.int64)
    last_seg = np.full(n_trials, -1, dtype=np.int64)
    pos = np.arange(len(s_trial_a))
    if len(pos):
        np.maximum.at(last_seg, s_trial_a, pos)
        first_seg[:] = len(pos)
        np.minimum.at(first_seg, s_trial_a, pos)
    n_seg = np.bincount(s_trial_a, minlength=n_trials)
    last_row = np.full(n_trials, -1, dtype=np.int64)
    if keep:
        np.maximum.at(last_row, trial, np.arange(keep))
    n_pause = np.bincount(trial[dec == _PAUSE], minlength=n_trials)
    has = last_row >= 0
    lr = np.where(has, last_row, 0)
    last_dec = np.where(has, dec[lr] if keep else 0, -1)
    status = np.zeros(n_trials, dtype=np.int8)               # running
    status[last_dec == _COMPLETE] = 2
    status[last_dec == _STOP] = 3
    status[last_dec == _FAILED] = 4
    status[(last_dec == _PAUSE) & (n_pause[:n_trials] >= n_seg[:n_trials])] = 1
    end = np.where(has & (status != 0), time[lr] if keep else np.nan, np.nan)
    last_fid = np.where(has, fidelities[level[lr]].astype(np.float64) if keep else np.nan, np.nan)
    tcols: dict[str, Any] = {"trial_id": tids}
    tcols.update(config_columns(tids))
    tcols["status"] = pd.Categorical.from_codes(status, dtype=_STATUS_DTYPE, validate=False)
    tcols["start_time"] = s_start_a[first_seg] if n_trials else np.zeros(0)
    tcols["end_time"] = end
    tcols["last_fidelity"] = last_fid
    tcols["worker"] = s_worker_a[last_seg] if n_trials else np.zeros(0, np.int64)
    tcols["n_segments"] = n_seg[:n_trials]
    tcols["blackbox_seed"] = seeds[:n_trials]
    if tabular:
        tcols["config_id"] = cids[:n_trials]
    trials = pd.DataFrame(tcols)
    return results, trials, end_time, renamed
