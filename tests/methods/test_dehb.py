from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from blackbox_repo.configspace import ConfigurationSpace, choice, uniform
from methods import Decision, MethodError, Trial, create
from methods.dehb import DEHB, de_crossover, de_mutation
from methods.testing import RecordingScheduler, SchedulerConformance
from simulator import Stop, simulate

F27 = list(range(1, 28))
SPACE = ConfigurationSpace({"x": uniform(0, 1), "c": choice(["a", "b"])})

# a fixed population of three parents and a target, in the encoding of SPACE: x, then c one-hot
X0, X1, X2 = np.array([0.2, 0.5, 0.9]), np.array([0.6, 0.3, 0.8]), np.array([0.4, 0.1, 0.2])
TARGET = np.array([0.9, 1.0, 0.0])
GROUPS = [slice(0, 1), slice(1, 3)]
# np.random.default_rng(0) draws 0.6369616873214543, then 0.2697867137638703, 0.04097352393619469,
# then integers(2) gives 0
U0 = 0.6369616873214543


def test_rand1_mutation_by_hand():
    # x0 + 0.5 (x1 - x2) = [0.2 + 0.1, 0.5 + 0.1, 0.9 + 0.3] = [0.3, 0.6, 1.2]; 1.2 is drawn anew
    mutant = de_mutation([X0, X1, X2], 0.5, np.random.default_rng(0))
    assert mutant == pytest.approx([0.3, 0.6, U0])
    # x0 + 0.5 (x2 - x1) = [0.2 - 0.1, 0.5 - 0.1, 0.9 - 0.3], inside [0, 1]: no draw at all
    rng = np.random.default_rng(0)
    assert de_mutation([X0, X2, X1], 0.5, rng) == pytest.approx([0.1, 0.4, 0.6])
    assert rng.random() == pytest.approx(U0)


def test_binomial_crossover_by_hand():
    mutant = np.array([0.3, 0.6, U0])
    # p = 0.2: group draws 0.2698 (>= 0.2: target's x) and 0.0410 (< 0.2: mutant's one-hot pair)
    rng = np.random.default_rng(0)
    child = de_crossover(de_mutation([X0, X1, X2], 0.5, rng), TARGET, GROUPS, 0.2, rng)
    assert child == pytest.approx([0.9, 0.6, U0])
    # p = 0.01: no group is taken, so integers(2) = 0 picks x from the mutant, the rest from the target
    rng = np.random.default_rng(0)
    child = de_crossover(de_mutation([X0, X1, X2], 0.5, rng), TARGET, GROUPS, 0.01, rng)
    assert child == pytest.approx([0.3, 1.0, 0.0])
    # p = 1: everything from the mutant; p = 0 and one group: that group
    assert de_crossover(mutant, TARGET, GROUPS, 1.0, np.random.default_rng(5)) == pytest.approx(mutant)
    assert de_crossover(mutant, TARGET, [slice(0, 3)], 0.0, np.random.default_rng(5)) == pytest.approx(mutant)


def table(n: int = 300, seed: int = 0) -> TabularBlackbox:
    """``n`` random rows of SPACE, one seed, fidelities 1..27, no failures; epochs take 1 + x seconds."""
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    c = rng.choice(["a", "b"], n)
    f = np.asarray(F27, dtype=float)
    final = (x - 0.3) ** 2 + 0.1 * (c == "b")
    loss = final[:, None] + rng.random((n, 1)) / f[None, :]
    time = np.outer(1.0 + x, f)
    objectives = np.stack([loss, time], axis=-1)[:, None].astype(np.float32)
    return TabularBlackbox(pd.DataFrame({"x": x, "c": c}), objectives, F27, ["loss", "time"],
                           configuration_space=SPACE, metric_elapsed_time="time", metric="loss", mode="min")


def run(bb: TabularBlackbox, n_workers: int = 1, max_trials: int = 45, seed: int = 0, **kwargs):
    dehb = DEHB(bb.configuration_space, metric="loss", fidelity_values=bb.fidelity_values, seed=seed,
                candidates=bb.configs(), **kwargs)
    rec = RecordingScheduler(dehb, bb.configuration_space)
    result = simulate(bb, rec, n_workers=n_workers, stop=Stop(max_trials=max_trials), seed=seed)
    return dehb, rec, result


def test_defaults_follow_syne_tune():
    d = DEHB(SPACE, metric="loss", fidelity_values=F27)
    assert (d.reduction_factor, d.grace_period, d.brackets, d.mutation_factor, d.crossover_probability,
            d.support_pause_resume) == (3, 1, 4, 0.5, 0.5, True)
    assert [d.bracket_rungs(o) for o in range(4)] == [
        ([27, 9, 3, 1], [1, 3, 9, 27]), ([9, 3, 1], [3, 9, 27]), ([3, 1], [9, 27]), ([1], [27])]


def test_each_bracket_runs_its_rungs_in_order():
    _, rec, result = run(table(), max_trials=45 + 27)
    jobs = [("start" if s.config is not None else "resume", s.max_fidelity) for s in rec.suggestions if s is not None]
    expected = ([("start", 1)] * 27 + [("resume", 3)] * 9 + [("resume", 9)] * 3 + [("resume", 27)]   # bracket 0
                + [("start", 3)] * 9 + [("start", 9)] * 3 + [("start", 27)]                          # bracket 1
                + [("start", 9)] * 3 + [("start", 27)]                                               # bracket 2
                + [("start", 27)]                                                                    # bracket 3
                + [("start", 1)] * 27)                                                               # bracket 4
    assert jobs[:len(expected)] == expected and all(s.config is not None for s in rec.discards)
    trials = result.trials
    # bracket 0 pauses (one trial completes); later brackets stop their trials below the top
    counts = trials["status"].value_counts().to_dict()
    assert len(trials) == 72 and counts == {"paused": 26, "stopped": 12 + 3 + 27, "completed": 4, "failed": 0,
                                            "running": 0}


def test_selection_keeps_the_better_of_offspring_and_target(make_trial):
    # levels 1, 3 (rf 3): bracket 0 has rungs of 3 and 1 slots, bracket 1 one slot at level 3
    d = DEHB(SPACE, metric="loss", fidelity_values=[1, 2, 3], seed=0)
    assert [d.bracket_rungs(o) for o in range(2)] == [([3, 1], [1, 3]), ([1], [3])]

    def start(tid, loss, fidelity):
        s = d.suggest(0.0)
        assert s.config is not None and s.max_fidelity == fidelity
        trial = Trial(tid, s.config, s.meta)
        d.on_start(trial)
        return d.on_report(trial, fidelity, {"loss": loss}, 0.0)

    assert [start(t, loss, 1) for t, loss in enumerate([0.5, 0.2, 0.9])] == [Decision.PAUSE] * 3
    s = d.suggest(0.0)
    assert (s.resume, s.max_fidelity) == (1, 3)                  # the best of rung 1 is resumed
    assert d.on_report(Trial(1, {}), 3, {"loss": 0.15}, 0.0) == Decision.CONTINUE
    assert d.rung_results(0) == [[(0, 0.5), (1, 0.2), (2, 0.9)], [(1, 0.15)]]
    # bracket 1: an offspring at level 3 whose target is trial 1 (0.15); 0.4 loses the selection
    start(3, 0.4, 3)
    assert d.rung_results(1) == [[(1, 0.15)]]
    # bracket 2 (offset 0 again): targets are the slots of bracket 0's first rung
    assert start(4, 0.1, 1) == Decision.STOP                    # beats trial 0 (0.5)
    start(5, 0.3, 1)                                            # loses to trial 1 (0.2)
    start(6, 0.9, 1)                                            # ties with trial 2: the target stays
    assert d.rung_results(2) == [[(4, 0.1), (1, 0.2), (2, 0.9)], [(None, None)]]


def test_offspring_are_unused_table_rows_and_runs_are_seeded():
    bb = table()
    _, rec, first = run(bb, n_workers=4, max_trials=80, seed=3)
    keys = [tuple(t.config.values()) for t, _ in rec.starts]
    rows = {tuple(c.values()) for c in bb.configs()}
    assert len(set(keys)) == len(keys) and set(keys) <= rows
    _, _, again = run(bb, n_workers=4, max_trials=80, seed=3)
    cols = ["trial_id", "fidelity", "loss", "time", "decision"]
    assert first.results[cols].equals(again.results[cols])


@pytest.mark.parametrize("brackets", [1, 2, 3])
def test_fewer_brackets_cycle_the_most_explorative_ones(brackets):
    dehb, rec, result = run(table(), n_workers=4, max_trials=120, brackets=brackets)
    assert dehb.brackets_begun >= 4
    rungs = [len(dehb.rung_results(b)) for b in range(dehb.brackets_begun)]
    assert rungs == [4 - b % brackets for b in range(dehb.brackets_begun)]
    assert len(result.trials) == 120
    assert {s.max_fidelity for s in rec.suggestions if s is not None} <= {1, 3, 9, 27}


def test_without_pause_and_resume_the_first_bracket_starts_promoted_configurations_anew():
    _, rec, result = run(table(), max_trials=40, support_pause_resume=False)
    starts = [s for s in rec.suggestions if s is not None]
    assert all(s.config is not None for s in starts)
    assert [s.max_fidelity for s in starts[27:40]] == [3] * 9 + [9] * 3 + [27]
    first = [s.config for s in starts[:27]]
    assert all(s.config in first for s in starts[27:40])
    assert "pause" not in set(result.results["decision"])


@pytest.mark.parametrize("kwargs, words", [
    ({"mutation_factor": 0}, r"mutation_factor must be a number in \(0.0, 2.0\], got 0"),
    ({"mutation_factor": 2.5}, "mutation_factor"),
    ({"crossover_probability": 1.5}, r"crossover_probability must be a number in \[0.0, 1.0\], got 1.5"),
    ({"crossover_probability": -0.1}, "crossover_probability"),
    ({"brackets": 5}, r"brackets=5 is not valid; with rung levels \[1, 3, 9, 27\] it must be an integer in 1..4"),
    ({"brackets": 0}, "brackets"),
    ({"support_pause_resume": "sometimes"}, "support_pause_resume"),
    ({"reduction_factor": 1}, "reduction_factor"),
])
def test_bad_arguments_fail_before_the_run(kwargs, words):
    with pytest.raises(MethodError, match=words):
        create("DEHB", SPACE, metric="loss", fidelity_values=F27, **kwargs)


def test_a_space_of_constants_is_refused():
    from blackbox_repo.configspace import constant
    with pytest.raises(MethodError, match="constant"):
        DEHB(ConfigurationSpace({"k": constant(1)}), metric="loss", fidelity_values=F27)


class TestDEHBWithoutPauseResume(SchedulerConformance):
    """DEHB starting promoted configurations anew passes the conformance suite too."""

    method = "DEHB"
    method_args = {"support_pause_resume": False, "mutation_factor": 1.0, "crossover_probability": 0.9}


def test_a_table_smaller_than_the_first_rung_still_promotes_its_best_rows():
    # 20 rows, first rung wants 27: the rung closes with the 20 handed out, and its best rows are
    # resumed to levels 3, 9 and 27 (the run then ends exhausted: later brackets need new rows)
    bb = table(n=20)
    _, rec, result = run(bb, n_workers=4, max_trials=1000)
    resumes = [s.max_fidelity for s in rec.suggestions if s is not None and s.config is None]
    assert resumes == [3] * 9 + [9] * 3 + [27]
    assert result.metadata["end_reason"] == "exhausted" and len(result.trials) == 20
    assert result.results["fidelity"].max() == 27
