"""Stopping criteria, each alone and combined: a stopped run is an exact prefix of the full run."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulator import Stop, StopError, make_scheduler, simulate
from tests.simulator.helpers import nb201_like, single_fidelity, table

RUNTIMES = [100, 40, 30, 20, 20, 30, 40, 20, 20, 30, 20, 40, 30, 20, 30, 20, 30, 40, 30, 10]


@pytest.fixture(scope="module")
def bb():
    return nb201_like(n_seeds=2, n_epochs=27, ops=4, seed=5)


def run(bb, **stop):
    sched = make_scheduler("ASHA", bb, type="stopping", grace_period=1, reduction_factor=3, seed=2)
    return simulate(bb, sched, n_workers=3, stop=Stop(**stop), seed=7)


@pytest.fixture(scope="module")
def full(bb):
    return run(bb, max_time=2e5)


def same_prefix(res, full, n):
    cols = [c for c in full.results.columns if c != "decision_time"]
    pd.testing.assert_frame_equal(res.results[cols], full.results[cols].iloc[:n], check_exact=True)


def test_max_reports_is_a_prefix(bb, full):
    res = run(bb, max_reports=500)
    assert len(res.results) == 500
    same_prefix(res, full, 500)
    assert res.metadata["end_reason"] == "max_reports"
    # trials started after the last kept report are not in the trials table
    assert (res.trials["start_time"] < res.results["time"].iloc[-1]).all()


def test_max_completed_ends_at_that_completion(bb, full):
    res = run(bb, max_completed=5)
    n = int(np.flatnonzero(full.results["decision"] == "complete")[4]) + 1
    same_prefix(res, full, n)
    assert res.results["decision"].iloc[-1] == "complete"
    assert (res.trials["status"] == "completed").sum() == 5


def test_target_ends_at_first_report_reaching_it(bb, full):
    errors = full.results["error"].to_numpy()
    target = float(np.sort(errors)[40])
    res = run(bb, target=target)
    n = int(np.flatnonzero(errors <= target)[0]) + 1
    same_prefix(res, full, n)
    assert res.results["error"].iloc[-1] <= target
    assert (res.results["error"].iloc[:-1] > target).all()


def test_max_time_cuts_reports_after_it(bb, full):
    t = float(full.results["time"].iloc[300]) + 0.5
    res = run(bb, max_time=t)
    n = int((full.results["time"] <= t).sum())
    same_prefix(res, full, n)
    assert res.metadata["end_time"] == t
    running = res.trials[res.trials["status"] == "running"]
    assert len(running) >= 1 and running["end_time"].isna().all()


def test_combined_criteria_first_one_wins(bb, full):
    t = float(full.results["time"].iloc[300]) + 0.5
    assert len(run(bb, max_time=t, max_reports=100).results) == 100
    n_time = int((full.results["time"] <= t).sum())
    assert len(run(bb, max_time=t, max_reports=10_000).results) == n_time


def test_max_cost_counts_worker_seconds():
    bb = single_fidelity(RUNTIMES)
    # 4 busy workers: 100 worker-seconds are used up at t = 25
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=4, stop=Stop(max_cost=100))
    assert res.results["time"].tolist() == [20.0]
    assert res.metadata["end_time"] == 25.0
    assert len(res.trials) == 5     # the trial started at 20 is in; nothing started at or after 25
    assert res.metadata["end_reason"] == "max_cost"


def test_max_time_flushes_bulk_reports_of_running_trials():
    # one trial, 10 s per epoch, GridSearch observes nothing: reports at 10..50
    bb = table([[0.9, 0.8, 0.7, 0.6, 0.5]], [[10, 20, 30, 40, 50]])
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=1, stop=Stop(max_time=35))
    assert res.results["time"].tolist() == [10.0, 20.0, 30.0]
    assert res.results["decision"].tolist() == ["continue"] * 3
    assert res.trials["status"].tolist() == ["running"]
    assert res.trials["last_fidelity"].tolist() == [3.0]


def test_stop_validation():
    with pytest.raises(StopError, match="no stopping criterion"):
        Stop()
    with pytest.raises(StopError, match="max_time=-1"):
        Stop(max_time=-1)
    with pytest.raises(StopError, match="max_trials=1.5"):
        Stop(max_trials=1.5)
    with pytest.raises(StopError, match="did you mean 'max_time'"):
        Stop.coerce({"max_tme": 3})
    assert Stop.coerce({"target": 0.1}).active() == {"target": 0.1}


@pytest.mark.parametrize("name", ["max_time", "max_cost", "target"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_infinite_or_nan_criteria_are_rejected(name, value):
    # max_time=inf is no bound at all: with an unreachable target the run would never end
    with pytest.raises(StopError, match=f"{name}={value!r} is not valid; it must be a finite number"):
        Stop(**{name: value})
