"""MOREA and NSGA2: the population ranked by non-dominated sorting, on REA's machinery."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice
from methods import MethodError, Trial, create
from methods.morea import MOREASearcher, NSGA2Searcher

SPACE = ConfigurationSpace({"a": choice(list(range(10))), "b": choice(list(range(10)))})


def feed(searcher, vectors):
    for i, (e, s) in enumerate(vectors):
        t = Trial(i, searcher.next_config())
        searcher.on_start(t)
        searcher.observe(t, 1, {"err": e, "size": s})


def bound(cls, **kw):
    s = cls(**kw)
    s.bind(SPACE, metric=["err", "size"], mode=["min", "max"], rng=np.random.default_rng(0))
    return s


def test_morea_parent_is_the_best_ranked_of_the_sample():
    s = bound(MOREASearcher, population_size=4, sample_size=4)
    feed(s, [(3, 1), (1, 5), (2, 2), (0, 0)])     # size is maximized: (1, 5) and (0, 0) are the front
    prio = s.member_priorities()
    assert sorted(prio.tolist()) == [0, 1, 2, 3]
    assert set(np.flatnonzero(prio <= 1).tolist()) == {1, 3}
    # aging: a fifth member replaces the oldest (3, 1)
    feed_more = Trial(4, s.next_config())
    s.on_start(feed_more)
    s.observe(feed_more, 1, {"err": 5, "size": 0})
    assert [m[0] for m in s.population] == [1, 2, 3, 4]
    # the parent is the sampled member of lowest multi-objective priority
    for _ in range(5):
        picks = s.rng.integers(4, size=4)
        assert s.member_priorities()[s.select_parent(picks)] == s.member_priorities()[picks].min()


def test_morea_ignores_reports_without_every_metric():
    s = bound(MOREASearcher, population_size=3, sample_size=2)
    t = Trial(0, s.next_config())
    s.on_start(t)
    s.observe(t, 1, {"err": 1.0})
    assert s.population == []


def test_nsga2_is_elitist():
    s = bound(NSGA2Searcher, population_size=3)
    feed(s, [(1, 1), (2, 2), (3, 3), (9, 0), (0, 9)])
    # (9, 0) is dominated by all (size is maximized): it never enters; (0, 9) dominates all and enters
    members = sorted(tuple(m[2]) for m in s.population)
    assert (9.0, -0.0) not in members and (0.0, -9.0) in members and len(members) == 3


def test_nsga2_children_differ_from_every_earlier_configuration():
    s = bound(NSGA2Searcher, population_size=4)
    feed(s, [(i, i) for i in range(4)])
    seen = {tuple(c.values()) for c in s.history.configs.values()}
    for _ in range(20):
        c = s.next_config()
        assert tuple(c.values()) not in seen
        seen.add(tuple(c.values()))


def test_schedulers_and_bad_arguments():
    m = create("NSGA2", SPACE, metric="err,size", mode="min,max", fidelity_values=[1, 3])
    assert m.metric == ["err", "size"] and m.mode == ["min", "max"] and m.suggest(0.0).max_fidelity == 3
    with pytest.raises(MethodError, match="population_size must be an integer >= 2"):
        create("NSGA2", SPACE, metric="err,size", population_size=1)
    with pytest.raises(MethodError, match="crossover_prob"):
        create("NSGA2", SPACE, metric="err,size", crossover_prob=1.5)
    with pytest.raises(MethodError, match="optimizes one metric, got 2"):
        create("REA", SPACE, metric="err,size", mode="min,max")
