"""The event loop's defences (issue 11): a scheduler breaking the protocol, bad arguments to
``make_scheduler``/``simulate``, and metrics that would be read from the wrong column."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repo.errors import InputError, ProtocolError, exit_code
from blackbox_repo.reserved_columns import RESULT_COLUMNS
from blackbox_repo.blackbox import TabularBlackbox
from methods.base import Decision, Suggestion
from simulator import SchedulerProtocolError, SimulationError, Stop, make_scheduler, simulate
from tests.simulator.helpers import Replay, table


@pytest.fixture(scope="module")
def bb():
    return table(np.linspace(0.9, 0.1, 12).reshape(4, 3), np.cumsum(np.ones((4, 3)), axis=1))


def replay(bb, **kw):
    return Replay(bb.configuration_space, fidelity_values=bb.fidelity_values, **kw)


# ------------------------------------------------------------------ protocol breaches
@pytest.mark.parametrize("returned, shown", [({"x": 0}, "dict {'x': 0}"), ("start", "str 'start'"),
                                             (0, "int 0")])
def test_suggest_returning_a_non_suggestion_is_a_protocol_error(bb, returned, shown):
    sched = replay(bb, plan=[returned])
    with pytest.raises(SchedulerProtocolError) as e:
        simulate(bb, sched, n_workers=1, stop=Stop(max_time=100))
    msg = str(e.value)
    assert f"suggest(time=0.0) returned {shown}" in msg and "expected a methods.base.Suggestion" in msg
    assert isinstance(e.value, ProtocolError) and not isinstance(e.value, InputError)
    assert exit_code(e.value) == 1


@pytest.mark.parametrize("returned, shown", [(None, "NoneType None"), ("later", "str 'later'"),
                                             (True, "bool True")])
def test_on_report_returning_a_non_decision_is_a_protocol_error(bb, returned, shown):
    sched = replay(bb, plan=[Suggestion.start({"x": 0})], decide=lambda *a: returned)
    with pytest.raises(SchedulerProtocolError, match=f"on_report for trial 0 returned {shown}; expected a "
                                                     f"methods.base.Decision"):
        simulate(bb, sched, n_workers=1, stop=Stop(max_time=100))


def test_on_report_returning_a_decision_string_is_accepted(bb):
    sched = replay(bb, plan=[Suggestion.start({"x": 0})], decide=lambda *a: "stop")
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=100))
    assert res.results["decision"].tolist() == ["stop"]


def test_resuming_unknown_running_and_finished_trials_are_protocol_errors(bb):
    cases = [([Suggestion.resume_trial(7)], "resume trial 7 at time 0.0, but that trial is never started"),
             ([Suggestion.start({"x": 0}), Suggestion.resume_trial(0)], "resume trial 0 .* running"),
             ([Suggestion.start({"x": 0}), lambda s, t: Suggestion.resume_trial(0) if t >= 3 else None],
              "resume trial 0 .* finished")]
    for plan, match in cases:
        with pytest.raises(SchedulerProtocolError, match=match):
            simulate(bb, replay(bb, plan=plan), n_workers=2, stop=Stop(max_time=100))


def test_resume_below_the_reached_fidelity_and_unknown_max_fidelity_are_protocol_errors(bb):
    plan = [Suggestion.start({"x": 0}, max_fidelity=2),
            lambda s, t: Suggestion.resume_trial(0, max_fidelity=1) if t > 0 else None]
    with pytest.raises(SchedulerProtocolError, match="resume trial 0 to fidelity 1, but it is already at 2"):
        simulate(bb, replay(bb, plan=plan), n_workers=1, stop=Stop(max_time=100))
    with pytest.raises(SchedulerProtocolError, match="max_fidelity 2.5"):
        simulate(bb, replay(bb, plan=[Suggestion.start({"x": 0}, max_fidelity=2.5)]), n_workers=1,
                 stop=Stop(max_time=100))


# ------------------------------------------------------------------ bad arguments
def test_make_scheduler_without_a_blackbox_is_an_input_error():
    with pytest.raises(InputError, match="make_scheduler needs a Blackbox .* got NoneType: None"):
        make_scheduler("ASHA", None)


def test_make_scheduler_with_a_non_string_method_is_an_input_error(bb):
    with pytest.raises(InputError, match="method_name must be a registered method name .* got int: 3"):
        make_scheduler(3, bb)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "0"])
def test_a_negative_or_non_integer_seed_is_an_input_error_naming_the_range(bb, seed):
    with pytest.raises(InputError, match=r"seed=.* is not valid; a seed must be an integer in \[0, 4294967295\]"):
        make_scheduler("RandomSearch", bb, seed=seed)
    with pytest.raises(SimulationError, match=r"seed=.* is not valid; a seed must be an integer in \[0, 4294967295\]"):
        simulate(bb, make_scheduler("RandomSearch", bb), n_workers=1, stop=Stop(max_time=10), seed=seed)


def test_simulation_input_errors_are_input_errors(bb):
    with pytest.raises(InputError) as e:
        simulate(bb, make_scheduler("RandomSearch", bb), n_workers=0, stop=Stop(max_time=10))
    assert exit_code(e.value) == 2
    with pytest.raises(InputError, match="no stopping criterion"):
        simulate(bb, make_scheduler("RandomSearch", bb), n_workers=1)
    with pytest.raises(InputError, match="startup=-1"):
        simulate(bb, make_scheduler("RandomSearch", bb), n_workers=1, stop=Stop(max_time=10),
                 overhead={"startup": -1})


# ------------------------------------------------------------------ reserved column names
@pytest.mark.parametrize("name", ["time", "fidelity", "decision", "trial_id"])
def test_a_metric_named_like_a_reserved_result_column_is_rejected(name):
    obj = np.stack([np.full((2, 1, 2), 0.5), np.cumsum(np.ones((2, 1, 2)), axis=2)], axis=-1)
    b = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), obj.astype(np.float32), [1, 2], [name, "elapsed"],
                        metric_elapsed_time="elapsed")
    with pytest.raises(InputError) as e:
        make_scheduler("RandomSearch", b)
    assert f"metric {name!r} is the name of a column the simulator adds" in str(e.value)
    assert str(list(RESULT_COLUMNS)) in str(e.value)
    # a scheduler made by hand: rejected by simulate too
    with pytest.raises(InputError, match=f"metric {name!r} is the name of a column"):
        simulate(b, Replay(b.configuration_space, metric=name, fidelity_values=[1, 2]), n_workers=1,
                 stop=Stop(max_time=10))


def test_an_elapsed_time_objective_named_time_is_still_allowed_and_renamed():
    # LCBench's elapsed-time objective is called "time": only the metric may not clash
    obj = np.stack([np.full((2, 1, 2), 0.5), np.cumsum(np.ones((2, 1, 2)), axis=2)], axis=-1)
    b = TabularBlackbox(pd.DataFrame({"x": [1, 2]}), obj.astype(np.float32), [1, 2], ["loss", "time"],
                        metric_elapsed_time="time")
    res = simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_trials=2))
    assert res.results["objective_time"].tolist() == [1.0, 2.0, 1.0, 2.0]
    assert res.results["time"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert res.best() == 0.5


def test_a_metric_named_like_a_hyperparameter_is_rejected():
    obj = np.stack([np.full((2, 1, 2), 0.5), np.cumsum(np.ones((2, 1, 2)), axis=2)], axis=-1)
    b = TabularBlackbox(pd.DataFrame({"loss": [1, 2]}), obj.astype(np.float32), [1, 2], ["loss", "elapsed"],
                        metric_elapsed_time="elapsed")
    with pytest.raises(InputError, match="metric 'loss' is also the name of a hyperparameter"):
        simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_trials=2))


def test_a_hyperparameter_named_like_a_trials_column_is_renamed_in_both_tables():
    b = table([[0.3], [0.2]], [[5], [6]], fidelities=[1], hp=pd.DataFrame({"status": ["a", "b"]}))
    res = simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_time=100))
    assert res.trials["config_status"].tolist() == ["a", "b"]
    assert res.trials["status"].tolist() == ["completed", "completed"]
    assert res.results["config_status"].tolist() == ["a", "b"]
    assert res.metadata["renamed_columns"] == {"status": "config_status"}


def test_decisions_still_work_after_the_checks(bb):
    sched = replay(bb, plan=[Suggestion.start({"x": 1})], decide=lambda *a: Decision.CONTINUE)
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_time=100))
    assert res.results["decision"].tolist() == ["continue", "continue", "complete"]


# ------------------------------------------------------------------ values the simulator refuses
def _errors_table(n_levels: int, bad_level: int, bad_value: float, column: str = "error"):
    errors = np.tile(np.linspace(0.9, 0.1, n_levels), (3, 1))
    times = np.tile(np.arange(1.0, n_levels + 1), (3, 1))
    (errors if column == "error" else times)[1, bad_level] = bad_value
    return table(errors, times)


@pytest.mark.parametrize("n_levels, bad_level", [(3, 2), (3, 1), (50, 40)])   # observed, skipped, long skip
@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_metric_is_an_input_error_naming_the_cell(n_levels, bad_level, value):
    b = _errors_table(n_levels, bad_level, value)
    with pytest.raises(SimulationError) as e:
        simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_time=10_000))
    assert f"metric 'error' is {value!r} (infinite) for configuration {{'x': 1}} (row 1), seed 0, " \
           f"epoch {bad_level + 1}" in str(e.value)
    assert "NaN: the evaluation failed" in str(e.value)


@pytest.mark.parametrize("n_levels, bad_level", [(3, 0), (3, 1), (50, 40)])
@pytest.mark.parametrize("value, why", [(-5.0, "negative: the report would come before the trial started"),
                                        (np.inf, "infinite: the trial would never end")])
def test_a_negative_or_infinite_elapsed_time_is_an_input_error(n_levels, bad_level, value, why):
    b = _errors_table(n_levels, bad_level, value, column="elapsed")
    with pytest.raises(SimulationError) as e:
        simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_time=10_000))
    assert f"elapsed time 'elapsed' is {value!r} ({why}) for configuration {{'x': 1}} (row 1), seed 0, " \
           f"epoch {bad_level + 1}" in str(e.value)


def test_a_nan_metric_is_still_a_failed_evaluation():
    b = _errors_table(3, 1, np.nan)
    res = simulate(b, make_scheduler("GridSearch", b), n_workers=1, stop=Stop(max_time=10_000))
    assert res.trials["status"].tolist() == ["completed", "failed", "completed"]


# ------------------------------------------------------------------ runs that could never end
def test_an_unreachable_target_on_a_table_is_rejected_before_running(bb):
    sched = make_scheduler("RandomSearch", bb, allow_duplicates=True)
    with pytest.raises(SimulationError, match=r"target=-1 can never be reached: the best error in this "
                                              r"blackbox is 0.1 \(mode min\)"):
        simulate(bb, sched, n_workers=2, stop=Stop(target=-1))
    # with a budget it runs (and ends by the budget)
    res = simulate(bb, sched, n_workers=2, stop=Stop(target=-1, max_trials=20))
    assert res.metadata["end_reason"] == "max_trials" and res.metadata["end_message"] is None


class Continuous(TabularBlackbox.__mro__[1]):   # a non-tabular Blackbox: a curve per configuration
    """Blackbox over a continuous space: no table to check a target against."""

    def __init__(self, loss: float = 0.5, elapsed: float = 1.0):
        from blackbox_repo.configspace import ConfigurationSpace, uniform
        self.configuration_space = ConfigurationSpace({"x": uniform(0, 1)})
        self.fidelity_name, self.fidelity_values = "epoch", np.array([1, 2])
        self.objectives_names, self.metric_elapsed_time = ["loss", "t"], "t"
        self.metric, self.mode, self.num_seeds, self.metadata = "loss", "min", 1, {"name": "continuous"}
        self.loss, self.elapsed = loss, elapsed

    def evaluate(self, config, fidelity=None, seed=None):
        return {"loss": np.array([1.0, self.loss]), "t": np.array([1.0, 2.0]) * self.elapsed}


def test_an_unreachable_target_without_a_table_ends_with_no_progress():
    b = Continuous()
    res = simulate(b, make_scheduler("RandomSearch", b), n_workers=2, stop=Stop(target=-1))
    md = res.metadata
    assert md["end_reason"] == "no_progress"
    assert "no progress toward the stopping criteria {'target': -1.0} in the last 10,000 trial starts" \
        in md["end_message"]
    assert "the best loss stayed 0.5 (target -1)" in md["end_message"]
    assert 10_000 <= len(res.trials) <= 10_002                        # bounded memory
    assert "ended by no_progress" in res.summary()


def test_max_completed_on_an_all_nan_table_ends_with_no_progress():
    errors = np.full((3, 2), np.nan)
    b = table(errors, np.cumsum(np.ones((3, 2)), axis=1))
    res = simulate(b, make_scheduler("RandomSearch", b, allow_duplicates=True), n_workers=2,
                   stop=Stop(max_completed=1))
    assert res.metadata["end_reason"] == "no_progress"
    assert "no trial completed (completed so far: 0)" in res.metadata["end_message"]
    assert set(res.trials["status"]) == {"failed"}


def test_a_scheduler_that_always_pauses_ends_with_no_progress(bb):
    def starts(sched, time):
        return Suggestion.start({"x": 0}, max_fidelity=1)          # pauses at the first level, forever
    sched = replay(bb, plan=[starts] * 30_000)
    res = simulate(bb, sched, n_workers=2, stop=Stop(max_completed=1, target=-5))
    assert res.metadata["end_reason"] == "no_progress"
    assert set(res.trials["status"]) == {"paused"}


def test_time_that_never_advances_ends_with_no_progress_even_with_max_time():
    b = Continuous(loss=np.nan, elapsed=np.nan)        # every evaluation fails at once, at time 0
    res = simulate(b, make_scheduler("RandomSearch", b), n_workers=2, stop=Stop(max_time=100))
    assert res.metadata["end_reason"] == "no_progress"
    assert "simulated time stayed at 0 s" in res.metadata["end_message"]


def test_a_long_run_that_keeps_progressing_is_not_cut(monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["simulator.simulate"], "NO_PROGRESS_LIMIT", 50)   # (the package's
    # ``simulate`` attribute is the function)
    b = Continuous()
    res = simulate(b, make_scheduler("RandomSearch", b), n_workers=2, stop=Stop(max_time=501))
    assert res.metadata["end_reason"] == "max_time" and len(res.trials) > 400
    # budgets that always end a run switch the watch off
    b0 = Continuous(loss=np.nan, elapsed=np.nan)
    res = simulate(b0, make_scheduler("RandomSearch", b0), n_workers=2, stop=Stop(max_trials=300))
    assert res.metadata["end_reason"] == "max_trials" and len(res.trials) == 300


@pytest.mark.parametrize("config, why", [({"x": 7}, "'x'=7 is not tabulated"), ({"y": 0}, "lacks hyperparameters"),
                                         ([1], "")])
def test_suggesting_a_configuration_the_table_does_not_have_is_a_protocol_error(bb, config, why):
    sched = replay(bb, plan=[Suggestion(config=config)])
    with pytest.raises(SchedulerProtocolError, match="suggest\\(time=0.0\\) returned the configuration") as e:
        simulate(bb, sched, n_workers=1, stop=Stop(max_time=100))
    assert why in str(e.value) and "must suggest rows of the table" in str(e.value)
