"""``methods.testing.SchedulerConformance`` catches broken schedulers, and a user's own
scheduler gets every check by subclassing it (collected by pytest, see the ``pytester`` test).

Each broken scheduler below breaks one rule; the check about that rule must fail when called
as pytest calls it.
"""
from __future__ import annotations

import math
import random
from typing import Any, Mapping, Sequence

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace
from methods import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.asha import ASHA
from methods.fifo import FIFO
from methods.searcher import Searcher
from methods.testing import (OBJECTIVES, RecordingScheduler, SchedulerConformance, synthetic_function,
                             synthetic_space)
from simulator import SchedulerProtocolError

pytest_plugins = ["pytester"]

CHECKS = sorted(name for name in dir(SchedulerConformance) if name.startswith("test_"))


class Sequential(Scheduler):
    """A minimal correct scheduler: candidates in order (else seeded samples of the space),
    each trial to the largest fidelity."""

    def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
        super().__init__(config_space, **kwargs)
        self.started = 0

    def next_config(self) -> dict | None:
        if self.candidates is None:
            return self.config_space.sample(self.rng)
        return self.candidates[self.started] if self.started < len(self.candidates) else None

    def suggest(self, time: float) -> Suggestion | None:
        config = self.next_config()
        return None if config is None else Suggestion.start(config, self.max_fidelity)

    def on_start(self, trial: Trial) -> None:
        self.started += 1

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        return Decision.CONTINUE


def conformance(method: Any, **attrs: Any) -> SchedulerConformance:
    """An instance of a fresh conformance class for ``method`` (a fresh per-class cache)."""
    return type("TestBroken", (SchedulerConformance,), {"method": method, **attrs})()


# ---------------------------------------------------------------- a correct scheduler passes
@pytest.mark.parametrize("check", CHECKS)
def test_a_minimal_correct_scheduler_passes(check):
    suite = conformance(Sequential)
    if check == "test_no_phantom_pending_configuration_at_the_end":
        with pytest.raises(pytest.skip.Exception, match="no searcher"):
            getattr(suite, check)()
    else:
        getattr(suite, check)()


def test_a_scheduler_ignoring_candidates_runs_on_the_computed_blackbox():
    class SamplesTheSpace(Sequential):
        def next_config(self) -> dict | None:
            return self.config_space.sample(self.rng)

    suite = conformance(SamplesTheSpace, supports_candidates=False)
    for check in CHECKS:
        if check in ("test_nothing_now_when_candidates_run_out", "test_no_phantom_pending_configuration_at_the_end"):
            with pytest.raises(pytest.skip.Exception):
                getattr(suite, check)()
        else:
            getattr(suite, check)()
    assert "config_id" not in suite.shared_run().trials      # not a table


def test_a_user_module_gets_every_check(pytester):
    pytester.makepyfile(test_mine='''
        from methods import Decision, Scheduler, Suggestion
        from methods.testing import SchedulerConformance

        class MyScheduler(Scheduler):
            def __init__(self, config_space, **kwargs):
                super().__init__(config_space, **kwargs)
                self.n_started = 0
            def suggest(self, time):
                if self.candidates is None:
                    return Suggestion.start(self.config_space.sample(self.rng))
                if self.n_started < len(self.candidates):
                    return Suggestion.start(self.candidates[self.n_started])
                return None
            def on_start(self, trial):
                self.n_started += 1
            def on_report(self, trial, fidelity, metrics, time):
                return Decision.CONTINUE

        class TestMine(SchedulerConformance):
            method = MyScheduler
            max_trials = 20

        class TestRegistered(SchedulerConformance):
            method = "RandomSearch"
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2 * (len(CHECKS) - 1), skipped=2)


def test_the_recorder_forwards_attributes_and_records_calls():
    rec = RecordingScheduler(Sequential(synthetic_space(), metric="loss", fidelity_values=[1, 2]), synthetic_space())
    s = rec.suggest(0.0)
    trial = Trial(0, s.config)
    rec.on_start(trial)
    rec.on_report(trial, 2, {"loss": 0.5}, 1.0)
    rec.on_end(trial, TrialStatus.COMPLETED)
    rec.on_report(trial, 2, {"loss": 0.5}, 2.0)
    assert rec.max_fidelity == 2 and rec.wrapped.started == 1
    assert [c[0] for c in rec.calls] == ["suggest", "start", "report", "end", "report"]
    assert rec.calls_after_the_end() == ["report of trial 0 after it ended (completed)"]


# ---------------------------------------------------------------- broken schedulers fail
def test_resuming_a_trial_that_is_not_paused_fails():
    class ResumesRunning(Sequential):
        def suggest(self, time: float) -> Suggestion | None:
            return Suggestion.resume_trial(0) if self.started >= 2 else super().suggest(time)

    with pytest.raises(SchedulerProtocolError, match="only paused trials can be resumed"):
        conformance(ResumesRunning).test_failed_trials_are_handled()


def test_ignoring_the_mode_fails():
    class IgnoresMode(ASHA):
        def score(self, metrics: Mapping[str, float]) -> float:
            v = float(metrics.get(self.metric, math.nan))
            return math.inf if math.isnan(v) else v

    suite = conformance(IgnoresMode)
    with pytest.raises(AssertionError, match="different runs"):
        suite.test_mode_max_on_the_negated_metric_gives_the_same_run()


def test_following_the_opposite_mode_fails():
    class InvertsMode(ASHA):
        def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
            super().__init__(config_space, **kwargs)
            self._sign = -self._sign

    with pytest.raises(AssertionError, match="is the mode followed"):
        conformance(InvertsMode).test_minimizing_never_ends_worse_than_maximizing()


def test_unseeded_randomness_fails():
    class Unseeded(Sequential):
        def next_config(self) -> dict | None:
            return random.choice(self.candidates) if self.candidates else self.config_space.sample(self.rng)

    with pytest.raises(AssertionError, match="two runs with seed 0 differ"):
        conformance(Unseeded).test_deterministic_under_a_seed()


def test_waiting_for_a_failed_trial_fails():
    class Batches(Sequential):
        """Batches of 4 trials, the next once all 4 reported at the top: a failure jams it."""

        def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
            super().__init__(config_space, **kwargs)
            self.finished = 0

        def suggest(self, time: float) -> Suggestion | None:
            if self.started % 4 == 0 and self.finished < self.started:
                return None
            return super().suggest(time)

        def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
            if fidelity == self.max_fidelity:
                self.finished += 1
            return Decision.CONTINUE

    with pytest.raises(AssertionError, match="jam"):
        conformance(Batches).test_failed_trials_are_handled()


def test_leaving_workers_idle_fails():
    class AtMostTwo(Sequential):
        def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
            super().__init__(config_space, **kwargs)
            self.running = 0

        def suggest(self, time: float) -> Suggestion | None:
            return None if self.running >= 2 else super().suggest(time)

        def on_start(self, trial: Trial) -> None:
            super().on_start(trial)
            self.running += 1

        def on_end(self, trial: Trial, status: TrialStatus) -> None:
            self.running -= 1

    with pytest.raises(AssertionError, match="never were all 16 workers busy"):
        conformance(AtMostTwo).test_keeps_every_worker_busy_and_reaches_the_largest_fidelity()


def test_repeating_candidates_forever_fails():
    class Repeats(Sequential):
        def next_config(self) -> dict | None:
            if self.candidates is None:
                return super().next_config()
            return self.candidates[self.started % len(self.candidates)]

    with pytest.raises(AssertionError, match="never answered None"):
        conformance(Repeats).test_nothing_now_when_candidates_run_out()


def test_configurations_outside_the_space_fail():
    class OutOfBounds(Sequential):
        def next_config(self) -> dict | None:
            config = super().next_config()
            return config if self.candidates is not None else {**config, "x": 2.0}

    with pytest.raises(AssertionError, match="outside the space"):
        conformance(OutOfBounds).test_valid_configurations_without_candidates()


def test_an_unclear_error_without_candidates_fails():
    class NeedsCandidates(Sequential):
        def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
            super().__init__(config_space, **kwargs)
            if self.candidates is None:
                raise MethodError("give candidates")

    with pytest.raises(AssertionError, match="does not mention 'finite'"):
        conformance(NeedsCandidates).test_valid_configurations_without_candidates()


def test_answering_something_else_than_a_suggestion_fails():
    class AnswersADict(Sequential):
        def suggest(self, time: float) -> Any:
            return self.next_config()

    with pytest.raises(AssertionError, match="expected a methods.Suggestion or None"):
        conformance(AnswersADict).test_on_start_once_per_started_trial()


class _Observing(Searcher):
    """Random configurations; observes reports (``uses_observations`` is True)."""

    def suggest(self, pending: Sequence[dict]) -> dict | None:
        return self.random_config()


class Observing(FIFO):
    """FIFO with a searcher that keeps a history (a fresh searcher per scheduler)."""

    def __init__(self, config_space: ConfigurationSpace, **kwargs: Any):
        super().__init__(config_space, searcher=_Observing(), **kwargs)


def test_a_searcher_keeping_discarded_suggestions_pending_fails():
    class KeepsDiscarded(Observing):
        def on_discard(self, suggestion: Suggestion) -> None:
            pass

    conformance(Observing).test_no_phantom_pending_configuration_at_the_end()
    suite = conformance(KeepsDiscarded)
    suite.test_on_discard_for_a_suggestion_beyond_the_trial_budget()    # the simulator did call it
    with pytest.raises(AssertionError, match="never started are still pending"):
        suite.test_no_phantom_pending_configuration_at_the_end()


def test_the_computed_blackbox_matches_the_table():
    table = conformance(Sequential).conformance_table()
    curve = synthetic_function().evaluate(table.configs()[5], seed=2)
    np.testing.assert_array_equal(np.column_stack([curve[name] for name in OBJECTIVES]), table.objectives[5, 2])
