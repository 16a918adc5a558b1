"""OptunaScheduler with the real Optuna: conformance, translation, pruning, telling, seeding, tables."""
from __future__ import annotations

import pytest

optuna = pytest.importorskip("optuna")

from blackbox_repo.configspace import (ConfigurationSpace, choice, constant, loguniform, lograndint,  # noqa: E402
                                       ordinal, randint, uniform)
from methods import Decision, MethodError, Trial, TrialStatus, create  # noqa: E402
from methods.adapters import OptunaScheduler  # noqa: E402
from methods.adapters.optuna_adapter import optuna_distributions  # noqa: E402
from methods.testing import SchedulerConformance, synthetic_table  # noqa: E402
from simulator import Stop, make_scheduler, simulate  # noqa: E402

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
F27 = list(range(1, 28))


class TestOptunaRandomSuccessiveHalving(SchedulerConformance):
    method = "optuna"
    method_args = {"sampler": "RandomSampler", "pruner": "SuccessiveHalvingPruner"}


class TestOptunaTPEHyperband(SchedulerConformance):
    method = "optuna"
    method_args = {"sampler": "TPESampler", "pruner": "HyperbandPruner", "pruner_args": {"min_resource": 1}}


class TestOptunaNSGA2Median(SchedulerConformance):
    method = "optuna"
    method_args = {"sampler": "NSGAIISampler", "sampler_args": {"population_size": 8}, "pruner": "MedianPruner"}


class TestOptunaSamplerInstance(SchedulerConformance):
    """A sampler instance, as an Optuna user passes it (its own seed makes runs reproducible)."""

    method = OptunaScheduler
    supports_candidates = True

    def make_scheduler(self, config_space, fidelity_values, *, metric, mode, seed, candidates):
        return OptunaScheduler(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                               candidates=candidates, sampler=optuna.samplers.TPESampler(seed=7),
                               pruner=optuna.pruners.PercentilePruner(50.0))


def test_every_domain_kind_is_translated_and_ordinals_keep_their_order():
    space = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "x": uniform(-1, 1), "n": randint(1, 8),
                                "m": lograndint(1, 1024), "act": choice(["relu", "tanh"]),
                                "w": ordinal([16, 32, 64]), "opt": constant("adam")})
    dists, constants = optuna_distributions(space)
    D = optuna.distributions
    assert dists["lr"] == D.FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["x"] == D.FloatDistribution(-1, 1)
    assert dists["n"] == D.IntDistribution(1, 8) and dists["m"] == D.IntDistribution(1, 1024, log=True)
    assert dists["act"] == D.CategoricalDistribution(["relu", "tanh"])
    assert dists["w"] == D.IntDistribution(0, 2)
    assert constants == {"opt": "adam"} and "opt" not in dists
    sched = OptunaScheduler(space, metric="loss", sampler="RandomSampler")
    configs = []
    for i in range(30):
        s = sched.suggest(0.0)
        space.validate(s.config)
        sched.on_start(Trial(i, s.config))
        configs.append(s.config)
    # the ordinal's values come back (not indices), and Optuna recorded the index
    assert {c["w"] for c in configs} <= {16, 32, 64} and len({c["w"] for c in configs}) > 1
    for otrial, c in zip(sched.study.trials, configs):
        assert [16, 32, 64][otrial.params["w"]] == c["w"] and otrial.params["act"] == c["act"]


def _drive(sched, values, fidelity=1):
    """Start one trial per value and report it at ``fidelity``; the decisions."""
    out = []
    for i, v in enumerate(values):
        s = sched.suggest(float(i))
        trial = Trial(i, s.config)
        sched.on_start(trial)
        out.append(sched.on_report(trial, fidelity, {"loss": v}, float(i)))
    return out


@pytest.mark.parametrize("mode, sign", [("min", 1.0), ("max", -1.0)])
def test_reports_go_to_the_pruner_and_its_answer_is_the_decision(mode, sign):
    # MedianPruner without warm-up: a trial is pruned at a step when its value is worse than the median of the
    # other trials' values at that step (there must be n_startup_trials=1 completed trials first)
    sched = OptunaScheduler(SPACE, metric="loss", mode=mode, fidelity_values=F27, sampler="RandomSampler",
                            pruner="MedianPruner", pruner_args={"n_startup_trials": 1, "n_warmup_steps": 0})
    first = _drive(sched, [sign * 0.5])
    assert first == [Decision.CONTINUE]
    sched.on_report(Trial(0, {}), 27, {"loss": sign * 0.4}, 1.0)
    sched.on_end(Trial(0, {}), TrialStatus.COMPLETED)
    assert sched.study.trials[0].value == pytest.approx(sign * 0.4)
    s = sched.suggest(2.0)
    worse, better = Trial(1, s.config), None
    sched.on_start(worse)
    assert sched.on_report(worse, 1, {"loss": sign * 0.9}, 3.0) is Decision.STOP
    sched.on_end(worse, TrialStatus.STOPPED)
    s = sched.suggest(4.0)
    better = Trial(2, s.config)
    sched.on_start(better)
    assert sched.on_report(better, 1, {"loss": sign * 0.1}, 5.0) is Decision.CONTINUE
    states = [t.state.name for t in sched.study.trials]
    assert states == ["COMPLETE", "PRUNED", "RUNNING"]
    assert sched.study.trials[1].intermediate_values == {1: pytest.approx(sign * 0.9)}
    assert sched.study.direction.name == ("MINIMIZE" if mode == "min" else "MAXIMIZE")


def test_without_a_pruner_only_the_final_report_is_asked_and_nothing_is_reported_to_optuna():
    sched = OptunaScheduler(SPACE, metric="loss", fidelity_values=F27, sampler="RandomSampler")
    assert sched.report_levels() == [] and isinstance(sched.pruner, optuna.pruners.NopPruner)
    assert _drive(sched, [0.3]) == [Decision.CONTINUE]
    sched.on_end(Trial(0, {}), TrialStatus.COMPLETED)
    t = sched.study.trials[0]
    assert t.state.name == "COMPLETE" and t.value == pytest.approx(0.3) and t.intermediate_values == {}
    assert t.user_attrs["hposim_trial_id"] == 0


def test_failed_trials_are_told_fail_and_a_simulated_run_matches_the_study():
    bb = synthetic_table()
    sched = make_scheduler("optuna", bb, seed=1, sampler="TPESampler", pruner="SuccessiveHalvingPruner")
    res = simulate(bb, sched, n_workers=4, stop=Stop(max_trials=60), seed=1)
    trials = res.trials.set_index("trial_id")
    seen = {"completed": "COMPLETE", "stopped": "PRUNED", "failed": "FAIL", "paused": "RUNNING",
            "running": "RUNNING"}
    for otrial in sched.study.trials:
        tid = otrial.user_attrs["hposim_trial_id"]
        assert otrial.state.name == seen[trials.loc[tid, "status"]], tid
        # the parameters Optuna learned are those of the table row that ran
        assert otrial.params == {k: trials.loc[tid, k] for k in otrial.params}, tid
    states = {t.state.name for t in sched.study.trials}
    assert {"COMPLETE", "PRUNED", "FAIL"} <= states


def test_proposals_are_mapped_to_unused_table_rows_and_optuna_learns_the_row():
    rows = [{"x": 0.1}, {"x": 0.2}, {"x": 0.8}]
    sched = OptunaScheduler(SPACE, metric="loss", sampler="RandomSampler", candidates=rows)
    started = []
    for i in range(3):
        s = sched.suggest(0.0)
        assert any(s.config is r for r in rows)
        sched.on_start(Trial(i, s.config))
        started.append(s.config)
    assert sorted(c["x"] for c in started) == [0.1, 0.2, 0.8]
    assert [t.params["x"] for t in sched.study.trials] == [c["x"] for c in started]
    assert sched.suggest(1.0) is None and len(sched.study.trials) == 3


def test_a_discarded_suggestion_is_offered_again():
    sched = OptunaScheduler(SPACE, metric="loss", sampler="RandomSampler")
    s = sched.suggest(0.0)
    sched.on_discard(s)
    again = sched.suggest(1.0)
    assert again.config is s.config and len(sched.study.trials) == 1


def test_a_sampler_by_name_is_seeded_by_the_run_seed_an_instance_keeps_its_own():
    def xs(**kw):
        sched = OptunaScheduler(SPACE, metric="loss", **kw)
        return [sched.suggest(0.0).config["x"] for _ in range(5)]

    assert xs(sampler="RandomSampler", seed=3) == xs(sampler="RandomSampler", seed=3)
    assert xs(sampler="RandomSampler", seed=3) != xs(sampler="RandomSampler", seed=4)
    assert (xs(sampler=optuna.samplers.RandomSampler(seed=9), seed=3)
            == xs(sampler=optuna.samplers.RandomSampler(seed=9), seed=4))


def test_runs_are_reproducible_with_hyperband_brackets():
    bb = synthetic_table()

    def run(seed):
        sched = make_scheduler("optuna", bb, seed=seed, sampler="TPESampler", pruner="HyperbandPruner",
                               pruner_args={"min_resource": 1, "max_resource": 27})
        r = simulate(bb, sched, n_workers=4, stop=Stop(max_trials=40), seed=seed).results
        return r.drop(columns="decision_time")

    assert run(2).equals(run(2))
    assert not run(2).equals(run(3))


def test_bad_names_and_arguments_say_what_is_allowed():
    with pytest.raises(MethodError, match="Optuna sampler 'TPE' is not valid; allowed: .*'TPESampler'"):
        create("optuna", SPACE, metric="loss", sampler="TPE")
    with pytest.raises(MethodError, match="Optuna pruner 'Hyperband' is not valid; allowed: .*'HyperbandPruner'"):
        create("optuna", SPACE, metric="loss", pruner="Hyperband")
    with pytest.raises(MethodError, match="does not take argument.*'n_startup'.*did you mean 'n_startup_trials'"):
        create("optuna", SPACE, metric="loss", sampler="TPESampler", sampler_args={"n_startup": 3})
    with pytest.raises(MethodError, match="pruner_args given without a pruner"):
        create("optuna", SPACE, metric="loss", pruner_args={"min_resource": 1})
    with pytest.raises(MethodError, match="sampler_args are for a sampler given by name"):
        create("optuna", SPACE, metric="loss", sampler=optuna.samplers.RandomSampler(), sampler_args={"seed": 1})


def test_fractional_fidelities_report_the_level_index_as_step():
    sched = OptunaScheduler(SPACE, metric="loss", fidelity_values=[0.25, 0.5, 1.0], sampler="RandomSampler",
                            pruner="NopPruner")
    assert sched.report_levels() == [] and sched._step == {0.25: 0, 0.5: 1, 1.0: 2}
    pruning = OptunaScheduler(SPACE, metric="loss", fidelity_values=[0.25, 0.5, 1.0], sampler="RandomSampler",
                              pruner="MedianPruner")
    _drive(pruning, [0.3], fidelity=0.5)
    assert pruning.study.trials[0].intermediate_values == {1: pytest.approx(0.3)}
