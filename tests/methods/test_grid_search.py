from __future__ import annotations

import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice, loguniform, ordinal, uniform
from methods import Decision, MethodError, create
from methods.grid_search import GridSearch


def test_candidates_are_replayed_in_the_given_order(make_trial):
    space = ConfigurationSpace({"lr": loguniform(1e-4, 1), "act": choice(["relu", "tanh"])})
    rows = [{"lr": 0.3, "act": "tanh"}, {"lr": 0.001, "act": "relu"}, {"lr": 0.02, "act": "relu"}]
    gs = create("GridSearch", space, metric="err", fidelity_values=[1, 10], candidates=rows)
    got = [gs.suggest(float(t)) for t in range(3)]
    assert [s.config for s in got] == rows
    assert all(s.max_fidelity == 10 for s in got)
    assert gs.suggest(3.0) is None and gs.suggest(4.0) is None
    assert gs.report_levels() == []
    assert gs.on_report(make_trial(0), 10, {"err": 0.5}, 0.0) == Decision.CONTINUE


def test_finite_space_in_grid_order():
    space = ConfigurationSpace({"a": ordinal([1, 2, 3]), "b": choice(["x", "y"])})
    gs = GridSearch(space, metric="err")
    got = []
    while (s := gs.suggest(0.0)) is not None:
        got.append((s.config["a"], s.config["b"]))
    assert got == [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y")]


def test_infinite_space_is_refused_naming_the_hyperparameters():
    space = ConfigurationSpace({"lr": loguniform(1e-4, 1), "act": choice(["relu"]), "m": uniform(0, 1)})
    with pytest.raises(MethodError, match=r"infinitely many values: \['lr', 'm'\]"):
        GridSearch(space, metric="err")


def test_grid_search_ignores_the_seed():
    space = ConfigurationSpace({"a": ordinal([1, 2, 3])})
    assert [GridSearch(space, metric="e", seed=s).suggest(0).config for s in (0, 1)] == [{"a": 1}] * 2
