from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import MethodError, create
from methods.pasha import PASHA, noisy_pair_distances, rankings_agree
from methods.testing import SchedulerConformance
from simulator import Stop, simulate

F27 = np.arange(1, 28)
SPACE = ConfigurationSpace({"x": uniform(0, 1)})


def table(loss: np.ndarray, metric: str = "loss", mode: str = "min") -> TabularBlackbox:
    """A one-seed table of ``loss`` (configs x fidelities 1..27) as objective ``metric``; each
    epoch takes 1 + x/10 seconds."""
    n = loss.shape[0]
    x = np.linspace(0.0, 1.0, n)
    time = np.outer(1.0 + x / 10, F27)
    objectives = np.stack([loss, time], axis=-1)[:, None, :, :].astype(np.float32)
    return TabularBlackbox(pd.DataFrame({"x": x}), objectives, F27.tolist(), [metric, "time"],
                           configuration_space=SPACE, metric_elapsed_time="time", metric=metric, mode=mode)


def run(bb: TabularBlackbox, max_trials: int = 60, seed: int = 0, **kwargs):
    pasha = PASHA(bb.configuration_space, metric=bb.metric, mode=bb.mode, fidelity_values=bb.fidelity_values,
                  seed=seed, candidates=bb.configs(), **kwargs)
    result = simulate(bb, pasha, n_workers=4, stop=Stop(max_trials=max_trials), seed=seed)
    return pasha, result.results


def test_defaults_follow_syne_tune():
    p = PASHA(SPACE, metric="loss", fidelity_values=F27)
    assert (p.reduction_factor, p.grace_period, p.levels, p.type, p.brackets) == (3, 1, [1, 3, 9, 27], "promotion", 1)
    assert p.current_max_fidelity == 3 and p.epsilon == 0.0 and p.searcher.names == ("random",)


def test_rankings_identical_at_every_fidelity_keep_the_first_two_rungs():
    # parallel curves: the ranking is the same at every fidelity, no pair ever swaps
    rng = np.random.default_rng(1)
    loss = rng.permutation(80)[:, None] / 80 + 1.0 / F27[None, :]
    pasha, res = run(table(loss))
    assert pasha.current_max_fidelity == 3 and pasha.max_index == 1
    assert int(res["fidelity"].max()) == 3
    assert pasha.epsilon == 0.0
    assert (res["decision"] == "pause").sum() > 0


def test_rankings_that_change_between_fidelities_grow_to_the_maximum():
    # straight lines in log(fidelity) with random slopes: pairs cross (once), rankings change
    rng = np.random.default_rng(2)
    a, b = rng.random((2, 80, 1))
    loss = a + (b - 0.5) * 2 * np.log(F27)[None, :] / np.log(27)
    pasha, res = run(table(loss), max_trials=80)
    assert pasha.current_max_fidelity == 27 and pasha.max_index == 3
    assert (res["fidelity"] == 27).any()
    assert pasha.epsilon == 0.0            # lines cross at most once: no pair flips twice


def test_soft_ranking_by_hand():
    previous = {7: 0.30, 8: 0.31, 9: 0.50}
    assert rankings_agree([7, 8, 9], previous, epsilon=0.0)
    assert not rankings_agree([8, 7, 9], previous, epsilon=0.0)
    assert rankings_agree([8, 7, 9], previous, epsilon=0.01)      # 0.30 and 0.31 are one group
    assert not rankings_agree([9, 7, 8], previous, epsilon=0.1)
    assert rankings_agree([9], {9: 0.5}, epsilon=0.0)


def test_noisy_pairs_by_hand():
    # pair (0, 1): at index 3 0 > 1 (False: 1 < 4); index 2: 2 > 1 (reversed); index 1: 2 < 5 (held) -> noisy
    # pair (0, 2): 2 stops at index 1 <= low -> not looked at; pair (1, 2): likewise
    curves = [[1.0, 2.0, 2.0, 1.0], [3.0, 5.0, 1.0, 4.0], [0.0, 0.5]]
    assert noisy_pair_distances(curves, low=1, high=3) == [3.0]
    # capped at high = 2: at index 2, 2 > 1; below: 2 < 5 (reversed), 1 < 3 (reversed) -> not noisy
    assert noisy_pair_distances(curves, low=1, high=2) == []


def test_epsilon_is_estimated_from_curves_that_flip_twice(make_trial):
    p = PASHA(SPACE, metric="loss", fidelity_values=F27)
    # three trials reach rung 3 through rung 1, then two of them rung 9
    curves = {0: [0.1, 0.3, 0.2, 0.5, 0.4, 0.5, 0.4, 0.5, 0.4],
              1: [0.2, 0.2, 0.3, 0.4, 0.5, 0.4, 0.5, 0.4, 0.6],
              2: [0.9] * 9}
    p.max_index = 2                       # watch rungs 9 and 3
    for tid, curve in curves.items():
        trial = make_trial(tid, 0)
        p.on_report(trial, 1, {"loss": curve[0]}, 0.0)
        p.on_skipped_reports(trial, [2], {"loss": np.array(curve[1:2])})
        p.on_report(trial, 3, {"loss": curve[2]}, 0.0)
    for tid in (0, 1):
        p.on_skipped_reports(make_trial(tid, 0), list(range(4, 9)), {"loss": np.array(curves[tid][3:8])})
        p.on_report(make_trial(tid, 0), 9, {"loss": curves[tid][8]}, 0.0)
    # pair (0, 1) at fidelity 9: 0.4 < 0.6; reversed at 8 (0.5 > 0.4), held at 7 (0.4 < 0.5) -> noisy
    assert p.epsilon == pytest.approx(0.2)


def test_mode_max_on_the_negated_metric_decides_alike():
    rng = np.random.default_rng(3)
    a, b = rng.random((2, 60, 1))
    loss = a + (b - 0.5) * np.log(F27)[None, :]
    low, res_low = run(table(loss))
    high, res_high = run(table(-loss, metric="acc", mode="max"))
    assert (low.max_index, low.epsilon) == (high.max_index, high.epsilon)
    cols = ["trial_id", "fidelity", "time", "decision"]
    assert res_low[cols].equals(res_high[cols])


def test_same_seed_same_run():
    rng = np.random.default_rng(4)
    loss = rng.random((50, 1)) + rng.normal(0, 0.05, (50, 27))
    _, first = run(table(loss), seed=5)
    _, again = run(table(loss), seed=5)
    cols = ["trial_id", "fidelity", "loss", "time", "decision"]
    assert first[cols].equals(again[cols])


def test_one_rung_below_the_maximum_is_asha_with_promotion():
    p = PASHA(SPACE, metric="loss", fidelity_values=[1, 3])
    assert p.levels == [1, 3] and p.current_max_fidelity == 3


@pytest.mark.parametrize("kwargs, words", [
    ({"reduction_factor": 1}, "reduction_factor"),
    ({"grace_period": 30}, "grace_period"),
    ({"max_fidelity": 10.5}, "max_fidelity"),
    ({"brackets": 2}, "brackets"),
    ({"type": "stopping"}, "type"),
])
def test_bad_arguments_fail_before_the_run(kwargs, words):
    with pytest.raises(MethodError, match=words):
        create("PASHA", SPACE, metric="loss", fidelity_values=F27, **kwargs)


class TestPASHAWithTPE(SchedulerConformance):
    """PASHA with a model-based searcher passes the conformance suite too."""

    method = "PASHA"
    method_args = {"searcher": "tpe"}
