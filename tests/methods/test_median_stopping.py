from __future__ import annotations

import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import Decision, MethodError, create
from methods.median_stopping import MedianStopping

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
C, S = Decision.CONTINUE, Decision.STOP


def rule(**kw):
    return MedianStopping(SPACE, metric="loss", fidelity_values=[1, 2, 3, 4], seed=0, **kw)


def test_defaults_and_full_fidelity_starts():
    ms = rule()
    assert (ms.grace_period, ms.min_samples) == (1, 3)
    assert ms.report_levels() is None
    s = ms.suggest(0.0)
    assert s.config is not None and s.max_fidelity == 4


@pytest.mark.parametrize("mode, sign", [("min", 1.0), ("max", -1.0)])
def test_median_of_others_after_min_samples(make_trial, mode, sign):
    ms = MedianStopping(SPACE, metric="loss", mode=mode, fidelity_values=[1, 2], seed=0)
    got = [ms.on_report(make_trial(i), 1, {"loss": sign * v}, 0.0)
           for i, v in enumerate([1.0, 2.0, 3.0, 2.5, 2.0])]
    # fewer than 3 others for the first three; then median(1, 2, 3) = 2 and median(1, 2, 2.5, 3) = 2.25
    assert got == [C, C, C, S, C]


def test_best_so_far_against_running_averages(make_trial):
    ms = rule()
    curves = {0: [1.0, 0.5], 1: [2.0, 1.0], 2: [3.0, 0.2]}     # running averages at 2: .75, 1.5, 1.6
    for f in (1, 2):
        for tid, c in curves.items():
            ms.on_report(make_trial(tid), f, {"loss": c[f - 1]}, 0.0)
    # trial 3: best so far 0.9 < median 1.5 although its value at 2 (1.4) is worse than two others'
    assert ms.on_report(make_trial(3), 1, {"loss": 0.9}, 0.0) == C
    assert ms.on_report(make_trial(3), 2, {"loss": 1.4}, 0.0) == C
    # trial 4: 1.4 < median(0.9, 1, 2, 3) = 1.5 at level 1; at level 2 its best so far, 1.4, is
    # above the median of the four others' averages (0.75, 1.15, 1.5, 1.6) = 1.325
    assert ms.on_report(make_trial(4), 1, {"loss": 1.4}, 0.0) == C
    assert ms.on_report(make_trial(4), 2, {"loss": 1.5}, 0.0) == S


def test_grace_period_and_min_samples(make_trial):
    ms = rule(grace_period=2, min_samples=1)
    assert ms.on_report(make_trial(0), 1, {"loss": 1.0}, 0.0) == C
    assert ms.on_report(make_trial(1), 1, {"loss": 9.0}, 0.0) == C   # below the grace period
    assert ms.on_report(make_trial(0), 2, {"loss": 1.0}, 0.0) == C
    assert ms.on_report(make_trial(1), 2, {"loss": 9.0}, 0.0) == S


def test_nan_stops(make_trial):
    assert rule().on_report(make_trial(0), 1, {"loss": float("nan")}, 0.0) == S


@pytest.mark.parametrize("kwargs, message", [
    ({"min_samples": 0}, "min_samples must be an integer >= 1, got 0"),
    ({"grace_period": "a"}, "grace_period must be a fidelity > 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(MethodError, match=message):
        create("MedianStopping", SPACE, metric="loss", **kwargs)


def test_numpy_arguments_are_accepted():
    import numpy as np
    ms = create("MedianStopping", SPACE, metric="loss", fidelity_values=[1, 2, 3], grace_period=np.int64(2),
                min_samples=np.int64(4))
    assert (ms.grace_period, ms.min_samples) == (2, 4) and type(ms.min_samples) is int


@pytest.mark.parametrize("grace", [100, 5, -5, 0, float("nan"), "2", True])
def test_grace_period_outside_the_fidelity_range_is_rejected(grace):
    with pytest.raises(MethodError, match=r"grace_period must be a fidelity > 0 and <= the largest fidelity 4 "
                                          r"\(fidelities: 1..4\), got"):
        rule(grace_period=grace)


def test_grace_period_between_fidelities_and_below_the_smallest_is_accepted():
    assert rule(grace_period=2.5).grace_period == 2.5
    assert rule(grace_period=0.5).grace_period == 0.5
    assert rule(grace_period=4).grace_period == 4
