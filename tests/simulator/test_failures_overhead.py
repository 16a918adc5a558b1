"""NaN cells are failures; overhead models shift simulated time exactly as documented."""
from __future__ import annotations

import math
import time

import pytest

from methods.base import Suggestion
from simulator import Overhead, OverheadError, Stop, make_scheduler, simulate
from tests.simulator.helpers import Replay, single_fidelity, table

NAN = math.nan


def failing_table():
    # config 1 fails at level 2 (metric NaN); elapsed [10, 20, 30] for every config
    err = [[0.5, 0.4, 0.3], [0.6, NAN, 0.2], [0.7, 0.6, 0.5]]
    return table(err, [[10, 20, 30]] * 3, fidelities=[1, 2, 3])


@pytest.mark.parametrize("levels", [None, []])
def test_nan_metric_fails_the_trial_and_frees_the_worker(levels):
    bb = failing_table()
    c = bb.configs()
    sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3],
                   plan=[Suggestion.start(c[1]), Suggestion.start(c[2])], levels=levels)
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000))
    rows = res.results[["trial_id", "fidelity", "time", "decision"]].values.tolist()
    assert rows[:2] == [[0, 1, 10.0, "continue"], [0, 2, 20.0, "failed"]]
    assert res.trials["status"].tolist() == ["failed", "completed"]
    assert res.trials["start_time"].tolist() == [0.0, 20.0]
    assert sched.ended[0] == (0, "failed")
    # the scheduler never sees the failed report
    assert all(not (c[0] == "report" and c[1] == 0 and c[2] == 2) for c in sched.calls)
    assert math.isnan(res.results["error"].iloc[1])


def test_nan_elapsed_time_fails_right_after_the_last_timed_report():
    bb = table([[0.5, 0.4, 0.3], [0.5, 0.4, 0.3]], [[10, NAN, NAN], [5, 6, 7]], fidelities=[1, 2, 3])
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=1, stop=Stop(max_time=100))
    rows = res.results[["trial_id", "fidelity", "time", "decision"]].values.tolist()
    assert rows[:2] == [[0, 1, 10.0, "continue"], [0, 2, 10.0, "failed"]]
    assert res.trials["start_time"].tolist() == [0.0, 10.0]
    assert res.results["time"].iloc[-1] == 17.0


def test_nan_at_the_first_level_of_a_real_method_run():
    bb = table([[NAN, NAN], [0.3, 0.2]], [[NAN, NAN], [4, 8]], fidelities=[1, 2])
    sched = make_scheduler("ASHA", bb, grace_period=1, reduction_factor=2)
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_trials=4))
    failed = res.trials[res.trials["status"] == "failed"]
    assert len(failed) >= 1 and (failed["end_time"] == failed["start_time"]).all()


def test_startup_delay_per_trial():
    bb = single_fidelity([10, 20])
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=1, stop=Stop(max_time=100),
                   overhead=Overhead(startup=5))
    assert res.results["time"].tolist() == [15.0, 40.0]
    assert res.trials["start_time"].tolist() == [0.0, 15.0]


def test_constant_cost_per_decision():
    bb = table([[0.5, 0.4, 0.3], [0.5, 0.4, 0.3]], [[10, 20, 30], [10, 20, 30]], fidelities=[1, 2, 3])
    sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3],
                   plan=[Suggestion.start(c) for c in bb.configs()], levels=[2])
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000), overhead={"per_decision": 1})
    # suggest costs 1: reports at 11, 21 (observed: +1 later), 32; the worker is free at 33
    assert res.results["time"].tolist() == [11.0, 21.0, 32.0, 44.0, 54.0, 65.0]
    assert res.trials["start_time"].tolist() == [0.0, 33.0]
    assert res.metadata["end_time"] == 66.0     # the last worker is free at 66


def test_measured_decision_cost_and_decision_time_column():
    bb = table([[0.5, 0.4, 0.3]], [[10, 20, 30]], fidelities=[1, 2, 3])
    sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3],
                   plan=[Suggestion.start(bb.config(0))], levels=[2], sleep=lambda: time.sleep(0.01))
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000),
                   overhead=Overhead(measured=True, scale=100))
    t = res.results["time"].to_numpy()
    # each decision took >= 10 ms, i.e. >= 1 simulated second at scale 100
    assert t[0] >= 11 and t[1] - t[0] == 10 and t[2] - t[1] >= 11
    dt = res.results["decision_time"].to_numpy()
    assert dt[0] == 0.0 and dt[1] >= 0.01 and dt[2] >= 0.01


def test_decision_time_is_recorded_without_overhead_and_zero_for_bulk_rows():
    bb = table([[0.5, 0.4, 0.3]], [[10, 20, 30]], fidelities=[1, 2, 3])
    sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3],
                   plan=[Suggestion.start(bb.config(0))], levels=[2], sleep=lambda: time.sleep(0.002))
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000))
    assert res.results["time"].tolist() == [10.0, 20.0, 30.0]
    dt = res.results["decision_time"].tolist()
    assert dt[0] == 0.0 and dt[1] >= 0.002 and dt[2] >= 0.002


def test_overhead_validation():
    with pytest.raises(OverheadError, match="startup=-1"):
        Overhead(startup=-1)
    with pytest.raises(OverheadError, match="not both"):
        Overhead(per_decision=1, measured=True)
    with pytest.raises(OverheadError, match="did you mean 'startup'"):
        Overhead.coerce({"start_up": 1})
