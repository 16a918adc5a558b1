"""A simulation's inputs, checked up front and resolved into one frozen ``Settings``.

Everything ``simulate`` is given is validated here, before anything runs: the worker
count, stopping criteria, overheads, seeds, metric and mode (against the blackbox and the
scheduler), the scheduler's fidelity values and ``report_levels()``, and where elapsed
time comes from. The event loop then only reads the resolved values.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> from simulator.simulate import make_scheduler
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 3, 2), np.float32),
    ...                      [1, 2, 3], ["loss", "time"], metric_elapsed_time="time")
    >>> s = resolve_settings(bb, make_scheduler("RandomSearch", bb), stop={"max_time": 10})
    >>> s.metric, s.mi, s.ei, s.sched_mask, s.next_obs   # RandomSearch observes no level
    ('loss', 0, 1, (False, False, False), (3, 3, 3, 3))
"""
from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from blackbox_repo.blackbox import Blackbox
from blackbox_repo.errors import InputError, ProtocolError
from blackbox_repo.reserved_columns import RESULT_COLUMNS, reserved_metric_error
from methods.arguments import check_seed
from simulator.overhead import Overhead
from simulator.stopping import Stop

__all__ = ["Settings", "SimulationError", "SchedulerProtocolError", "resolve_settings", "check_metric"]


class SimulationError(InputError):
    """Bad simulation input: an argument, a blackbox or a stopping criterion (exit status 2)."""


class SchedulerProtocolError(ProtocolError):
    """The scheduler broke the protocol during a run: the message says which call, what it
    returned and what is expected (exit status 1)."""


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one simulated run.

    Example:
        >>> import numpy as np, pandas as pd
        >>> from blackbox_repo.blackbox import TabularBlackbox
        >>> from simulator.simulate import make_scheduler
        >>> bb = TabularBlackbox(pd.DataFrame({"x": [1]}), np.ones((1, 1, 2, 1), np.float32),
        ...                      [1, 2], ["loss"])
        >>> s = resolve_settings(bb, make_scheduler("RandomSearch", bb), stop={"max_trials": 1},
        ...                      time_per_fidelity=5)
        >>> s.n_workers, s.tpf, s.ei, s.max_level, s.tabular
        (4, 5.0, -1, 1, True)
    """

    n_workers: int
    stop: Stop
    overhead: Overhead
    seed: int
    #: one seed of the blackbox for every trial (checked), or ``None``: drawn per trial
    blackbox_seed: int | None
    metric: str
    mode: str
    #: ``+1.0`` for mode "min", ``-1.0`` for "max"
    sign: float
    #: objective names, and the index of the metric among them
    names: list[str]
    mi: int
    #: index of the elapsed-time objective, or -1 when ``tpf`` (seconds per level) is the cost
    ei: int
    tpf: float
    #: the ``time_per_fidelity`` argument as given (for the metadata)
    time_per_fidelity: float | None
    fidelities: np.ndarray
    fid_list: list
    #: fidelity value -> level index
    level_of: dict
    max_level: int
    #: ``sched_mask[k]``: the scheduler observes level ``k`` (its ``report_levels()``)
    sched_mask: tuple[bool, ...]
    #: ``next_obs[i]``: the first observed level >= i (``len(fid_list)`` if none)
    next_obs: tuple[int, ...]
    tabular: bool


def check_metric(blackbox: Blackbox, metric: str | list[str], mode: str | list[str]) -> None:
    """Raise ``SimulationError`` unless ``metric`` is an objective of ``blackbox`` and
    ``mode`` is "min" or "max" (for lists -- a multi-objective scheduler's -- each of them)."""
    if isinstance(metric, (list, tuple)):
        modes = list(mode) if isinstance(mode, (list, tuple)) else [mode] * len(metric)
        if len(modes) != len(metric):
            raise SimulationError(f"{len(metric)} metrics {list(metric)} but {len(modes)} modes {modes}; "
                                  f"give one mode per metric")
        for m, md in zip(metric, modes):
            check_metric(blackbox, m, md)
        return
    if metric not in blackbox.objectives_names:
        import difflib
        close = difflib.get_close_matches(str(metric), blackbox.objectives_names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SimulationError(
            f"metric {metric!r} is not an objective of this blackbox; objectives: "
            f"{blackbox.objectives_names}.{hint}")
    if mode not in ("min", "max"):
        raise SimulationError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'")
    if metric in RESULT_COLUMNS:
        raise reserved_metric_error(metric, SimulationError)


def _check_metric_column(blackbox: Blackbox, metric: str) -> None:
    """The metric's results column must carry the metric's name: a hyperparameter of the
    same name would keep it and the metric would be renamed (``objective_<metric>``)."""
    if metric in list(blackbox.configuration_space):    # a table's space: its columns
        raise SimulationError(
            f"metric {metric!r} is also the name of a hyperparameter of this blackbox, so the results "
            f"column {metric!r} would hold the hyperparameter; rename one of them")


def resolve_settings(blackbox: Blackbox, scheduler: Any, *, n_workers: int = 4,
                     stop: Stop | Mapping[str, Any] | None = None, seed: int = 0,
                     blackbox_seed: int | None = None,
                     overhead: Overhead | Mapping[str, Any] | None = None,
                     metric: str | None = None, mode: str | None = None,
                     time_per_fidelity: float | None = None) -> Settings:
    """Check every input of ``simulate`` (same arguments) and resolve the run's settings."""
    if isinstance(n_workers, bool) or not isinstance(n_workers, (int, np.integer)) or n_workers < 1:
        raise SimulationError(f"n_workers={n_workers!r} is not valid; it must be an integer >= 1")
    stop = Stop.coerce(stop)
    overhead = Overhead.coerce(overhead)
    seed = check_seed("seed", seed, SimulationError)
    if not isinstance(blackbox, Blackbox):
        raise SimulationError(f"blackbox must be a Blackbox, got {type(blackbox).__name__}")
    for attr in ("suggest", "on_report"):
        if not callable(getattr(scheduler, attr, None)):
            raise SimulationError(f"scheduler {scheduler!r} has no {attr}() method; see methods.base.Scheduler")
    names = list(blackbox.objectives_names)
    sched_metric = getattr(scheduler, "metric", None)
    if sched_metric is not None:
        check_metric(blackbox, sched_metric, getattr(scheduler, "mode", "min"))
    metric = metric if metric is not None else (sched_metric or blackbox.metric)
    mode = mode if mode is not None else getattr(scheduler, "mode", None) or blackbox.mode
    check_metric(blackbox, metric, mode)
    for one in (metric if isinstance(metric, (list, tuple)) else [metric]):
        _check_metric_column(blackbox, one)
    if isinstance(metric, (list, tuple)):   # multi-objective: the first metric is the run's (target, summary)
        metric, mode = metric[0], (mode[0] if isinstance(mode, (list, tuple)) else mode)
    fidelities = np.asarray(blackbox.fidelity_values)
    fid_list = fidelities.tolist()
    sched_fids = getattr(scheduler, "fidelity_values", None)
    if sched_fids is not None and np.asarray(sched_fids).tolist() != fid_list:
        raise SimulationError(
            f"the scheduler was created with fidelity values {np.asarray(sched_fids).tolist()} but the "
            f"blackbox's are {fid_list}; create it with fidelity_values=blackbox.fidelity_values "
            f"(simulator.make_scheduler does)")
    level_of = {v: i for i, v in enumerate(fid_list)}
    sched_mask = _observed_levels(scheduler, fid_list, level_of)
    tpf, ei = _elapsed_source(blackbox, names, time_per_fidelity)
    _check_target_reachable(blackbox, stop, names.index(metric), metric, mode)
    if blackbox_seed is not None:
        try:
            blackbox_seed = blackbox.check_seed(blackbox_seed)
        except (ValueError, TypeError):
            raise SimulationError(f"blackbox_seed={blackbox_seed!r} is not valid; the blackbox's seeds are "
                                  f"0..{int(blackbox.num_seeds) - 1}") from None
    return Settings(
        n_workers=int(n_workers), stop=stop, overhead=overhead, seed=seed,
        blackbox_seed=blackbox_seed, metric=metric, mode=mode,
        sign=1.0 if mode == "min" else -1.0, names=names, mi=names.index(metric), ei=ei, tpf=tpf,
        time_per_fidelity=time_per_fidelity, fidelities=fidelities, fid_list=fid_list,
        level_of=level_of, max_level=len(fid_list) - 1, sched_mask=tuple(sched_mask),
        next_obs=tuple(_next_observed(sched_mask)), tabular=blackbox.rows() is not None)


#: per table: objective index -> (lowest, highest) value over the whole table (NaN: none)
_RANGES: "weakref.WeakKeyDictionary[Any, dict[int, tuple[float, float]]]" = weakref.WeakKeyDictionary()


def _check_target_reachable(blackbox: Blackbox, stop: Stop, mi: int, metric: str, mode: str) -> None:
    """A target that no cell of a table reaches, with no other criterion that always ends the
    run (time, trials, reports or cost), would run forever: rejected up front."""
    table = blackbox.rows()
    if stop.target is None or table is None or stop.max_completed is not None \
            or any(v is not None for v in (stop.max_time, stop.max_trials, stop.max_reports, stop.max_cost)):
        return
    ranges = _RANGES.setdefault(table, {})
    if mi not in ranges:
        col = np.asarray(table.objectives)[..., mi]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # an all-NaN column
            ranges[mi] = (float(np.nanmin(col)), float(np.nanmax(col)))
    low, high = ranges[mi]
    best = low if mode == "min" else high
    if not (best <= stop.target if mode == "min" else best >= stop.target):
        shown = f"the best {metric} in this blackbox is {best:g} (mode {mode})" if best == best \
            else f"this blackbox has no {metric} value at all (every cell is NaN)"
        raise SimulationError(
            f"target={stop.target:g} can never be reached: {shown}, and no other stopping criterion would "
            f"end the run; choose a reachable target or add a budget (max_time, max_trials, max_reports "
            f"or max_cost)")


def _observed_levels(scheduler: Any, fid_list: list, level_of: dict) -> list[bool]:
    """Per level: whether the scheduler's ``report_levels()`` includes it (None = all)."""
    n_fid = len(fid_list)
    levels = scheduler.report_levels() if callable(getattr(scheduler, "report_levels", None)) else None
    if levels is None:
        return [True] * n_fid
    mask = [False] * n_fid
    bad = [v for v in levels if _to_py(v) not in level_of]
    if bad:
        raise SimulationError(
            f"the scheduler's report_levels() {list(map(_to_py, levels))} include fidelities {bad} that "
            f"the blackbox does not have; valid fidelities: {fid_list}")
    for v in levels:
        mask[level_of[_to_py(v)]] = True
    return mask


def _next_observed(mask: list[bool]) -> list[int]:
    """``out[i]`` = first observed level >= i, ``len(mask)`` if none (``out`` has one more
    entry than ``mask``, so ``out[k + 1]`` is defined for every level ``k``).

    Example:
        >>> _next_observed([False, True, False, False])
        [1, 1, 4, 4, 4]
    """
    n = len(mask)
    out = [n] * (n + 1)
    for i in range(n - 1, -1, -1):
        out[i] = i if mask[i] else out[i + 1]
    return out


def _elapsed_source(blackbox: Blackbox, names: list[str],
                    time_per_fidelity: float | None) -> tuple[float, int]:
    """``(tpf, ei)``: a constant cost per level (``ei = -1``), or the index of the blackbox's
    elapsed-time objective (``tpf = 0``)."""
    if time_per_fidelity is not None:
        if isinstance(time_per_fidelity, bool) or not isinstance(time_per_fidelity, (int, float)) \
                or not math.isfinite(time_per_fidelity) or time_per_fidelity <= 0:
            raise SimulationError(f"time_per_fidelity={time_per_fidelity!r} must be a finite number > 0")
        return float(time_per_fidelity), -1
    if blackbox.metric_elapsed_time is None:
        raise SimulationError(
            f"this blackbox has no elapsed-time objective (objectives: {names}); pass "
            f"time_per_fidelity=<seconds per fidelity level> to simulate it with a constant cost")
    return 0.0, names.index(blackbox.metric_elapsed_time)


def _to_py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
