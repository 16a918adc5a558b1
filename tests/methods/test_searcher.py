"""The searcher layer: registry, argument checks, binding, candidate pools, pending rows."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice, constant, uniform
from methods import MethodError, create
from methods.asha import ASHA
from methods.base import Trial, TrialStatus
from methods.searcher import SEARCHERS, RandomSearcher, Searcher, attach_searcher, make_searcher

SPACE = ConfigurationSpace({"x": uniform(0, 1), "c": choice(["a", "b", "c"])})


def _bound(name: str = "random", candidates=None, **args) -> Searcher:
    s = make_searcher(name, **args)
    s.bind(SPACE, metric="loss", mode="min", rng=np.random.default_rng(0), candidates=candidates)
    return s


def test_registry_has_the_names_users_know_with_aliases():
    for name in ("random", "bayesopt", "gp", "tpe", "kde", "rea", "evolution"):
        assert name in SEARCHERS
    assert SEARCHERS["gp"] is SEARCHERS["bayesopt"] and SEARCHERS["kde"] is SEARCHERS["tpe"]
    assert type(make_searcher("TPE")).__name__ == "TPESearcher"      # case-insensitive


def test_unknown_searcher_names_the_value_the_allowed_names_and_a_hint():
    with pytest.raises(MethodError, match=r"unknown searcher 'rndom'.*'random'.*Did you mean 'random'"):
        make_searcher("rndom")
    with pytest.raises(MethodError, match="searcher must be a searcher name or a Searcher instance, got 3"):
        make_searcher(3)


def test_unknown_and_out_of_range_searcher_arguments_fail_naming_the_value():
    with pytest.raises(MethodError, match="top_n_precent"):
        make_searcher("tpe", top_n_precent=10)
    with pytest.raises(MethodError, match="population_size"):
        make_searcher("rea", population_size=5, sample_size=10)
    with pytest.raises(MethodError, match="min_bandwidth"):
        make_searcher("tpe", min_bandwidth=-1.0)
    with pytest.raises(MethodError, match="searcher_args .* given with a searcher instance"):
        make_searcher(RandomSearcher(), allow_duplicates=True)


def test_bad_searcher_fails_when_the_method_is_created_before_any_simulation():
    with pytest.raises(MethodError, match="unknown searcher 'rndom'"):
        create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher="rndom")
    with pytest.raises(MethodError, match="searcher_args must be a mapping"):
        create("ASHA", SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher="tpe", searcher_args=[1])


def test_gp_on_a_space_of_constants_fails_naming_the_space():
    with pytest.raises(MethodError, match="needs at least one hyperparameter that is not a constant"):
        create("BayesianOptimization", ConfigurationSpace({"k": constant(3)}), metric="loss")


def test_a_searcher_instance_serves_one_scheduler():
    s = RandomSearcher()
    ASHA(SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher=s)
    with pytest.raises(MethodError, match="already used by a scheduler"):
        ASHA(SPACE, metric="loss", fidelity_values=[1, 3, 9], searcher=s)


def test_attach_searcher_applies_scheduler_defaults_unless_the_user_sets_them():
    class Holder:
        config_space, metric, mode, candidates, fidelity_values = SPACE, "loss", "max", None, [1, 2]
        rng = np.random.default_rng(1)

    h = Holder()
    s = attach_searcher(h, "rea", {"population_size": 20}, population_size=50, sample_size=5)
    assert h.searcher is s and (s.population_size, s.sample_size) == (20, 5)
    assert s.sign == -1.0 and s.max_fidelity == 2


def test_scores_are_lower_is_better_whatever_the_mode():
    s = make_searcher("tpe")
    s.bind(SPACE, metric="acc", mode="max", rng=np.random.default_rng(0))
    t = Trial(0, s.next_config())
    s.on_start(t)
    s.observe(t, 1, {"acc": 0.9})
    assert s.history.best() == (-0.9, 0)


def test_candidate_pool_gives_distinct_unused_rows_and_shrinks_as_rows_are_used():
    rows = [{"x": i / 10, "c": "a"} for i in range(10)]
    s = _bound("tpe", candidates=rows)
    got = s.candidate_pool_indices(4)
    assert len(set(got)) == 4 and all(0 <= i < 10 for i in got)
    for _ in range(7):
        s.next_config()
    left = s.candidate_pool(10)
    assert len(left) == 3 and not any(s.is_used(c) for c in left)
    assert sorted(s.candidates[i]["x"] for i in s.candidate_pool_indices(10)) == sorted(c["x"] for c in left)
    s.next_config(), s.next_config(), s.next_config()
    assert s.candidate_pool(10) == [] and s.exhausted


def test_candidate_features_are_the_encoded_rows_computed_once():
    rows = [{"x": 0.25, "c": "b"}, {"x": 0.5, "c": "c"}]
    s = _bound("tpe", candidates=rows)
    X = s.candidate_features()
    assert X is s.candidate_features()
    np.testing.assert_allclose(X, s.encoder.encode(rows))


def test_a_discarded_suggestion_is_neither_pending_nor_used():
    s = _bound("tpe", candidates=[{"x": 0.1, "c": "a"}, {"x": 0.2, "c": "a"}])
    config = s.next_config()
    assert s.history.pending_configs() == [config] and s.is_used(config)
    s.on_discard(config)
    assert s.history.pending_configs() == [] and not s.is_used(config)


def test_pending_rows_leave_out_running_trials_observed_at_the_model_fidelity():
    s = _bound("tpe")
    t0, t1 = Trial(0, s.next_config()), Trial(1, s.next_config())
    s.on_start(t0)
    s.on_start(t1)
    waiting = s.next_config()                          # handed out, not started
    s.observe(t0, 1, {"loss": 0.5})                    # t0 paused at fidelity 1, still running
    pending = s.history.pending_configs()
    assert len(pending) == 3
    rows = s.pending_rows(pending, 1)
    np.testing.assert_allclose(rows, np.vstack([s.history.rows([1]), s.encoder.encode([waiting])]))
    assert len(s.pending_rows(pending, 3)) == 3         # at fidelity 3 t0 is still pending
    s.on_end(t1, TrialStatus.COMPLETED)
    assert len(s.pending_rows(s.history.pending_configs(), 1)) == 1
    assert s.pending_rows([], 1) is None
