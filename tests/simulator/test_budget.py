"""``simulator.budget``: the workers' busy seconds and the exact instant a cost budget runs out,
the limits as numbers, and the no-progress watch."""
from __future__ import annotations

import math
import sys

from simulator.budget import Budget, Workers
from simulator.stopping import Stop


def test_workers_are_taken_lowest_first_and_their_busy_seconds_add_up():
    w = Workers(3)
    assert [w.take(0.0), w.take(2.0), w.take(2.0)] == [0, 1, 2] and w.free == []
    w.release(1, 5.0)                         # 3 s closed; 0 and 2 still busy
    assert w.take(6.0) == 1
    # at t=10: 3 closed + 10 (worker 0) + 8 (worker 2) + 4 (worker 1) = 25
    assert w.closed_cost + w.n_busy * 10.0 - w.sum_since == 25.0
    assert w.cost_cut(10.0, 6.0, max_cost=25.0) is None
    assert w.cost_cut(10.0, 6.0, max_cost=19.0) == 8.0   # 3 + t + (t - 2) + (t - 6) = 19 at t = 8
    assert w.cost_cut(10.0, 9.0, max_cost=1.0) == 9.0    # already over: not before the current time


def test_absent_limits_are_never_reached_and_the_target_is_signed():
    b = Budget(Stop(max_completed=2, target=0.9), sign=-1.0, no_progress_limit=10_000)
    assert (b.max_time, b.max_trials, b.max_reports, b.max_cost) == (math.inf, sys.maxsize, sys.maxsize, None)
    assert b.max_completed == 2 and b.tgt == -0.9


def test_runs_with_a_trial_or_report_budget_are_never_watched():
    for stop in (Stop(max_trials=5), Stop(max_reports=5, max_time=10)):
        assert Budget(stop, 1.0, no_progress_limit=3).next_watch == sys.maxsize


def test_the_watch_ends_a_run_only_after_the_limit_without_progress():
    b = Budget(Stop(max_time=100), 1.0, no_progress_limit=4, watch_every=2)
    assert b.next_watch == 2
    assert not b.look(2, t=1.0, n_completed=0, best=math.inf)       # time moved: progress, mark = 2
    assert not b.look(4, t=1.0, n_completed=0, best=math.inf)       # 2 without progress
    assert b.look(6, t=1.0, n_completed=0, best=math.inf)           # 4 without progress, and 6 >= 2 * 2
    assert b.next_watch == 8
