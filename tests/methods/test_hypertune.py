"""Tests of Hyper-Tune (methods/hypertune.py and HyperTuneSearcher in methods/mf_gp.py)."""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods import create
from methods.base import MethodError, Trial
from methods.rungs import hyperband_distribution

SPACE = ConfigurationSpace({"x": uniform(0, 1)})
FIDELITIES = list(range(1, 28))
LEVELS = [1, 3, 9, 27]


def _fed(score_at, seed: int = 0, model: str = "independent"):
    """HyperTune with 4 brackets whose searcher has seen 24 configurations at level 1, 12 at 3 and
    8 at 9 (level 9 is the highest supported one: 27 has fewer than 6 observations)."""
    ht = create("HyperTune", SPACE, metric="loss", fidelity_values=FIDELITIES, brackets=4, seed=seed, model=model)
    xs = np.random.default_rng(seed).uniform(size=24)
    for i, x in enumerate(xs.tolist()):
        t = Trial(i, {"x": x})
        ht.searcher.on_start(t)
        for level, n in ((1, 24), (3, 12), (9, 8)):
            if i < n:
                ht.searcher.observe(t, level, {"loss": score_at(level, x)})
    return ht


def test_identical_rankings_spread_the_weight_and_favour_the_most_aggressive_bracket():
    # the same ranking at every level (each level shifted): every level ranks the top level's
    # configurations as well as the top level does (ties count for each level, Li et al. 2022), so
    # no level loses weight, and the bracket distribution theta_k / r_k favours the cheapest start
    ht = _fed(lambda level, x: (x - 0.4) ** 2 + 1.0 / level)
    weights = ht.searcher.ensemble_weights()
    assert weights is not None and set(weights) == {1, 3, 9}
    assert min(weights.values()) > 0.25 and sum(weights.values()) == pytest.approx(1.0)
    p = ht.bracket_probabilities()
    default = hyperband_distribution(LEVELS, 4)
    assert p.sum() == pytest.approx(1.0) and p[0] > default[0] and p[0] == p.max()
    assert p[3] == pytest.approx(default[3])          # the unsupported tail keeps Hyperband's mass


def test_reversed_low_level_rankings_put_the_weight_on_the_top_level():
    # (the independent model: the joint model's shared configuration kernel cannot represent a
    # ranking that flips between levels)
    ht = _fed(lambda level, x: (x - 0.4) ** 2 if level == 9 else 1.0 - (x - 0.4) ** 2)
    weights = ht.searcher.ensemble_weights()
    assert weights.get(9, 0.0) > 0.9
    p = ht.bracket_probabilities()
    assert p[2] > 0.8 and p[0] < 0.05


def test_weights_are_deterministic_per_seed():
    score = lambda level, x: (x - 0.4) ** 2 + 1.0 / level  # noqa: E731
    assert _fed(score, seed=1).searcher.ensemble_weights() == _fed(score, seed=1).searcher.ensemble_weights()


def test_brackets_beyond_the_rung_levels_are_refused():
    with pytest.raises(MethodError, match=r"brackets=5 is not valid; with rung levels \[1, 3, 9, 27\] it must "
                                          r"be an integer in 1..4"):
        create("HyperTune", SPACE, metric="loss", fidelity_values=FIDELITIES, brackets=5)
    with pytest.raises(MethodError, match="brackets=0"):
        create("HyperTune", SPACE, metric="loss", fidelity_values=FIDELITIES, brackets=0)


def test_defaults_and_shared_rungs():
    ht = create("HyperTune", SPACE, metric="loss", fidelity_values=FIDELITIES)
    assert (ht.type, ht.model, ht.brackets) == ("stopping", "independent", 1)
    # promotion with 2 brackets: one rung system; a trial of bracket 1 is recorded from rung 3 on
    ht = create("HyperTune", SPACE, metric="loss", fidelity_values=FIDELITIES, type="promotion", brackets=2)
    t0, t1 = Trial(0, {"x": 0.1}, meta=1), Trial(1, {"x": 0.2}, meta=0)
    assert ht.on_report(t0, 1, {"loss": 0.5}, 1.0).value == "continue"    # below its first rung
    assert ht.on_report(t0, 3, {"loss": 0.5}, 2.0).value == "pause"
    assert ht.on_report(t1, 1, {"loss": 0.9}, 3.0).value == "pause"
