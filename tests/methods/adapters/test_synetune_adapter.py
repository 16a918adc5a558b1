"""SyneTuneScheduler with the real Syne Tune 0.16: conformance, the Tuner's call order, pause and resume,
seeding against numpy's global generator, and the translation of the space."""
from __future__ import annotations

import bisect

import numpy as np
import pytest

pytest.importorskip("syne_tune")

from syne_tune.optimizer.baselines import ASHA as STASHA  # noqa: E402
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialScheduler, TrialSuggestion  # noqa: E402

from blackbox_repo.configspace import (ConfigurationSpace, choice, constant, loguniform, lograndint,  # noqa: E402
                                       ordinal, randint, uniform)
from methods import Decision, MethodError, Suggestion, Trial, TrialStatus, create  # noqa: E402
from methods.adapters import SyneTuneScheduler  # noqa: E402
from methods.adapters.synetune_adapter import synetune_space  # noqa: E402
from methods.rungs import StoppingRung  # noqa: E402
from methods.testing import SchedulerConformance, synthetic_function, synthetic_table  # noqa: E402
from simulator import Stop, make_scheduler, simulate  # noqa: E402

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
F27 = list(range(1, 28))


class TestSyneTuneASHA(SchedulerConformance):
    method = "synetune"
    method_args = {"scheduler": "ASHA"}


class TestSyneTuneASHABrackets(SchedulerConformance):
    method = "synetune"
    method_args = {"scheduler": "ASHA", "brackets": 3, "reduction_factor": 2}


class TestSyneTuneTPE(SchedulerConformance):
    method = "synetune"
    method_args = {"scheduler": "TPE"}


class TestSyneTuneREA(SchedulerConformance):
    method = "synetune"
    method_args = {"scheduler": "REA", "scheduler_args": {"population_size": 10, "sample_size": 3}}


class PauseAtThree(TrialScheduler):
    """A user's own Syne Tune scheduler: pauses every trial at epoch 3, resumes paused trials first
    (at most ``resumes`` of them), and logs every call the adapter makes."""

    def __init__(self, config_space, resumes=2, random_seed=0):
        super().__init__(random_seed=random_seed)
        self.config_space = config_space
        self.rng = np.random.RandomState(random_seed)
        self.paused: list[int] = []
        self.resumes = resumes
        self.log: list[tuple] = []
        self.seen_at_three: set[int] = set()

    def suggest(self):
        if self.paused and self.resumes:
            self.resumes -= 1
            return TrialSuggestion.resume_suggestion(self.paused.pop(0))
        return TrialSuggestion.start_suggestion({k: v.sample(random_state=self.rng) if hasattr(v, "sample") else v
                                                 for k, v in self.config_space.items()})

    def on_trial_add(self, trial):
        self.log.append(("add", trial.trial_id))

    def on_trial_result(self, trial, result):
        self.log.append(("result", trial.trial_id, result["epoch"]))
        if result["epoch"] == 3 and trial.trial_id not in self.seen_at_three:
            self.seen_at_three.add(trial.trial_id)
            self.paused.append(trial.trial_id)
            return SchedulerDecision.PAUSE
        return SchedulerDecision.CONTINUE

    def on_trial_remove(self, trial):
        self.log.append(("remove", trial.trial_id))

    def on_trial_complete(self, trial, result):
        self.log.append(("complete", trial.trial_id, result["epoch"]))

    def on_trial_error(self, trial):
        self.log.append(("error", trial.trial_id))


def test_a_users_scheduler_instance_is_paused_resumed_and_told_like_the_tuner_does():
    bb = synthetic_function()
    st = PauseAtThree(synetune_space(bb.configuration_space))
    sched = SyneTuneScheduler(bb.configuration_space, metric="loss", fidelity_values=bb.fidelity_values,
                              scheduler=st)
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_trials=3), seed=0)
    trials = res.trials.set_index("trial_id")
    log = st.log
    assert [e for e in log if e[0] == "add"] == [("add", 0), ("add", 1), ("add", 2)]
    resumed = [tid for tid in (0, 1) if ("result", tid, 4) in log]
    assert resumed, f"no paused trial was resumed: {log}"
    for tid in resumed:
        assert trials.loc[tid, "n_segments"] == 2
        # paused at 3 -> on_trial_remove right after that result, as Syne Tune's Tuner does
        i = log.index(("result", tid, 3))
        assert log[i + 1] == ("remove", tid)
        if trials.loc[tid, "status"] == "completed":
            assert ("complete", tid, 27) in log
        if trials.loc[tid, "status"] == "failed":
            assert ("error", tid) in log
    assert trials.loc[2, "status"] in ("paused", "failed")


def test_stop_at_the_top_is_removed_not_completed_and_failures_are_errors():
    sched = SyneTuneScheduler(SPACE, metric="loss", fidelity_values=[1, 3, 9], scheduler="ASHA")
    calls = []
    for name in ("on_trial_remove", "on_trial_complete", "on_trial_error"):
        original = getattr(sched.scheduler, name)

        def logged(*args, _name=name, _original=original):
            calls.append((_name, args[0].trial_id))
            return _original(*args)

        setattr(sched.scheduler, name, logged)
    for tid in range(2):
        s = sched.suggest(0.0)
        sched.on_start(Trial(tid, s.config))
    t0, t1 = Trial(0, {}), Trial(1, {})
    assert sched.on_report(t0, 1, {"loss": 0.5}, 1.0) is Decision.CONTINUE
    # Syne Tune's ASHA says STOP at max_t: the Tuner removes the trial and never calls on_trial_complete
    assert sched.on_report(t0, 9, {"loss": 0.4}, 2.0) is Decision.STOP
    sched.on_end(t0, TrialStatus.COMPLETED)
    sched.on_end(t1, TrialStatus.FAILED)
    assert calls == [("on_trial_remove", 0), ("on_trial_error", 1)]


def test_asha_rung_decisions_come_from_syne_tune():
    sched = SyneTuneScheduler(SPACE, metric="loss", mode="max", fidelity_values=F27, scheduler="ASHA")
    decisions = []
    for tid, v in enumerate([5.0, 3.0, 9.0, 1.0]):
        s = sched.suggest(0.0)
        sched.on_start(Trial(tid, s.config))
        decisions.append(sched.on_report(Trial(tid, s.config), 1, {"loss": v}, 1.0))
    # mode max: larger is better; the first at a rung continues, then only the top third
    assert decisions == [Decision.CONTINUE, Decision.STOP, Decision.CONTINUE, Decision.STOP]
    assert sched.scheduler.do_minimize is False and sched.scheduler.max_t == 27


def test_runs_are_reproducible_whatever_numpy_global_generator_does():
    bb = synthetic_table()

    def run(seed, disturb):
        np.random.seed(disturb)
        sched = make_scheduler("synetune", bb, seed=seed, scheduler="ASHA", brackets=3)
        r = simulate(bb, sched, n_workers=4, stop=Stop(max_trials=40), seed=seed)
        return r.results.drop(columns="decision_time")

    assert run(0, disturb=1).equals(run(0, disturb=2))
    assert not run(0, disturb=1).equals(run(1, disturb=1))


def test_brackets_are_drawn_from_the_adapters_own_generator():
    # with 3 brackets Syne Tune's ASHA draws each trial's bracket from numpy's global generator
    def brackets(seed):
        sched = create("synetune", SPACE, metric="loss", fidelity_values=F27, scheduler="ASHA", brackets=3,
                       seed=seed)
        out = []
        for tid in range(30):
            s = sched.suggest(0.0)
            sched.on_start(Trial(tid, s.config))
            np.random.seed(tid)        # whatever happens between calls
            out.append(sched.scheduler.brackets.index(sched.scheduler.trial_info[tid]))
        return out

    assert brackets(4) == brackets(4) and brackets(4) != brackets(5) and len(set(brackets(4))) > 1


def test_the_space_is_translated_to_syne_tune_domains():
    sp = pytest.importorskip("syne_tune.config_space")
    space = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "x": uniform(-1, 1), "n": randint(1, 8),
                                "m": lograndint(1, 1024), "act": choice(["relu", "tanh"]),
                                "w": ordinal([16, 32, 64]), "opt": constant("adam"), "one": randint(2, 2)})
    st = synetune_space(space)
    assert st["lr"] == sp.loguniform(1e-4, 1e-1) and st["x"] == sp.uniform(-1, 1)
    assert st["n"] == sp.randint(1, 8) and st["m"] == sp.lograndint(1, 1024)
    assert st["act"] == sp.choice(["relu", "tanh"]) and st["w"] == sp.ordinal([16, 32, 64], kind="equal")
    assert st["opt"] == "adam" and st["one"] == 2
    sched = SyneTuneScheduler(space, metric="loss", scheduler="RandomSearch")
    for tid in range(20):
        s = sched.suggest(0.0)
        space.validate(s.config)
        assert all(type(v) in (int, float, str) for v in s.config.values()), s.config
        sched.on_start(Trial(tid, s.config))


def test_on_a_table_new_configurations_are_unused_rows():
    rows = [{"x": 0.1}, {"x": 0.2}, {"x": 0.8}]
    sched = SyneTuneScheduler(SPACE, metric="loss", scheduler="RandomSearch", candidates=rows)
    got = [sched.suggest(0.0).config for _ in range(3)]
    assert sorted(id(c) for c in got) == sorted(id(r) for r in rows)
    assert sched.suggest(0.0) is None
    sched.on_discard(Suggestion(config=got[0]))
    assert sched.suggest(0.0).config is got[0]


def test_bad_names_and_arguments_say_what_is_allowed():
    with pytest.raises(MethodError, match=r"Syne Tune scheduler 'Hyperband' is not valid; allowed: .*'ASHA'"):
        create("synetune", SPACE, metric="loss", scheduler="Hyperband")
    with pytest.raises(MethodError, match="does not take 'grace_period'"):
        create("synetune", SPACE, metric="loss", scheduler="RandomSearch", grace_period=1)
    with pytest.raises(MethodError, match="reduction_factor must be a number > 1"):
        create("synetune", SPACE, metric="loss", scheduler="ASHA", reduction_factor=1)
    with pytest.raises(MethodError, match="does not take argument.*'population'.*did you mean 'population_size'"):
        create("synetune", SPACE, metric="loss", scheduler="REA", scheduler_args={"population": 3})
    st = STASHA(synetune_space(SPACE), metric="loss", time_attr="epoch", max_t=27, random_seed=0)
    with pytest.raises(MethodError, match="are for a Syne Tune scheduler given by name"):
        create("synetune", SPACE, metric="loss", scheduler=st, grace_period=3)


def test_a_checkpoint_start_is_refused_with_a_clear_error():
    class FromCheckpoint(TrialScheduler):
        def suggest(self):
            return TrialSuggestion.start_suggestion({"x": 0.5}, checkpoint_trial_id=0)

    sched = SyneTuneScheduler(SPACE, metric="loss", scheduler=FromCheckpoint(random_seed=0))
    with pytest.raises(MethodError, match="cannot copy checkpoints"):
        sched.suggest(0.0)


def _with_syne_tune_rank_rule(scheduler):
    """hposim's stopping ASHA deciding with Syne Tune 0.16's rung rule (``asha.py`` ``Bracket.on_result``):
    continue iff (recorded scores strictly better) / (recorded, own included) <= 1/rf."""
    class SyneTuneRankRung(StoppingRung):
        def record_and_decide(self, score, quantile):
            n_better = bisect.bisect_left(self.scores, score)
            bisect.insort(self.scores, score)
            return n_better / len(self.scores) <= quantile

    for bracket in scheduler._stopping:
        for rung in bracket:
            rung.__class__ = SyneTuneRankRung
    return scheduler


def test_syne_tune_asha_and_hposim_asha_behave_alike_on_a_few_seeds():
    """The cheap version of benchmarks/bench_adapters.py: 16 seeds, 4 workers, 2,000 s on the synthetic table,
    rungs 1, 3, 9, 27 (rf 3). With Syne Tune's rung rule, hposim's ASHA and Syne Tune's ASHA through the adapter
    agree on the number of trials, the share of trials reaching rung 3 and the final best; with its own rule
    (the 1/rf quantile, stricter on small rungs) hposim's ASHA starts more trials."""
    from scipy.stats import mannwhitneyu

    bb = synthetic_table()

    def stats(sched, seed):
        r = simulate(bb, sched, n_workers=4, stop=Stop(max_time=2_000), seed=seed).results
        reached = r.groupby("trial_id")["fidelity"].max()
        return len(reached), float((reached >= 3).mean()), float(r["loss"].min())

    seeds = range(16)
    asha = dict(type="stopping", reduction_factor=3, grace_period=1)
    own = np.array([stats(make_scheduler("ASHA", bb, seed=s, **asha), s) for s in seeds])
    rule = np.array([stats(_with_syne_tune_rank_rule(make_scheduler("ASHA", bb, seed=s, **asha)), s) for s in seeds])
    st = np.array([stats(make_scheduler("synetune", bb, seed=s, scheduler="ASHA", reduction_factor=3,
                                        grace_period=1), s) for s in seeds])
    for j, what in enumerate(("trials", "share reaching rung 3", "final best")):
        p = mannwhitneyu(rule[:, j], st[:, j]).pvalue
        assert p > 0.05, (what, rule[:, j].mean(), st[:, j].mean(), p)
    assert abs(rule[:, 0].mean() - st[:, 0].mean()) <= 0.1 * st[:, 0].mean(), (rule[:, 0].mean(), st[:, 0].mean())
    assert abs(rule[:, 1].mean() - st[:, 1].mean()) <= 0.05
    assert own[:, 0].mean() > st[:, 0].mean(), (own[:, 0].mean(), st[:, 0].mean())


def test_proposals_outside_a_numeric_range_are_clipped_into_it():
    """Syne Tune 0.16's BOHB sometimes proposes integers below a log-scaled range (n_units=1 for [8, 64])."""
    space = ConfigurationSpace({"n": lograndint(8, 64), "x": uniform(0, 1)})

    class OutOfRange(TrialScheduler):
        def suggest(self):
            return TrialSuggestion.start_suggestion({"n": 1, "x": 1.5})

    sched = SyneTuneScheduler(space, metric="loss", scheduler=OutOfRange(random_seed=0))
    assert sched.suggest(0.0).config == {"n": 8, "x": 1.0}
