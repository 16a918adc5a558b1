from __future__ import annotations

import time

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice, loguniform, randint
from methods import Decision, create
from methods.random_search import RandomSearch
from methods.sampling import ConfigSampler

SPACE = ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "layers": randint(1, 4),
                            "act": choice(["relu", "tanh"])})


def test_samples_valid_configurations_to_the_largest_fidelity(make_trial):
    rs = RandomSearch(SPACE, metric="loss", fidelity_values=[1, 2, 50], seed=0)
    for _ in range(300):
        s = rs.suggest(0.0)
        SPACE.validate(s.config)
        assert s.max_fidelity == 50 and s.resume is None
    assert rs.report_levels() == []
    assert rs.on_report(make_trial(0), 50, {"loss": 1.0}, 0.0) == Decision.CONTINUE


def test_samples_cover_the_space():
    rs = RandomSearch(SPACE, metric="loss", seed=0)
    configs = [rs.suggest(0.0).config for _ in range(4000)]
    lr = np.log10([c["lr"] for c in configs])
    assert -4 <= lr.min() < -3.9 and -1.1 < lr.max() <= -1
    assert abs(np.mean(lr) - (-2.5)) < 0.05
    assert sorted({c["layers"] for c in configs}) == [1, 2, 3, 4]
    assert abs(np.mean([c["act"] == "relu" for c in configs]) - 0.5) < 0.03


def test_candidates_without_replacement_then_nothing_for_good():
    cands = [{"lr": 10.0 ** -i, "layers": 1, "act": "relu"} for i in range(1, 11)]
    rs = RandomSearch(SPACE, metric="loss", candidates=cands, seed=3)
    got = [rs.suggest(0.0) for _ in range(10)]
    assert sorted(s.config["lr"] for s in got) == sorted(c["lr"] for c in cands)
    assert [s.config["lr"] for s in got] != [c["lr"] for c in cands]   # shuffled
    assert rs.suggest(0.0) is None and rs.suggest(1.0) is None


def test_candidates_with_duplicates_allowed():
    cands = [{"lr": 10.0 ** -i, "layers": 1, "act": "relu"} for i in range(1, 6)]
    rs = RandomSearch(SPACE, metric="loss", candidates=cands, allow_duplicates=True, seed=0)
    got = [rs.suggest(0.0).config["lr"] for _ in range(500)]
    assert set(got) == {c["lr"] for c in cands}
    counts = np.unique(got, return_counts=True)[1]
    assert counts.min() > 70


def test_finite_space_is_exhausted_without_repeats():
    space = ConfigurationSpace({"a": choice([1, 2, 3]), "b": choice(["x", "y"])})
    rs = RandomSearch(space, metric="loss", seed=0)
    got = [rs.suggest(0.0) for _ in range(6)]
    assert sorted((s.config["a"], s.config["b"]) for s in got) == sorted(
        (c["a"], c["b"]) for c in space.grid())
    assert rs.suggest(0.0) is None


def test_same_seed_same_configurations():
    def draw(seed, **kw):
        rs = create("RandomSearch", SPACE, metric="loss", seed=seed, **kw)
        return [rs.suggest(0.0).config for _ in range(250)]
    assert draw(7) == draw(7)
    assert draw(7) != draw(8)
    cands = [{"lr": 10.0 ** -(1 + i / 100), "layers": 2, "act": "tanh"} for i in range(300)]
    assert draw(1, candidates=cands) == draw(1, candidates=cands)
    assert draw(1, candidates=cands) != draw(2, candidates=cands)


def test_sampler_batches_do_not_change_the_stream():
    s1 = ConfigSampler(SPACE, np.random.default_rng(0), batch_size=256)
    s2 = ConfigSampler(SPACE, np.random.default_rng(0), batch_size=256)
    assert [s1.next() for _ in range(700)] == [s2.next() for _ in range(700)]


@pytest.mark.timing
@pytest.mark.parametrize("with_candidates", [False, True])
def test_suggest_is_fast(with_candidates):
    cands = [{"lr": 1e-3, "layers": i % 4 + 1, "act": "relu"} for i in range(20000)] if with_candidates else None
    rs = RandomSearch(SPACE, metric="loss", candidates=cands, allow_duplicates=False, seed=0)
    rs.suggest(0.0)
    t0 = time.perf_counter()
    for _ in range(19000):
        rs.suggest(0.0)
    per_call = (time.perf_counter() - t0) / 19000
    assert per_call < 20e-6, f"{per_call * 1e6:.1f} µs per suggest"


def _check_peek_then_draw(sampler: ConfigSampler, draws: int) -> int:
    """Peeks before every draw and checks that the peeked configurations are the ones drawn
    next; returns how many draws had a non-empty peek."""
    ahead: list = []
    seen_ahead = 0
    for _ in range(draws):
        peeked = sampler.peek()
        if peeked:
            seen_ahead += 1
            assert peeked[:len(ahead)] == ahead or not ahead
            ahead = list(peeked)
        got = sampler.next()
        if ahead:
            assert got == ahead.pop(0)
        if got is None:
            assert sampler.peek() == [] and not ahead
    return seen_ahead


def test_peek_shows_the_configurations_drawn_next_from_a_space():
    s = ConfigSampler(SPACE, np.random.default_rng(3), batch_size=16)
    assert s.peek() == []                       # nothing drawn yet: nothing known
    assert _check_peek_then_draw(s, 100) > 80
    # peeking changes nothing: the same stream as a sampler that never peeks
    quiet = ConfigSampler(SPACE, np.random.default_rng(3), batch_size=16)
    loud = ConfigSampler(SPACE, np.random.default_rng(3), batch_size=16)
    drawn = []
    for _ in range(70):
        loud.peek()
        drawn.append(loud.next())
    assert drawn == [quiet.next() for _ in range(70)]


def test_peek_from_candidates_maps_indices_to_candidate_dicts():
    cands = [{"lr": 10.0 ** -(1 + i / 10), "layers": 1 + i % 4, "act": "relu"} for i in range(30)]
    s = ConfigSampler(SPACE, np.random.default_rng(0), candidates=cands)
    first = s.next()
    ahead = s.peek()
    assert len(ahead) == 29 and all(c in cands for c in ahead)
    assert [first] + ahead != cands and sorted(map(str, [first] + ahead)) == sorted(map(str, cands))
    assert [s.next() for _ in range(29)] == ahead
    assert s.peek() == [] and s.next() is None
    dup = ConfigSampler(SPACE, np.random.default_rng(0), candidates=cands, allow_duplicates=True,
                        batch_size=8)
    assert _check_peek_then_draw(dup, 60) > 45


def test_peek_in_a_finite_space_skips_repeats_and_stops_at_exhaustion():
    space = ConfigurationSpace({"a": choice([1, 2, 3]), "b": choice(["x", "y"])})
    s = ConfigSampler(space, np.random.default_rng(1), batch_size=4)   # batches hold repeats
    _check_peek_then_draw(s, 10)
    assert s.exhausted and s.peek() == []
    s = ConfigSampler(space, np.random.default_rng(1), batch_size=64)
    s.next()
    ahead = s.peek()
    assert len(ahead) == 5 and len({(c["a"], c["b"]) for c in ahead}) == 5
    assert [s.next() for _ in range(5)] == ahead and s.next() is None


@pytest.mark.parametrize("name,kw", [("RandomSearch", {}), ("MedianStopping", {}),
                                     ("ASHA", {"brackets": 3}),
                                     ("ASHA", {"type": "promotion", "brackets": 2})])
@pytest.mark.parametrize("with_candidates", [False, True])
def test_upcoming_configs_are_the_configurations_suggested_next(name, kw, with_candidates):
    cands = [{"lr": 10.0 ** -(1 + i / 100), "layers": 1 + i % 4, "act": "tanh"} for i in range(400)]
    sched = create(name, SPACE, metric="loss", fidelity_values=[1, 3, 9], seed=5,
                   candidates=cands if with_candidates else None, **kw)
    twin = create(name, SPACE, metric="loss", fidelity_values=[1, 3, 9], seed=5,
                  candidates=cands if with_candidates else None, **kw)
    assert list(sched.upcoming_configs()) == []
    expected: list = []
    known = 0
    for _ in range(300):
        upcoming = list(sched.upcoming_configs())
        if expected:
            assert upcoming == expected               # still the same plan
        s = sched.suggest(0.0)
        assert s.config is not None                   # no reports: every suggestion is a start
        if upcoming:
            known += 1
            assert s.config == upcoming[0]
        expected = upcoming[1:]
        assert twin.suggest(0.0).config == s.config   # asking changes nothing
    assert known >= 290
