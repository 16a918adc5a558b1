"""The simulator's side of the protocol additions: ``on_start``, ``on_discard`` and the skipped
reports handed over in one batch (``wants_skipped_reports``)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.blackbox import TabularBlackbox
from methods import Decision
from methods.asha import ASHA
from simulator import Stop, make_scheduler, simulate


@pytest.fixture(scope="module")
def table() -> TabularBlackbox:
    rng = np.random.default_rng(3)
    n, nf = 60, 27
    hp = pd.DataFrame({"x": np.round(rng.random(n), 6)})
    obj = np.zeros((n, 1, nf, 2), np.float32)
    obj[..., 0] = rng.random((n, 1, nf))
    obj[7, 0, 5:, 0] = np.nan                       # fails at epoch 6
    obj[..., 1] = np.cumsum(1 + rng.random((n, 1, nf)), axis=2)
    return TabularBlackbox(hp, obj, fidelity_values=np.arange(1, nf + 1), objectives_names=["loss", "time"],
                           metric_elapsed_time="time")


class CurveASHA(ASHA):
    """ASHA that asks for whole learning curves and records what it was given."""

    wants_skipped_reports = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen: dict[int, dict[int, float]] = {}
        self.batches = 0
        self.reports = 0

    def on_skipped_reports(self, trial, fidelities, metrics):
        self.batches += 1
        assert len(fidelities) == len(metrics["loss"]) > 0
        for f, v in zip(fidelities, metrics["loss"].tolist()):
            assert f not in self.seen.setdefault(trial.trial_id, {})
            self.seen[trial.trial_id][f] = v

    def on_report(self, trial, fidelity, metrics, time):
        self.reports += 1
        assert fidelity not in self.seen.setdefault(trial.trial_id, {})
        self.seen[trial.trial_id][fidelity] = metrics["loss"]
        return super().on_report(trial, fidelity, metrics, time)


def test_skipped_reports_arrive_in_batches_and_complete_every_curve(table):
    sched = CurveASHA(table.configuration_space, metric="loss", fidelity_values=table.fidelity_values,
                      candidates=table.configs(), seed=0)
    res = simulate(table, sched, n_workers=3, stop=Stop(max_trials=40), seed=0)
    rows = res.results
    # every report the results table holds reached the scheduler, once, with the table's value
    for tid, group in rows.groupby("trial_id"):
        got = sched.seen[tid]
        expected = {int(f): float(v) for f, v, d in zip(group["fidelity"], group["loss"], group["decision"])
                    if d != "failed"}
        assert got.keys() == expected.keys()
        assert all(np.float32(got[f]) == np.float32(v) for f, v in expected.items())
    # one batch per decision at most: cost grows with decisions, not with epochs
    assert sched.batches <= sched.reports + (rows["decision"] == "failed").sum()
    assert len(rows) > 3 * sched.batches


def test_without_the_flag_no_batch_is_sent(table):
    sched = CurveASHA(table.configuration_space, metric="loss", fidelity_values=table.fidelity_values,
                      candidates=table.configs(), seed=0)
    sched.wants_skipped_reports = False
    simulate(table, sched, n_workers=3, stop=Stop(max_trials=20), seed=0)
    assert sched.batches == 0


def test_a_searcher_sees_every_epoch_when_the_scheduler_asks(table):
    sched = make_scheduler("ASHA", table, seed=1, searcher="tpe")
    sched.wants_skipped_reports = True               # the base class forwards the batch to the searcher
    res = simulate(table, sched, n_workers=2, stop=Stop(max_trials=15), seed=1)
    history = sched.searcher.history
    ok = res.results[res.results["decision"] != "failed"]
    assert history.num_observations == len(ok)
    assert sorted(history.fidelities) == sorted(ok["fidelity"].unique().tolist())


class Recorder(ASHA):
    """Records the life-cycle calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[tuple] = []
        self.suggested: list[dict] = []

    def suggest(self, time):
        s = super().suggest(time)
        if s is not None and s.config is not None:
            self.suggested.append(s.config)
        return s

    def on_start(self, trial):
        self.calls.append(("start", trial.trial_id))
        assert trial.config is self.suggested[-1]
        super().on_start(trial)

    def on_discard(self, suggestion):
        self.calls.append(("discard", suggestion.config is self.suggested[-1]))
        super().on_discard(suggestion)


@pytest.mark.parametrize("searcher", ["random", "tpe", "rea", "bayesopt"])
def test_start_and_discard_leave_no_phantom_pending_trial(table, searcher):
    sched = Recorder(table.configuration_space, metric="loss", fidelity_values=table.fidelity_values,
                     candidates=table.configs(), seed=2, searcher=searcher, type="promotion")
    # with paused trials around, the simulator asks for work after the budget is used up
    res = simulate(table, sched, n_workers=4, stop=Stop(max_trials=12), seed=2)
    starts = [c for c in sched.calls if c[0] == "start"]
    assert [c[1] for c in starts] == list(range(12)) == sorted(res.trials["trial_id"].tolist())
    assert ("discard", True) in sched.calls           # a suggestion beyond the budget was discarded
    if sched.searcher.uses_observations:
        history = sched.searcher.history
        assert history.waiting == []                   # nothing handed out and not started
        assert set(history.running) <= set(range(12))


def test_decisions_are_unchanged_by_the_new_calls(table):
    """A plain ASHA and the recording one make the same run."""
    kw = dict(metric="loss", fidelity_values=table.fidelity_values, candidates=table.configs(), seed=4)
    a = simulate(table, ASHA(table.configuration_space, **kw), n_workers=4, stop=Stop(max_trials=30), seed=4)
    b = simulate(table, Recorder(table.configuration_space, **kw), n_workers=4, stop=Stop(max_trials=30), seed=4)
    pd.testing.assert_frame_equal(a.results.drop(columns="decision_time"), b.results.drop(columns="decision_time"))
    assert Decision.CONTINUE == "continue"
