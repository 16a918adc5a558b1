from __future__ import annotations

import time

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice, loguniform, randint, uniform
from methods import Decision, create
from methods.random_search import ConfigSampler, RandomSearch

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
