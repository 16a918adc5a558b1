"""Random search on a real table matches the exact order-statistics formula.

With N configurations drawn uniformly with replacement from M tabulated ones whose final
values sorted ascending are e(1) <= ... <= e(M),

    E[min of N] = sum_k e(k) * [((M - k + 1) / M)^N - ((M - k) / M)^N].

The simulated mean over many seeds must agree within sampling error (4 standard errors).
"""
from __future__ import annotations

import numpy as np
import pytest

from blackbox_repo import DEFAULT_BLACKBOX, load_blackbox
from simulator import make_scheduler, simulate


def expected_min_of_n(values: np.ndarray, n: int) -> float:
    e = np.sort(values)
    m = len(e)
    k = np.arange(1, m + 1)
    weights = ((m - k + 1) / m) ** n - ((m - k) / m) ** n
    return float(np.sum(e * weights))


def test_formula_on_a_tiny_case_by_enumeration():
    values = np.array([3.0, 1.0, 2.0])
    # all 9 ordered pairs: min over each pair
    mins = [min(a, b) for a in values for b in values]
    assert expected_min_of_n(values, 2) == pytest.approx(np.mean(mins))


@pytest.mark.parametrize("n_trials", [1, 8])
def test_random_search_best_of_n_matches_order_statistics(n_trials):
    tasks = load_blackbox(DEFAULT_BLACKBOX)
    bb = tasks[sorted(tasks)[0]]
    metric = bb.metric
    final = np.asarray(bb.objective(metric))[:, 0, -1].astype(np.float64)
    assert not np.isnan(final).any()
    sign = 1.0 if bb.mode == "min" else -1.0
    expected = sign * expected_min_of_n(sign * final, n_trials)

    bests = []
    for seed in range(300):
        scheduler = make_scheduler("RandomSearch", bb, seed=seed, allow_duplicates=True)
        res = simulate(bb, scheduler, n_workers=1, stop={"max_trials": n_trials}, seed=seed, blackbox_seed=0)
        done = res.results[res.results["decision"] == "complete"]
        assert len(done) == n_trials
        bests.append(sign * np.min(sign * done[metric].to_numpy(np.float64)))
    bests = np.asarray(bests)
    se = bests.std(ddof=1) / np.sqrt(len(bests))
    assert abs(bests.mean() - expected) < 4 * se + 1e-12, (bests.mean(), expected, se)
