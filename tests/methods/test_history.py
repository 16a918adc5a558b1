"""The observation history every searcher shares."""
from __future__ import annotations

import math

import numpy as np

from methods.base import Trial, TrialStatus
from methods.history import History


def _trial(i: int, x: float) -> Trial:
    return Trial(i, {"x": x})


def test_pending_is_running_plus_handed_out_and_not_started_oldest_first():
    h = History()
    a, b = {"x": 1.0}, {"x": 2.0}
    h.suggested(a)
    h.suggested(b)
    assert h.pending_configs() == [a, b]
    h.start(Trial(0, b))
    assert h.pending_configs() == [b, a]
    h.discard(a)
    assert h.pending_configs() == [b]
    h.end(Trial(0, b), TrialStatus.STOPPED)
    assert h.pending_configs() == [] and h.ended == {0}


def test_observations_per_fidelity_best_and_model_fidelity():
    h = History(features=lambda c: [c["x"]])
    for i, (fid, score) in enumerate([(1, 3.0), (1, 2.0), (3, 5.0), (1, 2.0), (3, 4.0)]):
        t = _trial(i, i / 10)
        h.start(t)
        h.observe(t, fid, score)
    assert h.fidelities == [1, 3] and h.count(1) == 3 and h.num_observations == 5
    assert h.best(1) == (2.0, 1)            # ties go to the lower trial id
    assert h.best() == (4.0, 4)             # default: the largest observed fidelity
    assert h.model_fidelity(2) == 3 and h.model_fidelity(3) == 1 and h.model_fidelity(4) is None
    X, y, ids = h.data(3)
    assert X.tolist() == [[0.2], [0.4]] and y.tolist() == [5.0, 4.0] and ids == [2, 4]
    ids, latest = h.latest()
    assert ids == [0, 1, 2, 3, 4] and latest.tolist() == [3, 2, 5, 2, 4]


def test_nan_scores_are_ignored_and_failures_change_the_version():
    h = History()
    t = _trial(0, 0.5)
    h.start(t)
    v = h.version
    h.observe(t, 1, math.nan)
    assert h.version == v and h.num_observations == 0
    h.end(t, TrialStatus.FAILED)
    assert h.version == v + 1 and h.failed == {0}


def test_fidelities_stay_sorted_whatever_the_report_order():
    h = History()
    for i, fid in enumerate([9, 1, 3]):
        h.observe(_trial(i, 0.0), fid, float(i))
    assert h.fidelities == [1, 3, 9]
    X, y, ids = h.data(9)
    assert X.shape == (1, 0) and y.tolist() == [0.0] and ids == [0]
    assert h.data(27)[2] == [] and isinstance(h.data(27)[1], np.ndarray)


def test_paused_trials_are_running_but_not_pending():
    h = History()
    trials = [_trial(i, i / 10) for i in range(3)]
    for t in trials:
        h.start(t)
    h.pause(trials[1])
    assert h.pending_configs() == [trials[0].config, trials[2].config]
    assert set(h.running) == {0, 1, 2} and h.paused == {1}
    h.resume(1)
    assert h.pending_configs() == [trials[0].config, trials[2].config, trials[1].config]   # resumed last
    assert h.paused == set() and set(h.active) == {0, 1, 2}
    h.pause(trials[2])
    h.end(trials[2], TrialStatus.STOPPED)
    assert h.paused == set() and 2 not in h.running
    h.pause(_trial(7, 0.7))                     # never started: nothing to pause
    assert h.paused == set()
