"""BOHB (``methods.bohb``): Syne Tune's defaults, the model's rung, pauses, and search on a known table."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import MethodError, create
from methods.base import Decision, Trial, TrialStatus
from methods.bohb import AsyncBOHB, SyncBOHB
from simulator import Stop, make_scheduler, simulate

F27 = list(range(1, 28))
SPACE = ConfigurationSpace({"x": uniform(0, 1)})
OPTIMUM = np.array([0.3, 0.7])


def test_defaults_follow_syne_tune():
    sync = SyncBOHB(SPACE, metric="loss", fidelity_values=F27)
    assert (sync.levels, sync.brackets, sync.reduction_factor) == ([1, 3, 9, 27], 4, 3)
    for bohb in (sync, AsyncBOHB(SPACE, metric="loss", fidelity_values=F27)):
        s = bohb.searcher
        assert s.names == ("tpe", "kde")
        assert (s.top_n_percent, s.min_bandwidth, s.num_candidates, s.bandwidth_factor, s.random_fraction) == \
            (15, 0.1, 64, 3, 0.33)
        assert s.min_points == 4          # d + 1 = 2 good and 2 bad points for one hyperparameter
    asha = AsyncBOHB(SPACE, metric="loss", fidelity_values=F27)
    assert (asha.type, asha.brackets, asha.levels) == ("stopping", 1, [1, 3, 9, 27])


def test_model_is_fitted_on_the_highest_rung_with_enough_points():
    """Hand-fed observations: 10 at fidelity 1, 4 at 3, 3 at 9; ``min_points`` is 4, so the model
    is fitted at fidelity 3 and its good density holds the best two configurations there."""
    bohb = SyncBOHB(SPACE, metric="loss", fidelity_values=F27, random_fraction=0.0, seed=1)
    s = bohb.searcher
    xs = np.linspace(0.05, 0.95, 10)
    for i, x in enumerate(xs):
        trial = Trial(i, {"x": float(x)})
        s.on_start(trial)
        s.observe(trial, 1, {"loss": abs(x - 0.5)})
    at3 = {0: 0.9, 3: 0.1, 6: 0.2, 9: 0.8}        # the best two at fidelity 3: trials 3 and 6
    for i, loss in at3.items():
        s.observe(Trial(i, {"x": float(xs[i])}), 3, {"loss": loss})
    for i, loss in {3: 0.5, 6: 0.4, 9: 0.1}.items():
        s.observe(Trial(i, {"x": float(xs[i])}), 9, {"loss": loss})
    config = s.next_config()
    assert s.model_fidelity == 3
    assert sorted(s._good.data[:, 0].round(6).tolist()) == sorted(np.round([xs[3], xs[6]], 6).tolist())
    assert 0.0 <= config["x"] <= 1.0
    s.observe(Trial(0, {"x": float(xs[0])}), 9, {"loss": 0.3})     # a 4th point at fidelity 9
    s.next_config()
    assert s.model_fidelity == 9


def test_model_moves_up_the_rungs_during_a_run():
    from methods.testing import synthetic_table

    table = synthetic_table()
    for name, kwargs in (("SyncBOHB", {}), ("AsyncBOHB", {"type": "promotion"})):
        scheduler = make_scheduler(name, table, seed=0, **kwargs)
        searcher = scheduler.searcher
        seen = []
        suggest = searcher.suggest

        def recording(pending, searcher=searcher, suggest=suggest, seen=seen):
            config = suggest(pending)
            fidelity, h = searcher.model_fidelity, searcher.history
            if fidelity is not None:
                assert h.count(fidelity) >= searcher.min_points
                assert not any(h.count(f) >= searcher.min_points for f in h.fidelities if f > fidelity)
                seen.append(fidelity)
            return config

        searcher.suggest = recording
        simulate(table, scheduler, n_workers=4, stop=Stop(max_trials=150), seed=0)
        assert seen == sorted(seen) and len(set(seen)) >= 3, (name, sorted(set(seen)))


def _pending_ids(scheduler) -> set[int]:
    h = scheduler.searcher.history
    ids = {id(c) for c in h.pending_configs()}
    return {t for t, c in h.running.items() if id(c) in ids}


def test_paused_trials_are_not_pending_until_resumed():
    bohb = SyncBOHB(SPACE, metric="loss", fidelity_values=F27, brackets=1)
    trials = []
    for i in range(27):                         # rung 0: 27 trials to fidelity 1
        s = bohb.suggest(0.0)
        trial = Trial(i, s.config, s.meta)
        bohb.on_start(trial)
        trials.append(trial)
    assert _pending_ids(bohb) == set(range(27))
    for trial in trials:
        assert bohb.on_report(trial, 1, {"loss": trial.config["x"]}, 1.0) is Decision.PAUSE
    assert _pending_ids(bohb) == set() and bohb.searcher.history.paused == set(range(27))
    resumed = [bohb.suggest(1.0).resume for _ in range(9)]     # rung 1: the best 9 resume
    assert sorted(resumed) == sorted(sorted(range(27), key=lambda i: trials[i].config["x"])[:9])
    assert _pending_ids(bohb) == set(resumed)
    bohb.on_end(trials[resumed[0]], TrialStatus.FAILED)
    assert resumed[0] not in bohb.searcher.history.running
    assert _pending_ids(bohb) == set(resumed[1:])


def test_async_promotion_pauses_and_resumes_in_the_history():
    bohb = AsyncBOHB(SPACE, metric="loss", fidelity_values=F27, type="promotion")
    trials = []
    for i in range(3):
        s = bohb.suggest(0.0)
        trials.append(Trial(i, s.config, s.meta))
        bohb.on_start(trials[-1])
        assert bohb.on_report(trials[-1], 1, {"loss": [0.5, 0.1, 0.9][i]}, 1.0) is Decision.PAUSE
    assert bohb.searcher.history.paused == {0, 1, 2}
    s = bohb.suggest(2.0)
    assert s.resume == 1 and bohb.searcher.history.paused == {0, 2}
    bohb.on_discard(s)                           # the resumption never ran: paused again
    assert bohb.searcher.history.paused == {0, 1, 2}


def ranked_table() -> TabularBlackbox:
    """A 40 x 40 grid over [0, 1]^2 with fidelities 1..27 whose rankings are the same at every
    fidelity: loss = |config - (0.3, 0.7)|^2 + 1 / fidelity."""
    g = np.linspace(0, 1, 40)
    hp = pd.DataFrame(list(itertools.product(g, g)), columns=["x", "y"])
    final = ((hp[["x", "y"]].to_numpy() - OPTIMUM) ** 2).sum(axis=1)
    loss = final[:, None] + 1.0 / np.asarray(F27)[None, :]
    time = np.broadcast_to(np.asarray(F27, float), loss.shape) * 10.0
    obj = np.stack([loss, time], axis=-1)[:, None].astype(np.float32)
    space = ConfigurationSpace({"x": uniform(0, 1), "y": uniform(0, 1)})
    return TabularBlackbox(hp, obj, F27, ["loss", "time"], configuration_space=space,
                           metric_elapsed_time="time", metric="loss", mode="min")


def _share_near_the_optimum(table, name, seed, **kwargs) -> float:
    """The share of the configurations of trials 27-149 within 0.15 of the optimum (trials 0-26
    are the first rung of synchronous Hyperband, random for every method)."""
    scheduler = make_scheduler(name, table, seed=seed, **kwargs)
    trials = simulate(table, scheduler, n_workers=4, stop=Stop(max_trials=150), seed=seed).trials
    later = trials.sort_values("trial_id").iloc[27:]
    return float((np.linalg.norm(later[["x", "y"]].to_numpy() - OPTIMUM, axis=1) < 0.15).mean())


def test_bohb_concentrates_on_the_good_region_more_than_random():
    """Measured over seeds 0-4 (150 trials, 4 workers): of the configurations of trials 27-149,
    0.61 (0.55-0.64 per seed) lie within 0.15 of the optimum for SyncBOHB, 0.36 (0.24-0.45) for
    AsyncBOHB, 0.065 (0.06-0.08) for synchronous Hyperband with random configurations (the
    disc's share of the grid is 0.07). The grid has 1,600 rows, so the good region is not
    used up (on a 576-row grid it was after about 100 trials)."""
    table = ranked_table()
    seeds = range(5)
    random = np.mean([_share_near_the_optimum(table, "SyncHyperband", s) for s in seeds])
    sync = np.mean([_share_near_the_optimum(table, "SyncBOHB", s) for s in seeds])
    asynchronous = np.mean([_share_near_the_optimum(table, "AsyncBOHB", s) for s in seeds])
    assert sync > 3 * random and asynchronous > 3 * random, (sync, asynchronous, random)
    blind = np.mean([_share_near_the_optimum(table, "SyncBOHB", s, random_fraction=1.0) for s in seeds])
    assert not blind > 3 * random


def test_deterministic_under_a_seed():
    table = ranked_table()

    def results(name, seed):
        scheduler = make_scheduler(name, table, seed=seed)
        res = simulate(table, scheduler, n_workers=4, stop=Stop(max_trials=80), seed=seed)
        return res.results.drop(columns="decision_time")

    for name in ("SyncBOHB", "AsyncBOHB"):
        assert results(name, 3).equals(results(name, 3))
        assert not results(name, 3).equals(results(name, 4))


@pytest.mark.parametrize("name, kwargs, words", [
    ("SyncBOHB", {"brackets": 5}, ["brackets=5", "1..4"]),
    ("SyncBOHB", {"reduction_factor": 1}, ["reduction_factor", "> 1", "1"]),
    ("SyncBOHB", {"min_bandwidth": 0}, ["min_bandwidth", "0"]),
    ("AsyncBOHB", {"type": "median"}, ["type", "'median'", "stopping", "promotion"]),
    ("AsyncBOHB", {"brackets": 6}, ["brackets=6", "1..4"]),
    ("AsyncBOHB", {"searcher": "random"}, ["searcher"]),
])
def test_bad_arguments_name_the_value(name, kwargs, words):
    with pytest.raises(MethodError) as e:
        create(name, SPACE, metric="loss", fidelity_values=F27, **kwargs)
    assert all(w in str(e.value) for w in words), str(e.value)
