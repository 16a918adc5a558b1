"""``simulator.simulate`` against the naive reference simulator (``reference_simulator.py``):
random tables (failed cells, ties, several seeds, fidelity grids beyond 33 levels so the long-gap
scan runs), random scheduler decisions (start, resume, nothing; continue, pause, stop; which
levels are observed; segment ends), overheads and every stopping criterion give the same reports
(time, trial, worker, fidelity, every objective, decision) and the same end reason.

The default run keeps the example budget small (80 examples, derandomized: the same ones every
run); the bigger run (2,000 random examples) is marked
``slow`` and runs with ``HPOSIM_SLOW_TESTS=1 python -m pytest -m slow tests/simulator``.
"""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blackbox_repo.blackbox import TabularBlackbox
from methods.base import Decision, Suggestion, TrialStatus
from simulator import Overhead, Stop, make_scheduler, simulate
from tests.simulator.reference_simulator import reference_simulate

NAMES = ["error", "elapsed"]


class RandomDecisions:
    """A scheduler whose every choice is drawn from its own seeded stream: start a random row
    (to a random segment end), resume a random paused trial, or answer nothing; continue,
    pause or stop at each observed report. Two instances with the same arguments make the same
    choices as long as they are asked the same questions in the same order."""

    def __init__(self, blackbox: TabularBlackbox, seed: int, observe: list[int] | None,
                 p_none: float, p_resume: float, p_pause: float, p_stop: float, p_whole: float):
        self.rng = np.random.default_rng(seed)
        self.rows = blackbox.configs()
        self.fids = blackbox.fidelity_values.tolist()
        self.fidelity_values = blackbox.fidelity_values
        self.metric, self.mode = blackbox.metric, blackbox.mode
        self.observe = observe
        self.p = (p_none, p_resume, p_pause, p_stop, p_whole)
        self.level: dict[int, int] = {}       # last level each trial reported
        self.end: dict[int, int] = {}         # its segment end
        self.paused: list[int] = []
        self.next_end = -1

    def report_levels(self):
        return None if self.observe is None else [self.fids[i] for i in self.observe]

    def _segment_end(self, above: int) -> tuple[int, Any]:
        top = len(self.fids) - 1
        if self.rng.random() < self.p[4]:
            return top, None
        m = int(self.rng.integers(above + 1, top + 1))
        return m, self.fids[m]

    def suggest(self, time: float) -> Suggestion | None:
        p_none, p_resume = self.p[:2]
        r = self.rng.random()
        if r < p_none:
            return None
        if self.paused and r < p_none + p_resume:
            tid = self.paused[int(self.rng.integers(len(self.paused)))]
            m, fid = self._segment_end(self.level[tid])
            self.paused.remove(tid)
            self.end[tid] = m
            return Suggestion.resume_trial(tid, fid)
        self.next_end, fid = self._segment_end(-1)
        return Suggestion.start(self.rows[int(self.rng.integers(len(self.rows)))], fid)

    def on_start(self, trial) -> None:
        self.end[trial.trial_id] = self.next_end
        self.level[trial.trial_id] = -1

    def on_discard(self, suggestion) -> None:
        pass

    def on_report(self, trial, fidelity, metrics, time):
        tid, k = trial.trial_id, self.fids.index(fidelity)
        self.level[tid] = k
        _, _, p_pause, p_stop, _ = self.p
        r = self.rng.random()
        d = Decision.PAUSE if r < p_pause else Decision.STOP if r < p_pause + p_stop else Decision.CONTINUE
        if k < len(self.fids) - 1 and (d is Decision.PAUSE or (d is Decision.CONTINUE and k == self.end[tid])):
            self.paused.append(tid)
        return d

    def on_end(self, trial, status: TrialStatus) -> None:
        if trial.trial_id in self.paused:      # never: only paused trials are listed, and they do not end
            raise AssertionError(f"trial {trial.trial_id} ended ({status}) while paused")


@st.composite
def scenarios(draw: Any) -> dict:
    long_grid = draw(st.booleans())
    n_fid = draw(st.integers(34, 70) if long_grid else st.integers(1, 8))
    n_configs, n_seeds = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    shape = (n_configs, n_seeds, n_fid)
    # dyadic values: sums and differences are exact, so ties in time are frequent and exact
    error = rng.integers(0, 9, size=shape).astype(np.float32) / 8
    elapsed = np.cumsum(rng.choice([0.5, 1.0, 2.0, 4.0], size=shape), axis=2).astype(np.float32)
    p_nan = draw(st.sampled_from([0.0, 0.005, 0.01] if long_grid else [0.0, 0.01, 0.03, 0.1]))
    error[rng.random(shape) < p_nan] = np.nan
    elapsed[rng.random(shape) < p_nan / 2] = np.nan
    mode = draw(st.sampled_from(["min", "max"]))
    best = 0.0 if mode == "min" else 1.0
    if long_grid:   # the best value only deep in the grid: a target there is found by the long-gap scan
        error = np.clip(error, 0.125, 0.875)
        error[rng.integers(n_configs), rng.integers(n_seeds), rng.integers(33, n_fid)] = best
    bb = TabularBlackbox(pd.DataFrame({"x": np.arange(n_configs)}), np.stack([error, elapsed], axis=-1),
                         list(range(1, n_fid + 1)), NAMES, metric_elapsed_time="elapsed", mode=mode)
    # few observed levels: long runs of levels recorded in bulk, scanned for failures and the target
    # (long grids: always, and budgets that let trials get far)
    observed = st.lists(st.integers(0, n_fid - 1), unique=True, max_size=3)
    observe = draw(observed if long_grid else st.one_of(st.none(), observed))
    sched = dict(seed=draw(st.integers(0, 1000)), observe=sorted(observe) if observe is not None else None,
                 p_none=draw(st.sampled_from([0.0, 0.05, 0.2])), p_resume=draw(st.sampled_from([0.0, 0.3, 0.6])),
                 p_pause=draw(st.sampled_from([0.0, 0.1, 0.3])), p_stop=draw(st.sampled_from([0.0, 0.1, 0.3])),
                 p_whole=draw(st.sampled_from([0.2, 0.5, 0.8, 1.0])))
    bound = draw(st.sampled_from(["trials", "reports", "both"]))
    stop = Stop(max_trials=draw(st.integers(1, 12)) if bound != "reports" else None,
                max_reports=draw(st.integers(100 if long_grid else 1, 400)) if bound != "trials" else None,
                max_time=draw(st.sampled_from([None, 1000.0] if long_grid else [None, 0.5, 3.0, 10.0, 40.0, 150.5])),
                max_completed=draw(st.one_of(st.none(), st.integers(1, 4))),
                max_cost=draw(st.sampled_from([None, 2000.0] if long_grid else [None, 1.0, 7.5, 30.0, 200.0])),
                target=draw(st.sampled_from([None, best] if long_grid else [None, 0.0, 0.125, 0.5, 1.0])))
    return dict(bb=bb, sched=sched, stop=stop, n_workers=draw(st.integers(1, 4)), seed=draw(st.integers(0, 99)),
                blackbox_seed=draw(st.one_of(st.none(), st.integers(0, n_seeds - 1))),
                startup=draw(st.sampled_from([0.0, 0.0, 0.5, 2.0])),
                per_decision=draw(st.sampled_from([0.0, 0.0, 0.25, 1.0])),
                tpf=draw(st.sampled_from([None, None, None, 1.5])))


def _scheduler(case: dict) -> Any:
    """A fresh scheduler for the case (each simulator gets its own, making the same choices)."""
    bb = case["bb"]
    return case["make"](bb) if "make" in case else RandomDecisions(bb, **case["sched"])


def _real_reports(case: dict) -> tuple[list[tuple], str]:
    bb = case["bb"]
    res = simulate(bb, _scheduler(case), n_workers=case["n_workers"], stop=case["stop"],
                   seed=case["seed"], blackbox_seed=case["blackbox_seed"], time_per_fidelity=case["tpf"],
                   overhead=Overhead(startup=case["startup"], per_decision=case["per_decision"]))
    r = res.results
    rows = zip(r["time"].tolist(), r["trial_id"].tolist(), r["worker"].tolist(), r["fidelity"].tolist(),
               *(r[n].tolist() for n in NAMES), r["decision"].astype(str).tolist())
    return [(t, tid, w, f, _plain(vals), d) for t, tid, w, f, *vals, d in rows], res.metadata["end_reason"]


def _reference_reports(case: dict) -> tuple[list[tuple], str]:
    bb = case["bb"]
    run = reference_simulate(bb, _scheduler(case), n_workers=case["n_workers"],
                             stop=case["stop"], seed=case["seed"], blackbox_seed=case["blackbox_seed"],
                             startup=case["startup"], per_decision=case["per_decision"],
                             time_per_fidelity=case["tpf"])
    return [(r.time, r.trial, r.worker, r.fidelity, _plain(r.values), r.decision) for r in run.reports], run.end_reason


def _plain(values: Any) -> tuple:
    """Objective values comparable with ``==`` (NaN as None)."""
    return tuple(None if math.isnan(v) else float(v) for v in values)


def _check(case: dict) -> None:
    got, got_reason = _real_reports(case)
    want, want_reason = _reference_reports(case)
    assert got == want
    assert got_reason == want_reason


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_simulate_matches_the_reference_simulator(case):
    _check(case)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HPOSIM_SLOW_TESTS") != "1", reason="the bigger run: HPOSIM_SLOW_TESTS=1")
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_simulate_matches_the_reference_simulator_many_examples(case):
    _check(case)


def test_the_long_gap_scan_finds_a_failure_and_the_target_between_observed_levels():
    """Deterministic: 60 levels, RandomSearch observes none, a failure at level 40 (row 0, trial 0)
    and the target at level 50 (row 1, trial 1): both found by the numpy branch of the scan (gaps > 33)."""
    n_fid = 60
    error = np.full((2, 1, n_fid), 0.5, np.float32)
    elapsed = np.cumsum(np.ones((2, 1, n_fid)), axis=2).astype(np.float32)
    error[0, 0, 40] = np.nan
    error[1, 0, 50] = 0.125
    bb = TabularBlackbox(pd.DataFrame({"x": [0, 1]}), np.stack([error, elapsed], axis=-1),
                         list(range(1, n_fid + 1)), NAMES, metric_elapsed_time="elapsed")
    case = dict(bb=bb, make=lambda b: make_scheduler("GridSearch", b), stop=Stop(max_trials=2, target=0.125),
                n_workers=2, seed=0, blackbox_seed=None, startup=0.0, per_decision=0.0, tpf=None)
    got, reason = _real_reports(case)
    _check(case)
    failed = [r for r in got if r[5] == "failed"]
    assert len(failed) == 1 and failed[0][3] == 41
    assert reason == "target" and got[-1][3] == 51 and got[-1][4][0] == 0.125


def test_the_end_reason_names_the_report_the_run_was_cut_at():
    """Found by the comparison: at t=6 trial 0 reaches the target (its 6th report, the 45th of the
    run in time order) and trial 1 completes in the same time step with 40 reports recorded in
    bulk, the 46th reaching ``max_reports``. The run is cut at the target's report, so the end
    reason is ``target`` (it used to be the criterion checked last in the step)."""
    n_fid = 40
    error = np.full((2, 1, n_fid), 0.5, np.float32)
    error[0, 0, 5] = 0.0
    elapsed = np.zeros((2, 1, n_fid), np.float32)
    elapsed[0, 0] = np.arange(1, n_fid + 1)
    elapsed[1, 0] = 0.125 * np.arange(1, n_fid + 1)
    elapsed[1, 0, -1] = 6.0
    bb = TabularBlackbox(pd.DataFrame({"x": [0, 1]}), np.stack([error, elapsed], axis=-1),
                         list(range(1, n_fid + 1)), NAMES, metric_elapsed_time="elapsed")
    case = dict(bb=bb, make=lambda b: make_scheduler("GridSearch", b), stop=Stop(max_reports=46, target=0.0),
                n_workers=2, seed=0, blackbox_seed=None, startup=0.0, per_decision=0.0, tpf=None)
    got, reason = _real_reports(case)
    _check(case)
    assert reason == "target" and len(got) == 45 and got[-1][:4] == (6.0, 0, 0, 6)


def test_a_cost_budget_used_up_before_max_time_ends_the_run_even_when_the_next_report_is_later():
    """Found by the comparison: one worker, reports at 2 and 4 s, max_cost=1, max_time=3. The
    worker-seconds run out at t=1, before max_time; the run used to end at max_time (the next
    event, at 4 s, is beyond it) and keep the report at 2 s."""
    bb = TabularBlackbox(pd.DataFrame({"x": [0]}), np.array([[[[1.0, 2.0], [1.0, 4.0]]]], np.float32),
                         [1, 2], NAMES, metric_elapsed_time="elapsed")
    case = dict(bb=bb, make=lambda b: make_scheduler("GridSearch", b), stop=Stop(max_time=3.0, max_cost=1.0),
                n_workers=1, seed=0, blackbox_seed=None, startup=0.0, per_decision=0.0, tpf=None)
    got, reason = _real_reports(case)
    _check(case)
    assert got == [] and reason == "max_cost"
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=1, stop=Stop(max_time=3.0, max_cost=1.0))
    assert res.metadata["end_time"] == 1.0
