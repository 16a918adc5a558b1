"""Exact time accounting: each test asserts exact numbers computed by hand."""
from __future__ import annotations

import numpy as np

from methods.base import Decision, Suggestion
from simulator import Stop, make_scheduler, simulate
from tests.simulator.helpers import Replay, single_fidelity, table

RUNTIMES = [100, 40, 30, 20, 20, 30, 40, 20, 20, 30, 20, 40, 30, 20, 30, 20, 30, 40, 30, 10]
COMPLETIONS = [20, 30, 40, 40, 60, 60, 80, 80, 90, 100, 100, 120, 120, 120, 130, 140, 150, 150, 160, 160]


def test_grid_replay_on_four_workers_completes_at_exact_times():
    bb = single_fidelity(RUNTIMES)
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=4, stop=Stop(max_time=10_000))
    assert sorted(res.results["time"].tolist()) == COMPLETIONS
    assert (res.results["decision"] == "complete").all()
    # GridSearch replays the table in row order: trial i is row i and runs exactly its runtime
    tr = res.trials
    assert tr["config_id"].tolist() == list(range(20))
    assert (tr["end_time"] - tr["start_time"]).tolist() == RUNTIMES
    assert res.metadata["end_reason"] == "exhausted"
    assert res.metadata["end_time"] == 160


def test_same_replay_with_max_trials_stops_starting():
    bb = single_fidelity(RUNTIMES)
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=4, stop=Stop(max_trials=6))
    assert len(res.trials) == 6
    # trials 0..5 = runtimes 100,40,30,20,20,30: 3 more start at 20, 30, 40 on freed workers
    assert sorted(res.results["time"].tolist()) == [20, 30, 40, 40, 60, 100]
    assert res.metadata["end_reason"] == "max_trials"


def _two_config_table():
    # cumulative elapsed times: config 0 [10, 25, 45], config 1 [5, 12, 30]
    return table([[0.5, 0.4, 0.3], [0.6, 0.35, 0.2]], [[10, 25, 45], [5, 12, 30]], fidelities=[1, 2, 3])


def test_pause_and_resume_accounting():
    bb = _two_config_table()
    c0, c1 = bb.configs()
    plan = [Suggestion.start(c0, max_fidelity=1), Suggestion.start(c1, max_fidelity=2),
            Suggestion.resume_trial(0, max_fidelity=3), Suggestion.resume_trial(1)]
    for levels in (None, []):
        sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3], plan=list(plan), levels=levels)
        res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000))
        rows = res.results[["trial_id", "fidelity", "time", "decision"]].values.tolist()
        assert rows == [[0, 1, 10.0, "pause"], [1, 1, 15.0, "continue"], [1, 2, 22.0, "pause"],
                        # resumed at 22 from level 1: 22 + 25 - 10 = 37, 22 + 45 - 10 = 57
                        [0, 2, 37.0, "continue"], [0, 3, 57.0, "complete"],
                        # resumed at 57 from level 2: 57 + 30 - 12 = 75
                        [1, 3, 75.0, "complete"]]
        assert res.trials["n_segments"].tolist() == [2, 2]
        assert res.trials["start_time"].tolist() == [0.0, 10.0]
        assert res.trials["end_time"].tolist() == [57.0, 75.0]
        assert res.trials["status"].tolist() == ["completed", "completed"]
        called = [c for c in sched.calls if c[0] == "report"]
        if levels is None:
            assert len(called) == 6
        else:   # only segment ends are observed
            assert [c[1:3] for c in called] == [(0, 1), (1, 2), (0, 3), (1, 3)]
        assert sched.ended == [(0, "completed"), (1, "completed")]


def test_asha_promotion_resumes_follow_the_formula():
    rng = np.random.default_rng(3)
    n, f = 12, 9
    per_epoch = rng.integers(1, 20, size=(n, 1)).astype(float)
    times = np.cumsum(np.repeat(per_epoch, f, axis=1), axis=1)
    errors = rng.uniform(0, 1, size=(n, f))
    bb = table(errors, times, fidelities=list(range(1, f + 1)))
    sched = make_scheduler("ASHA", bb, type="promotion", grace_period=1, reduction_factor=3, seed=1)
    res = simulate(bb, sched, n_workers=3, stop=Stop(max_time=5000))
    r = res.results
    assert (r["decision"] == "pause").any()
    assert (res.trials["n_segments"] > 1).any()
    el = {i: times[i] for i in range(n)}
    for tid, g in r.groupby("trial_id"):
        cid = int(res.trials.loc[tid, "config_id"])
        g = g.sort_values("fidelity")
        prev = None
        for _, row in g.iterrows():
            k = int(row["fidelity"]) - 1
            if prev is None:
                assert row["time"] == res.trials.loc[tid, "start_time"] + el[cid][k]
            elif prev["decision"] == "continue":
                assert row["time"] - prev["time"] == el[cid][k] - el[cid][k - 1]
            else:   # resumed after a pause: the resume happened at time - (el(k) - el(k-1)) >= pause
                assert prev["decision"] == "pause"
                assert row["time"] - (el[cid][k] - el[cid][k - 1]) >= prev["time"]
            prev = row


def test_stop_frees_the_worker_at_once_and_next_trial_starts_then():
    bb = _two_config_table()
    c0, c1 = bb.configs()
    sched = Replay(bb.configuration_space, fidelity_values=[1, 2, 3],
                   plan=[Suggestion.start(c0), Suggestion.start(c1), Suggestion.start(c0)],
                   decide=lambda tid, f, m: Decision.STOP if (tid, f) == (0, 2) else Decision.CONTINUE)
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=1000))
    rows = res.results[["trial_id", "fidelity", "time", "decision"]].values.tolist()
    assert rows[:2] == [[0, 1, 10.0, "continue"], [0, 2, 25.0, "stop"]]
    assert res.trials["start_time"].tolist() == [0.0, 25.0, 55.0]
    assert res.trials["status"].tolist() == ["stopped", "completed", "completed"]
    assert rows[2:5] == [[1, 1, 30.0, "continue"], [1, 2, 37.0, "continue"], [1, 3, 55.0, "complete"]]
    assert ("suggest", 25.0) in sched.calls
    assert sched.ended[0] == (0, "stopped")


def test_equal_time_order_reports_then_starts_lowest_worker_first():
    # both trials report at 10; worker 0's report is processed first, then new work is given
    bb = table([[0.5], [0.4], [0.3], [0.2]], [[10], [10], [5], [7]], fidelities=[1])
    res = simulate(bb, make_scheduler("GridSearch", bb), n_workers=2, stop=Stop(max_time=100))
    r = res.results
    assert r["trial_id"].tolist() == [0, 1, 2, 3]
    assert r["time"].tolist() == [10.0, 10.0, 15.0, 17.0]
    assert res.trials["worker"].tolist() == [0, 1, 0, 1]
    assert res.trials["start_time"].tolist() == [0.0, 0.0, 10.0, 10.0]
