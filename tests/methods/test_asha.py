from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import Decision, MethodError, TrialStatus, create
from methods.asha import ASHA

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
F81 = list(range(1, 82))
F9 = list(range(1, 10))


def asha(mode="min", fidelities=F81, **kw):
    return ASHA(SPACE, metric="loss", mode=mode, fidelity_values=fidelities, seed=0, **kw)


def test_defaults_and_rung_levels():
    a = asha()
    assert (a.type, a.reduction_factor, a.brackets, a.grace_period) == ("stopping", 3, 1, 1)
    assert a.report_levels() == [1, 3, 9, 27, 81]
    assert asha(grace_period=3, max_fidelity=27).report_levels() == [3, 9, 27]


def test_stopping_starts_trials_towards_the_maximum():
    s = asha().suggest(0.0)
    assert s.config is not None and s.max_fidelity == 81 and s.meta == 0


@pytest.mark.parametrize("mode, sign", [("min", 1), ("max", -1)])
def test_stopping_decisions_on_a_known_sequence(make_trial, mode, sign):
    a = asha(mode=mode)
    values = [5, 3, 4, 1, 6, 2]
    got = [a.on_report(make_trial(i, 0), 3, {"loss": sign * v}, 0.0) for i, v in enumerate(values)]
    # top third of the values recorded so far at the rung, own value included
    assert got == [Decision.CONTINUE, Decision.CONTINUE, Decision.STOP,
                   Decision.CONTINUE, Decision.STOP, Decision.CONTINUE]


def test_stopping_rungs_are_independent_and_other_levels_pass(make_trial):
    a = asha()
    assert a.on_report(make_trial(0, 0), 1, {"loss": 9.0}, 0) == Decision.CONTINUE
    assert a.on_report(make_trial(1, 0), 1, {"loss": 1.0}, 0) == Decision.CONTINUE
    assert a.on_report(make_trial(2, 0), 1, {"loss": 5.0}, 0) == Decision.STOP
    # rung 3 has its own records
    assert a.on_report(make_trial(0, 0), 3, {"loss": 9.0}, 0) == Decision.CONTINUE
    # levels that are no rung never stop, whatever the value
    assert a.on_report(make_trial(3, 0), 2, {"loss": 100.0}, 0) == Decision.CONTINUE
    assert a.on_report(make_trial(3, 0), 81, {"loss": 100.0}, 0) == Decision.CONTINUE


def test_missing_or_nan_metric_stops(make_trial):
    a = asha()
    assert a.on_report(make_trial(0, 0), 1, {"loss": float("nan")}, 0) == Decision.STOP
    assert a.on_report(make_trial(1, 0), 1, {"other": 1.0}, 0) == Decision.STOP
    # and is not recorded: the next trial is alone at the rung
    assert a.on_report(make_trial(2, 0), 1, {"loss": 50.0}, 0) == Decision.CONTINUE


def test_promotion_order(make_trial):
    a = asha(fidelities=F9, type="promotion")      # rungs 1, 3, 9
    starts = [a.suggest(0.0) for _ in range(3)]
    assert [s.max_fidelity for s in starts] == [1, 1, 1]
    for tid, v in enumerate([0.5, 0.2, 0.9]):
        assert a.on_report(make_trial(tid, 0), 1, {"loss": v}, 0) == Decision.PAUSE
    s = a.suggest(0.0)
    assert (s.resume, s.max_fidelity) == (1, 3)        # best of 3 at rung 1
    s = a.suggest(0.0)
    assert s.config is not None and s.max_fidelity == 1  # nothing else in the top third
    a.on_report(make_trial(3, 0), 1, {"loss": 0.1}, 0)
    s = a.suggest(0.0)
    assert (s.resume, s.max_fidelity) == (3, 3)
    # rung 3: trials 1 and 3, then three more reach it; rung 1 gets two more trials too
    a.on_report(make_trial(1, 0), 3, {"loss": 0.15}, 0)
    a.on_report(make_trial(3, 0), 3, {"loss": 0.05}, 0)
    for tid, v in [(4, 0.3), (5, 0.35)]:
        a.on_report(make_trial(tid, 0), 1, {"loss": v}, 0)
    a.on_report(make_trial(6, 0), 3, {"loss": 0.4}, 0)
    # highest rung first: trial 3 (best of 3 at rung 3) goes to 9 before anyone else
    s = a.suggest(0.0)
    assert (s.resume, s.max_fidelity) == (3, 9)
    # rung 3: top 1 of 3 is promoted already; rung 1: top 2 of 6 (trials 3, 1) likewise
    s = a.suggest(0.0)
    assert s.config is not None and s.max_fidelity == 1
    a.on_report(make_trial(7, 0), 1, {"loss": 0.25}, 0)
    a.on_report(make_trial(8, 0), 1, {"loss": 0.95}, 0)
    assert a.suggest(0.0).config is not None            # 8 at rung 1: still top 2 only
    a.on_report(make_trial(9, 0), 1, {"loss": 0.6}, 0)
    # 9 at rung 1: top 3 = trials 3, 1, 7 -> 7 can go
    s = a.suggest(0.0)
    assert (s.resume, s.max_fidelity) == (7, 3)
    assert a.on_report(make_trial(3, 0), 9, {"loss": 0.01}, 0) == Decision.CONTINUE


def test_promotion_respects_mode_max(make_trial):
    a = asha(fidelities=F9, type="promotion", mode="max")
    for _ in range(3):
        a.suggest(0.0)
    for tid, v in enumerate([0.5, 0.2, 0.9]):
        a.on_report(make_trial(tid, 0), 1, {"acc": v, "loss": v}, 0)
    a2 = ASHA(SPACE, metric="acc", mode="max", fidelity_values=F9, type="promotion")
    for _ in range(3):
        a2.suggest(0.0)
    for tid, v in enumerate([0.5, 0.2, 0.9]):
        a2.on_report(make_trial(tid, 0), 1, {"acc": v}, 0)
    assert a.suggest(0.0).resume == 2 and a2.suggest(0.0).resume == 2


def test_promotion_never_resumes_ended_trials(make_trial):
    a = asha(fidelities=F9, type="promotion")
    for _ in range(3):
        a.suggest(0.0)
    for tid, v in enumerate([0.5, 0.2, 0.9]):
        a.on_report(make_trial(tid, 0), 1, {"loss": v}, 0)
    a.on_end(make_trial(1, 0), TrialStatus.STOPPED)
    s = a.suggest(0.0)
    assert s.resume is None and s.max_fidelity == 1


def test_failed_trials_never_reach_a_rung(make_trial):
    a = asha(fidelities=F9, type="promotion")
    for _ in range(4):
        a.suggest(0.0)
    a.on_end(make_trial(0, 0), TrialStatus.FAILED)      # failed before level 1
    for tid, v in [(1, 0.5), (2, 0.2)]:
        a.on_report(make_trial(tid, 0), 1, {"loss": v}, 0)
    # only 2 recorded: nothing promotable yet
    assert a.suggest(0.0).resume is None
    a.on_report(make_trial(3, 0), 1, {"loss": 0.3}, 0)
    assert a.suggest(0.0).resume == 2


def test_async_hyperband_brackets():
    a = asha(type="promotion", brackets=5)
    draws = [a.suggest(0.0) for _ in range(20000)]
    counts = Counter(s.meta for s in draws)
    p = np.array([counts[b] for b in range(5)]) / 20000
    expected = np.array([81, 33.75, 15, 7.5, 5]) / 142.25
    np.testing.assert_allclose(p, expected, atol=0.015)
    # bracket b starts at its own lowest rung
    assert {s.meta: s.max_fidelity for s in draws} == {0: 1, 1: 3, 2: 9, 3: 27, 4: 81}


def test_async_hyperband_bracket_rungs_are_separate(make_trial):
    a = asha(brackets=2)
    # bracket 1 does not decide at level 1 (its lowest rung is 3)
    assert a.on_report(make_trial(0, 1), 1, {"loss": 9.0}, 0) == Decision.CONTINUE
    assert a.on_report(make_trial(1, 1), 3, {"loss": 1.0}, 0) == Decision.CONTINUE
    assert a.on_report(make_trial(2, 1), 3, {"loss": 2.0}, 0) == Decision.STOP
    # bracket 0 has its own record at level 3
    assert a.on_report(make_trial(3, 0), 3, {"loss": 2.0}, 0) == Decision.CONTINUE


def test_same_seed_same_decisions():
    def seq(seed):
        a = ASHA(SPACE, metric="loss", fidelity_values=F81, seed=seed, brackets=3)
        return [(s.config["x"], s.meta) for s in (a.suggest(0.0) for _ in range(50))]
    assert seq(1) == seq(1)
    assert seq(1) != seq(2)


def test_candidates_are_used_without_replacement():
    cands = [{"x": i / 10} for i in range(10)]
    a = ASHA(SPACE, metric="loss", fidelity_values=F9, candidates=cands, type="promotion")
    got = [a.suggest(0.0) for _ in range(11)]
    assert sorted(s.config["x"] for s in got[:10]) == [c["x"] for c in cands]
    assert got[10] is None


@pytest.mark.parametrize("kwargs, message", [
    ({"type": "stoping"}, "type 'stoping' is not valid; allowed: \\['stopping', 'promotion'\\]"),
    ({"brackets": 6}, "brackets=6 is not valid"),
    ({"grace_period": 100}, "grace_period=100 is above"),
    ({"max_fidelity": 100}, "max_fidelity=100 is not a tabulated"),
    ({"reduction_factor": 0.5}, "reduction_factor"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(MethodError, match=message):
        asha(**kwargs)


def test_created_by_name_with_argument_check():
    a = create("ASHA", SPACE, metric="loss", fidelity_values=F9, type="promotion", reduction_factor=2)
    assert a.report_levels() == [1, 2, 4, 8, 9]
    with pytest.raises(MethodError, match="did you mean 'grace_period'"):
        create("ASHA", SPACE, metric="loss", fidelity_values=F9, grace_perod=1)
