"""Bad input to the adapters from Python: refused when the scheduler is built, before any run, naming
what is allowed (issue 13, requirement 6). The command line and the study spec: tests/studies/."""
from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("syne_tune")

from blackbox_repo.errors import InputError  # noqa: E402
from methods import MethodError  # noqa: E402
from methods.adapters import OptunaScheduler, SyneTuneScheduler  # noqa: E402
from methods.adapters.synetune_adapter import synetune_space  # noqa: E402
from methods.testing import synthetic_table  # noqa: E402
from simulator import Stop, make_scheduler, simulate  # noqa: E402

BB = synthetic_table(40)          # objectives loss (min), acc, time, size


@pytest.mark.parametrize("kwargs,needle", [
    ({"sampler": "TPESamplr"}, r"Optuna sampler 'TPESamplr' is not valid; allowed: \[.*'NSGAIISampler'.*'RandomSampler', "
                               r"'TPESampler'\].*Did you mean 'TPESampler'\?"),
    ({"pruner": "Hyperbnd"}, r"Optuna pruner 'Hyperbnd' is not valid; allowed: \[.*'HyperbandPruner'.*"
                             r"'SuccessiveHalvingPruner'.*\]"),
    ({"sampler_args": {"n_startup": 3}}, r"TPESampler does not take argument\(s\) \['n_startup'\]; valid arguments: .*"
                                         r"did you mean 'n_startup_trials'\?"),
    ({"pruner": "MedianPruner", "pruner_args": {"warmup": 2}}, r"MedianPruner does not take .*'warmup'.*n_warmup_steps"),
    ({"pruner_args": {"min_resource": 1}}, "pruner_args given without a pruner"),
    ({"sampler": "GPSampler"}, r"GPSampler needs \['torch'\].*or use another sampler"),
    ({"sampler": "BruteForceSampler"}, "BruteForceSampler cannot run this study: FloatDistribution.step must be given"),
])
def test_optuna_names_and_arguments(kwargs, needle):
    if kwargs.get("sampler") == "GPSampler":
        pytest.importorskip("scipy")
        import importlib.util
        if importlib.util.find_spec("torch") is not None:
            pytest.skip("torch is installed: GPSampler can run")
    with pytest.raises(MethodError, match=needle):
        make_scheduler("optuna", BB, **kwargs)


@pytest.mark.parametrize("kwargs,needle", [
    ({"scheduler": "ASHAA"}, r"Syne Tune scheduler 'ASHAA' is not valid; allowed: \['ASHA', .*'MOASHA'.*'RandomSearch'"
                             r".*Did you mean 'ASHA'\?"),
    ({"scheduler": "RandomSearch", "grace_period": 2}, r"RandomSearch does not take 'grace_period'; it takes "
                                                       r"\['points_to_evaluate'\]"),
    ({"scheduler": "ASHA", "scheduler_args": {"foo": 1}}, r"ASHA does not take argument\(s\) \['foo'\]; valid arguments: "
                                                          r"\[.*'reduction_factor', 'time_attr'\]"),
    ({"scheduler": "ASHA", "scheduler_args": {"metric": "acc"}}, r"scheduler_args \['metric'\] are set by hposim.*"
                                                                 r"--metric/--mode; a benchmark's metric:/mode:"),
    ({"scheduler": "ASHA", "scheduler_args": {"do_minimize": False}}, r"scheduler_args \['do_minimize'\] are set by "
                                                                       r"hposim"),
])
def test_syne_tune_names_and_arguments(kwargs, needle):
    with pytest.raises(MethodError, match=needle):
        make_scheduler("synetune", BB, **kwargs)


def test_a_syne_tune_scheduler_optimizing_another_metric_is_refused_before_the_run():
    from syne_tune.optimizer.baselines import ASHA

    mine = ASHA(synetune_space(BB.configuration_space), metric="accuracy", time_attr="epoch", max_t=27,
                random_seed=0)
    with pytest.raises(MethodError, match=r"optimizes \['accuracy'\], but this run's metric\(s\) are \['loss'\]: give "
                                          r"the run the scheduler's metric\(s\) \(metric=, --metric"):
        make_scheduler("synetune", BB, scheduler=mine)
    # the run's metric, given as the scheduler's, must be an objective of the blackbox: the objectives are named
    with pytest.raises(InputError, match=r"metric 'accuracy' is not an objective of this blackbox; objectives: "
                                         r"\['loss', 'acc', 'time', 'size'\]"):
        make_scheduler("synetune", BB, scheduler=mine, metric="accuracy")
    minimizes_acc = ASHA(synetune_space(BB.configuration_space), metric="acc", time_attr="epoch", max_t=27)
    with pytest.raises(MethodError, match=r"has do_minimize=True, but this run's mode is 'max': give the run "
                                          r"mode='min' \(--mode min\)"):
        make_scheduler("synetune", BB, scheduler=minimizes_acc, metric="acc", mode="max")
    # unbound, the same check runs when simulate binds it
    with pytest.raises(MethodError, match=r"optimizes \['accuracy'\]"):
        simulate(BB, SyneTuneScheduler(mine), n_workers=2, stop=Stop(max_trials=3))


def test_objective_counts():
    with pytest.raises(MethodError, match=r"Syne Tune scheduler ASHA optimizes one metric, got 2: \['loss', 'size'\]; "
                                          r"give one metric, or use a multi-objective Syne Tune scheduler: \['MOASHA'\]"):
        make_scheduler("synetune", BB, scheduler="ASHA", metric="loss,size", mode="min,min")
    with pytest.raises(MethodError, match=r"Syne Tune scheduler MOASHA is multi-objective: it needs at least two "
                                          r"metrics.*got \['loss'\]"):
        make_scheduler("synetune", BB, scheduler="MOASHA")
    with pytest.raises(MethodError, match=r"method 'MOASHA' is multi-objective: it needs at least two metrics"):
        make_scheduler("MOASHA", BB)
    with pytest.raises(MethodError, match=r"method 'ASHA' optimizes one metric, got 2"):
        make_scheduler("ASHA", BB, metric="loss,size", mode="min,min")
    with pytest.raises(MethodError, match=r"Optuna's pruners work on single-objective studies only.*give one metric, "
                                          r"or no pruner"):
        make_scheduler("optuna", BB, pruner="MedianPruner", metric="loss,size", mode="min,min")
    with pytest.raises(MethodError, match=r"CmaEsSampler"):        # not installed (cmaes), or no multi-objective
        make_scheduler("optuna", BB, sampler="CmaEsSampler", metric="loss,size", mode="min,min")
    for method, args in (("optuna", {}), ("synetune", {"scheduler": "MOASHA"}), ("MOASHA", {})):
        with pytest.raises(MethodError, match=r"2 metrics \['loss', 'size'\] but 3 modes \['min', 'min', 'max'\]; "
                                              r"give one mode per metric"):
            make_scheduler(method, BB, metric="loss,size", mode="min,min,max", **args)
    with pytest.raises(MethodError, match=r"several metrics \('loss,size'\) need one mode each"):
        make_scheduler("optuna", BB, metric="loss,size")


def test_the_short_form_checks_names_at_once_and_the_problem_when_bound():
    with pytest.raises(MethodError, match=r"Optuna sampler 'TPE' is not valid; allowed"):
        OptunaScheduler("TPE")
    with pytest.raises(MethodError, match=r"Syne Tune scheduler 'Hyperband' is not valid; allowed"):
        SyneTuneScheduler("Hyperband")
    with pytest.raises(MethodError, match=r"ASHA does not take argument\(s\) \['gracePeriod'\]"):
        SyneTuneScheduler("ASHA", scheduler_args={"gracePeriod": 1})
    with pytest.raises(MethodError, match="the sampler is given twice"):
        OptunaScheduler("TPESampler", sampler="RandomSampler")
    with pytest.raises(MethodError, match=r"\['metric'\] given without a configuration space"):
        OptunaScheduler(optuna.samplers.RandomSampler(seed=0), metric="loss")
    with pytest.raises(MethodError, match=r"Optuna's pruners work on single-objective studies only"):
        simulate(BB, OptunaScheduler("RandomSampler", pruner="MedianPruner"), metric="loss,size", mode="min,min",
                 stop=Stop(max_trials=3))
    with pytest.raises(MethodError, match="has no problem yet: simulate"):
        OptunaScheduler("RandomSampler").suggest(0.0)


def test_multi_objective_adapters_run():
    res = simulate(BB, make_scheduler("optuna", BB, sampler="NSGAIISampler", metric="loss,acc", mode="min,max",
                                      seed=1), n_workers=2, stop=Stop(max_trials=12), seed=1)
    sched_trials = res.results["trial_id"].nunique()
    assert sched_trials == 12 and res.metadata["metrics"] == ["loss", "acc"]
    st = make_scheduler("synetune", BB, scheduler="MOASHA", metric="loss,acc", mode="min,max", seed=1)
    assert st.scheduler.metrics == ["loss", "acc"] and st.scheduler.do_minimize is True   # "acc" told negated
    res = simulate(BB, st, n_workers=2, stop=Stop(max_trials=30), seed=1)
    assert res.results["trial_id"].nunique() == 30
    assert "stop" in set(res.results["decision"])            # MOASHA stops trials at its rungs
    level, recorded = st.scheduler.brackets[0].rungs[-1]      # the first rung: what Syne Tune was told
    first = res.results[res.results["fidelity"] == level].set_index("trial_id")
    assert recorded and all(v["loss"] == pytest.approx(first.loc[t, "loss"])
                            and v["acc"] == pytest.approx(-first.loc[t, "acc"]) for t, v in recorded.items())
