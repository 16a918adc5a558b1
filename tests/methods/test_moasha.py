"""MOASHA: rung decisions by non-dominated sorting; the Pareto-optimal trial is kept."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import Decision, MethodError, Trial, create
from methods.moasha import MORung

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
LEVELS = list(range(1, 28))


def moasha(**kw):
    return create("MOASHA", SPACE, metric=["acc", "latency"], mode=["max", "min"], fidelity_values=LEVELS, **kw)


@pytest.mark.parametrize("tie_break", ["eps_net", "hypervolume", "crowding"])
def test_keeps_the_pareto_optimal_trial(tie_break):
    s = moasha(tie_break=tie_break)
    rng = np.random.default_rng(0)
    decisions = []
    for i in range(30):   # dominated trials: accuracy <= 0.8, latency >= 2
        decisions.append(s.on_report(Trial(i, {"x": 0.5}, 0), 1, {"acc": 0.8 * rng.random(),
                                                                   "latency": 2 + rng.random()}, 1.0))
    assert Decision.STOP in decisions and Decision.CONTINUE in decisions
    best = s.on_report(Trial(30, {"x": 0.1}, 0), 1, {"acc": 0.95, "latency": 1.0}, 2.0)
    assert best == Decision.CONTINUE
    worst = s.on_report(Trial(31, {"x": 0.9}, 0), 1, {"acc": 0.0, "latency": 9.0}, 3.0)
    assert worst == Decision.STOP
    # off the rungs (2 is not a rung level) nothing is decided
    assert s.on_report(Trial(32, {"x": 0.9}, 0), 2, {"acc": 0.0, "latency": 9.0}, 3.0) == Decision.CONTINUE


def test_rule_is_position_over_count_against_one_over_rf():
    rung = MORung(2)
    # 1st: p=0 of 1 -> continue; 2nd dominated: p=1 of 2 = 0.5 > 1/3 -> stop; 3rd dominating: p=0 -> continue
    assert [rung.record_and_decide(np.array(v), 1 / 3) for v in ([1.0, 1.0], [2.0, 2.0], [0.5, 0.5])] == \
        [True, False, True]
    # (0.4, 0.6) shares the front with (0.5, 0.5) and seeds the epsilon-net (best first objective): p=0
    assert rung.position(np.array([0.4, 0.6])) == 0
    # (0.6, 0.4) would be second on that front: p=1 of 4 = 0.25 <= 1/3 -> continue
    assert rung.position(np.array([0.6, 0.4])) == 1
    assert rung.record_and_decide(np.array([0.6, 0.4]), 1 / 3) is True
    assert rung.n == 4 and rung.scores.shape == (4, 2)


def test_mode_is_followed_per_metric():
    s = moasha()
    s.on_report(Trial(0, {"x": 0.5}, 0), 1, {"acc": 0.5, "latency": 5.0}, 1.0)
    s.on_report(Trial(1, {"x": 0.4}, 0), 1, {"acc": 0.5, "latency": 5.0}, 1.0)
    # higher accuracy and lower latency dominate: continue; lower accuracy and higher latency: stop
    assert s.on_report(Trial(2, {"x": 0.3}, 0), 1, {"acc": 0.9, "latency": 1.0}, 1.0) == Decision.CONTINUE
    assert s.on_report(Trial(3, {"x": 0.2}, 0), 1, {"acc": 0.1, "latency": 9.0}, 1.0) == Decision.STOP


def test_missing_metric_stops():
    s = moasha()
    assert s.on_report(Trial(0, {"x": 0.5}, 0), 1, {"acc": 0.9, "latency": float("nan")}, 1.0) == Decision.STOP
    assert s.on_report(Trial(1, {"x": 0.5}, 0), 1, {"acc": 0.9}, 1.0) == Decision.STOP


def test_bad_arguments():
    with pytest.raises(MethodError, match="tie_break 'best' is not valid"):
        moasha(tie_break="best")
    with pytest.raises(MethodError, match="multi-objective: it needs at least two metrics"):
        create("MOASHA", SPACE, metric="acc", mode="max", fidelity_values=LEVELS)
    with pytest.raises(MethodError, match="ranks one metric"):
        moasha(searcher="tpe")


@pytest.mark.parametrize("k", [2, 3])
def test_incremental_fronts_match_a_full_sort(k):
    from methods.pareto import non_dominated_sort, priorities

    rng = np.random.default_rng(k)
    rung = MORung(k)
    for i in range(120):
        v = rng.integers(0, 6, size=k).astype(float)        # ties and copies included
        expected = priorities(np.vstack([rung.scores, v]), "eps_net")[-1] if i else 0
        before = rung.position(v)
        rung.record_and_decide(v, 1 / 3)
        assert rung.fronts.tolist() == non_dominated_sort(rung.scores).tolist()
        # the new entry's rank: the entries of earlier fronts, then its place in its front
        fronts = non_dominated_sort(rung.scores)
        assert int(np.count_nonzero(fronts < fronts[-1])) <= before < int(np.count_nonzero(fronts <= fronts[-1]))
        assert before == expected
