"""The run's column buffers, and the results and trials tables built from them at the end.

The event loop only appends plain Python values to the lists of a ``Buffers``: one entry
per trial, one "block" tuple per observed report (levels ``lo..hi`` of a trial, all "continue"
but the last), one tuple per segment (a start or a resume). ``assemble`` turns them into
the two DataFrames once, by vectorized numpy indexing into the table (``blackbox.rows()``) or
the computed curves, and applies the stopping cut.

Example:
    >>> import numpy as np, pandas as pd
    >>> from blackbox_repo.blackbox import TabularBlackbox
    >>> from simulator.settings import resolve_settings
    >>> from simulator.simulate import make_scheduler
    >>> bb = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), np.ones((2, 1, 2, 1), np.float32),
    ...                      [1, 2], ["loss"])
    >>> st = resolve_settings(bb, make_scheduler("GridSearch", bb), stop={"max_trials": 1},
    ...                       time_per_fidelity=10)
    >>> buf = Buffers(t_cid=[1], t_seed=[0], t_curve=[None], t_configs=[{"x": 2}],
    ...               blocks=[(0, 0, 1, 0.0, 20.0, 0, COMPLETE, 0.0)], segments=[(0, 0.0, 0)])
    >>> results, trials, end_time, renamed, cut_reason = assemble(bb, st, None, buf)
    >>> results[["x", "fidelity", "time", "decision"]].values.tolist()
    [[2, 1, 10.0, 'continue'], [2, 2, 20.0, 'complete']]
    >>> trials["status"].tolist(), end_time, cut_reason
    (['completed'], 20.0, None)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import Blackbox
from blackbox_repo.configspace import values_getter
from blackbox_repo.reserved_columns import RESULT_COLUMNS, TRIAL_COLUMNS
from simulator.results import DECISIONS, STATUSES
from simulator.settings import Settings, SimulationError

__all__ = ["Buffers", "assemble", "value_error", "CONTINUE", "PAUSE", "STOP", "COMPLETE", "FAILED"]

#: decision codes in ``Buffers.b_dec`` (index into ``results.DECISIONS``)
CONTINUE, PAUSE, STOP, COMPLETE, FAILED = range(5)

_DECISION_DTYPE = pd.CategoricalDtype(list(DECISIONS))
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES))


@dataclass
class Buffers:
    """What the event loop records, as plain lists (filled by ``append`` only).

    Example:
        >>> b = Buffers()
        >>> b.blocks.append((0, 0, 2, 0.0, 30.0, 1, CONTINUE, 0.0)); len(b.blocks), len(b.t_cid)
        (1, 0)
    """

    # per trial (index = trial id): table row (-1: not a table), blackbox seed, curve, config
    t_cid: list[int] = field(default_factory=list)
    t_seed: list[int] = field(default_factory=list)
    t_curve: list[Any] = field(default_factory=list)
    t_configs: list[dict] = field(default_factory=list)
    # blocks of report rows, (trial, lo, hi, origin, time, worker, dec, dt): levels lo..hi of a
    # trial, reported at origin + elapsed(level) except the last (at time); all "continue" but
    # the last (dec, with its decision seconds dt); one tuple per block, one append per event
    blocks: list[tuple] = field(default_factory=list)
    # segments (a start or a resume), (trial, start time, worker)
    segments: list[tuple] = field(default_factory=list)


def _column_names(hp_names: list[str], obj_names: list[str]) -> tuple[list[str], list[str], dict]:
    """Hyperparameter and objective column names, renamed when they clash with reserved ones
    (hyperparameters: those of both tables; objectives, only in the results: its columns).

    Example:
        >>> _column_names(["time", "lr", "status"], ["loss", "worker", "status"])[2]
        {'time': 'config_time', 'status': 'config_status', 'worker': 'objective_worker'}
    """
    renamed: dict[str, str] = {}
    taken = set(RESULT_COLUMNS) | set(TRIAL_COLUMNS)

    def claim(names: list[str], prefix: str) -> list[str]:
        out = []
        for name in names:
            n = name if name not in taken else f"{prefix}{name}"
            if n != name:
                renamed[name] = n
            taken.add(n)
            out.append(n)
        return out

    hp_out = claim(hp_names, "config_")
    taken = set(RESULT_COLUMNS) | set(hp_out)
    obj_out = claim(obj_names, "objective_")
    return hp_out, obj_out, renamed


def value_error(blackbox: Blackbox, st: Settings, tid: int, k: int, j: int, value: float,
                buf: Buffers) -> SimulationError:
    """The error for a value the simulator refuses at trial ``tid``, level ``k``, objective
    ``j``: an infinite metric, or a negative or infinite elapsed time (NaN is not one: it is a
    failed evaluation)."""
    name = st.names[j]
    if j == st.ei:
        why = ("negative: the report would come before the trial started" if value < 0
               else "infinite: the trial would never end")
        what = f"elapsed time {name!r}"
        allowed = "finite elapsed times >= 0 (NaN: the evaluation failed)"
    else:
        why = "infinite"
        what = f"metric {name!r}"
        allowed = "finite metric values (NaN: the evaluation failed)"
    cid = buf.t_cid[tid]
    where = f"configuration {buf.t_configs[tid]!r}" + (f" (row {cid})" if cid >= 0 else "")
    return SimulationError(
        f"the blackbox's {what} is {value!r} ({why}) for {where}, seed {buf.t_seed[tid]}, "
        f"{blackbox.fidelity_name or 'fidelity'} {st.fid_list[k]!r}; the simulator needs {allowed}. "
        f"Fix the table (e.g. replace the value by NaN to mark a failed evaluation)")


def _check_values(blackbox: Blackbox, st: Settings, trial: np.ndarray, level: np.ndarray, obj: np.ndarray,
                  buf: Buffers) -> None:
    """Raise ``value_error`` for the first report (in table order) with an infinite metric
    or a negative or infinite elapsed time; the event loop checks only the reports it
    handles one by one, the rows recorded in bulk are checked here, vectorized."""
    cols = [st.mi] + ([st.ei] if st.ei >= 0 and st.ei != st.mi else [])
    for j in cols:
        v = obj[:, j]
        with np.errstate(invalid="ignore"):
            bad = np.isinf(v) if j != st.ei else (np.isinf(v) | (v < 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise value_error(blackbox, st, int(trial[i]), int(level[i]), j, float(v[i]), buf)


def assemble(blackbox: Blackbox, st: Settings, cut_time: float | None,
             buf: Buffers) -> tuple[pd.DataFrame, pd.DataFrame, float, dict, str | None]:
    """``(results, trials, end_time, renamed_columns, cut_reason)``: both tables built once,
    vectorized, with the stopping cut applied (rows at or before ``cut_time``, then the first
    report that reaches ``max_reports``, ``max_completed`` or ``target``). ``cut_reason`` names
    the criterion of that report (one report reaching several: ``max_reports``, then
    ``max_completed``, then ``target``), ``None`` when no report reached one."""
    table = blackbox.rows()
    names, mi, ei, tpf = st.names, st.mi, st.ei, st.tpf
    fidelities, sign, stop = st.fidelities, st.sign, st.stop
    t_cid, t_curve, t_configs = buf.t_cid, buf.t_curve, buf.t_configs
    nb = len(buf.blocks)
    b_trial, b_lo, b_hi, b_origin, b_time, b_worker, b_dec, b_dt = zip(*buf.blocks) if nb else ((),) * 8
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
    seeds = np.asarray(buf.t_seed, dtype=np.int64)
    if table is not None:
        obj = np.asarray(np.asarray(table.objectives)[cids[trial], seeds[trial], level], dtype=np.float32) \
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
    cands: list[tuple[int, int, str]] = []     # (row, precedence, criterion)
    if stop.max_reports is not None and stop.max_reports <= keep:
        cands.append((stop.max_reports - 1, 0, "max_reports"))
    if stop.max_completed is not None:
        c = np.flatnonzero(dec[:keep] == COMPLETE)
        if len(c) >= stop.max_completed:
            cands.append((int(c[stop.max_completed - 1]), 1, "max_completed"))
    if stop.target is not None:
        with np.errstate(invalid="ignore"):
            c = np.flatnonzero(sign * obj[:keep, mi] <= sign * stop.target)
        if len(c):
            cands.append((int(c[0]), 2, "target"))
    cut_reason = None
    if cands:
        idx, _, cut_reason = min(cands)
        keep = idx + 1
        seg_cut = float(time[idx])
    time, trial, level, worker, dec, dtime, obj = (a[:keep] for a in (time, trial, level, worker, dec, dtime, obj))
    _check_values(blackbox, st, trial, level, obj, buf)
    end_time = float(seg_cut) if seg_cut is not None else (float(time[-1]) if keep else 0.0)

    hp_cols = list(blackbox.configuration_space)     # a table's are its columns
    hp_out, obj_out, renamed = _column_names(hp_cols, names)
    n_trials_all = len(t_cid)
    s_trial, s_start, s_worker = zip(*buf.segments) if buf.segments else ((),) * 3
    s_trial_a = np.asarray(s_trial, dtype=np.int64)
    s_start_a = np.asarray(s_start, dtype=np.float64)
    s_worker_a = np.asarray(s_worker, dtype=np.int64)
    if seg_cut is not None:
        sk = s_start_a < seg_cut
        s_trial_a, s_start_a, s_worker_a = s_trial_a[sk], s_start_a[sk], s_worker_a[sk]
    n_trials = int(s_trial_a.max()) + 1 if len(s_trial_a) else 0   # trials start in id order

    if table is not None:
        hp_arrays = [table.hyperparameters[c].array for c in hp_cols]
    else:
        # a column per hyperparameter over the trials' configurations, dtype inferred per
        # column as a DataFrame of the dicts would, without parsing every dict
        values = list(zip(*map(values_getter(hp_cols), t_configs))) or [()] * len(hp_cols)
        hp_arrays = [pd.Series(list(v), dtype=None if v else object).array for v in values]

    def config_columns(ids: np.ndarray) -> dict[str, Any]:
        rows = cids[ids] if table is not None else ids
        return {o: a.take(rows) for o, a in zip(hp_out, hp_arrays)}

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
    results = pd.DataFrame(cols, copy=False)  # the buffers are fresh arrays: no copy

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
    n_pause = np.bincount(trial[dec == PAUSE], minlength=n_trials)
    has = last_row >= 0
    lr = np.where(has, last_row, 0)
    last_dec = np.where(has, dec[lr] if keep else 0, -1)
    status = np.zeros(n_trials, dtype=np.int8)               # running
    status[last_dec == COMPLETE] = 2
    status[last_dec == STOP] = 3
    status[last_dec == FAILED] = 4
    status[(last_dec == PAUSE) & (n_pause[:n_trials] >= n_seg[:n_trials])] = 1
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
    if table is not None:
        tcols["config_id"] = cids[:n_trials]
    trials = pd.DataFrame(tcols, copy=False)
    return results, trials, end_time, renamed, cut_reason
