"""The adapters built without their problem -- ``OptunaScheduler(sampler, pruner=...)``, as in issue 13 --
and bound by ``simulate`` (``Scheduler.bind``): same runs as ``make_scheduler`` builds."""
from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from methods import MethodError  # noqa: E402
from methods.adapters import OptunaScheduler, SyneTuneScheduler  # noqa: E402
from methods.adapters.synetune_adapter import synetune_space  # noqa: E402
from methods.testing import SchedulerConformance, synthetic_table  # noqa: E402
from simulator import Stop, bind_scheduler, make_scheduler, simulate  # noqa: E402

BB = synthetic_table(60)


def _bound(sched, config_space, fidelity_values, *, metric, mode, seed, candidates):
    assert not sched.bound
    sched.bind(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
               candidates=candidates)
    return sched


class TestOptunaShortForm(SchedulerConformance):
    """The public conformance suite on adapters built in the short form, then bound."""

    method = OptunaScheduler

    def make_scheduler(self, config_space, fidelity_values, *, metric, mode, seed, candidates):
        return _bound(OptunaScheduler(optuna.samplers.RandomSampler(seed=seed), pruner="MedianPruner"),
                      config_space, fidelity_values, metric=metric, mode=mode, seed=seed, candidates=candidates)


class TestSyneTuneShortForm(SchedulerConformance):
    method = SyneTuneScheduler

    def make_scheduler(self, config_space, fidelity_values, *, metric, mode, seed, candidates):
        return _bound(SyneTuneScheduler("ASHA", reduction_factor=3), config_space, fidelity_values,
                      metric=metric, mode=mode, seed=seed, candidates=candidates)


def _rows(res):
    return res.results.drop(columns="decision_time")


def test_the_issue_example_runs_reproducibly_and_as_make_scheduler_builds_it():
    def issue():
        sched = OptunaScheduler(optuna.samplers.TPESampler(seed=0),
                                pruner=optuna.pruners.SuccessiveHalvingPruner())
        assert not sched.bound
        return sched, simulate(BB, sched, n_workers=4, stop=Stop(max_time=3600), seed=0)

    sched, res = issue()
    assert sched.bound and sched.metric == "loss" and sched.max_fidelity == 27
    assert len(sched.study.trials) == res.results["trial_id"].nunique() > 10
    assert "stop" in set(res.results["decision"])                     # the pruner pruned
    assert res.metadata["method"]["name"] == "optuna"
    assert _rows(issue()[1]).equals(_rows(res))
    built = make_scheduler("optuna", BB, sampler=optuna.samplers.TPESampler(seed=0),
                           pruner=optuna.pruners.SuccessiveHalvingPruner())
    assert _rows(simulate(BB, built, n_workers=4, stop=Stop(max_time=3600), seed=0)).equals(_rows(res))


def test_a_sampler_by_name_gets_the_runs_seed_and_the_runs_metric_and_mode():
    a = simulate(BB, OptunaScheduler("RandomSampler"), n_workers=2, stop=Stop(max_trials=8), seed=3)
    b = simulate(BB, make_scheduler("optuna", BB, sampler="RandomSampler", seed=3), n_workers=2,
                 stop=Stop(max_trials=8), seed=3)
    assert _rows(a).equals(_rows(b))
    sched = OptunaScheduler("NSGAIISampler")
    simulate(BB, sched, metric=["loss", "acc"], mode=["min", "max"], n_workers=2, stop=Stop(max_trials=8))
    assert sched.metric == ["loss", "acc"] and [d.name for d in sched.study.directions] == ["MINIMIZE", "MAXIMIZE"]


def test_syne_tune_by_name_and_a_users_instance():
    a = simulate(BB, SyneTuneScheduler("ASHA", grace_period=1, reduction_factor=3), n_workers=2,
                 stop=Stop(max_trials=15), seed=2)
    b = simulate(BB, make_scheduler("synetune", BB, scheduler="ASHA", grace_period=1, reduction_factor=3, seed=2),
                 n_workers=2, stop=Stop(max_trials=15), seed=2)
    assert _rows(a).equals(_rows(b)) and "stop" in set(a.results["decision"])
    from syne_tune.optimizer.baselines import ASHA

    mine = ASHA(synetune_space(BB.configuration_space), metric="loss", time_attr="epoch", max_t=27, random_seed=0)
    res = simulate(BB, SyneTuneScheduler(mine), n_workers=2, stop=Stop(max_trials=10), seed=0)
    assert res.results["trial_id"].nunique() == 10


def test_bound_once():
    sched = OptunaScheduler("RandomSampler")
    bind_scheduler(sched, BB, seed=1)
    assert sched.bound and sched.seed == 1 and len(sched.candidates) == 60
    with pytest.raises(MethodError, match="OptunaScheduler was built with its problem"):
        bind_scheduler(sched, BB)
    with pytest.raises(MethodError, match="RandomSearch was built with its problem"):
        bind_scheduler(make_scheduler("RandomSearch", BB), BB)
    # a bound scheduler is run as it is (not bound again)
    assert simulate(BB, sched, n_workers=1, stop=Stop(max_trials=2)).results["trial_id"].nunique() == 2
