"""methods.base: the objectives a method is given (one metric, or several with a mode each)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from blackbox_repo.errors import InputError
from methods import MethodError, create
from methods.base import parse_objectives
from methods.registry import check_objectives, multi_objective_methods

SPACE = ConfigurationSpace({"x": uniform(0, 1)})


def test_parse_objectives_forms():
    assert parse_objectives("loss") == (["loss"], ["min"])
    assert parse_objectives("a, b", "max,min") == (["a", "b"], ["max", "min"])
    assert parse_objectives(("a", "b"), ["max", "min"]) == (["a", "b"], ["max", "min"])
    assert parse_objectives(["a", "b"], "max") == (["a", "b"], ["max", "max"])   # one mode for all


@pytest.mark.parametrize("metric, mode, match", [
    ("a,b", "max,min,min", r"2 metrics \['a', 'b'\] but 3 modes"),
    ("a,b,c", ["max", "min"], r"3 metrics .* but 2 modes"),
    ("a", "max,min", r"1 metric \['a'\] but 2 modes"),
    ("a,b", "max,up", r"mode 'up' is not valid; allowed: 'min' or 'max'"),
    ("a,,b", "min", "empty name"),
    ("a,a", "min", "twice"),
    (3, "min", "metric must be"),
])
def test_parse_objectives_rejects_with_what_is_allowed(metric, mode, match):
    with pytest.raises(MethodError, match=match) as e:
        parse_objectives(metric, mode)
    assert isinstance(e.value, InputError)


def test_multi_objective_method_given_one_metric():
    for name in multi_objective_methods():
        with pytest.raises(MethodError, match=rf"method '{name}' is multi-objective: it needs at least two "
                                              r"metrics.*got \['loss'\].*single-objective method \(.*ASHA"):
            create(name, SPACE, metric="loss", mode="min")


def test_single_objective_method_given_two_metrics():
    with pytest.raises(MethodError, match=r"method 'ASHA' optimizes one metric, got 2: \['acc', 'latency'\]; "
                                          r"give one metric, or use a multi-objective method \(.*MOASHA"):
        create("ASHA", SPACE, metric=["acc", "latency"], mode=["max", "min"])
    with pytest.raises(MethodError, match="optimizes one metric, got 2"):
        create("RandomSearch", SPACE, metric="acc,latency", mode="max")


def test_check_objectives_names_the_blackbox_objectives():
    with pytest.raises(MethodError, match=r"metric 'latncy' is not an objective .*\['acc', 'latency'\].*'latency'"):
        check_objectives("MOASHA", "acc,latncy", "max,min", objectives=["acc", "latency"])


def test_scheduler_attributes_and_score_vector():
    s = create("MORandomSearch", SPACE, metric="acc,latency", mode="max,min")
    assert (s.metric, s.mode, s.metrics, s.modes) == (["acc", "latency"], ["max", "min"],
                                                      ["acc", "latency"], ["max", "min"])
    assert s.score_vector({"acc": 0.5, "latency": 2.0}).tolist() == [-0.5, 2.0]
    assert s.score_vector({"acc": math.nan}).tolist() == [math.inf, math.inf]
    one = create("RandomSearch", SPACE, metric="loss", mode="max")
    assert (one.metric, one.mode, one.metrics) == ("loss", "max", ["loss"])
    assert np.array_equal(one.score_vector({"loss": 2.0}), [-2.0]) and one.score({"loss": 2.0}) == -2.0


def test_a_method_taking_either_one_or_several_metrics():
    from methods.random_search import RandomSearch

    class Either(RandomSearch):
        multi_objective = None

    assert Either(SPACE, metric="loss").metric == "loss"
    both = Either(SPACE, metric="acc,latency", mode="max,min")
    assert both.metric == ["acc", "latency"] and both.mode == ["max", "min"]
