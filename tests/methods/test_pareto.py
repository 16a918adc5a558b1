"""methods.pareto: hand-computed fronts and hypervolumes, and cross-checks against brute force."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from methods.pareto import (crowding_distance, dominates, epsilon_net_order, hypervolume,
                            hypervolume_contributions, non_dominated_mask, non_dominated_sort, priorities,
                            rank_order)


def brute_fronts(Y: np.ndarray) -> list[int]:
    """Front index by peeling: a row is in the current front if no remaining row dominates it."""
    left = set(range(len(Y)))
    front = [-1] * len(Y)
    level = 0
    while left:
        current = [i for i in left if not any(dominates(Y[j], Y[i]) for j in left if j != i)]
        for i in current:
            front[i] = level
        left -= set(current)
        level += 1
    return front


def union_volume(Y: np.ndarray, ref: np.ndarray) -> float:
    """Volume of the union of the boxes [y, ref] by inclusion-exclusion (exact, small sets)."""
    boxes = [y for y in Y if np.all(y < ref)]
    total = 0.0
    for r in range(1, len(boxes) + 1):
        for subset in itertools.combinations(boxes, r):
            corner = np.max(subset, axis=0)
            total += (-1) ** (r + 1) * float(np.prod(ref - corner))
    return total


def test_non_dominated_sort_of_a_hand_example():
    # front 0: a(1,4) b(2,2) c(4,1); front 1: d(3,3) e(2,5); front 2: f(4,4); g = a copy of b
    Y = [[1, 4], [2, 2], [4, 1], [3, 3], [2, 5], [4, 4], [2, 2]]
    assert non_dominated_sort(Y).tolist() == [0, 0, 0, 1, 1, 2, 0]
    assert non_dominated_mask(Y).tolist() == [True, True, True, False, False, False, True]


def test_non_dominated_sort_3d_hand_example():
    Y = [[1, 2, 3], [3, 2, 1], [2, 2, 2], [2, 3, 3], [4, 4, 4]]
    assert non_dominated_sort(Y).tolist() == [0, 0, 0, 1, 2]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_non_dominated_sort_matches_peeling_with_ties(k):
    rng = np.random.default_rng(k)
    for _ in range(30):
        Y = rng.integers(0, 5, size=(int(rng.integers(1, 25)), k)).astype(float)   # many ties and copies
        assert non_dominated_sort(Y).tolist() == brute_fronts(Y)


def test_hypervolume_2d_hand_computed():
    front = [[1, 3], [2, 2], [3, 1]]
    assert hypervolume(front, [4, 4]) == 6.0                # 3 + 2 + 1
    assert hypervolume(front + [[3, 3], [5, 0]], [4, 4]) == 6.0   # a dominated point, one beyond ref
    assert hypervolume([[0.5, 0.5]], [1, 2]) == 0.75
    assert hypervolume([[4, 1]], [4, 4]) == 0.0             # on the reference point's boundary


def test_hypervolume_3d_hand_computed():
    ref = [3, 3, 3]
    assert hypervolume([[1, 1, 2], [2, 2, 1]], ref) == 5.0           # 4 + 2 - 1
    assert hypervolume([[1, 2, 2], [2, 1, 2], [2, 2, 1]], ref) == 4.0  # 3 * 2 - 3 * 1 + 1
    assert hypervolume([[0, 0, 0]], ref) == 27.0


@pytest.mark.parametrize("k", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(k):
    rng = np.random.default_rng(10 + k)
    for _ in range(20):
        Y = rng.random((int(rng.integers(1, 7)), k))
        ref = np.full(k, 1.1)
        assert hypervolume(Y, ref) == pytest.approx(union_volume(Y, ref), rel=1e-12, abs=1e-12)


def test_hypervolume_contributions_hand_computed():
    assert hypervolume_contributions([[1, 3], [2, 2], [3, 1], [3, 3]], [4, 4]).tolist() == [1.0, 1.0, 1.0, 0.0]
    assert hypervolume_contributions([[1, 2], [2, 1]], [3, 3]).tolist() == [1.0, 1.0]


def test_crowding_distance_and_epsilon_net():
    assert crowding_distance([[0, 4], [1, 3], [2, 1], [4, 0]]).tolist() == [np.inf, 1.25, 1.5, np.inf]
    # seeded by the best first objective, then farthest first (objectives scaled to [0, 1])
    assert epsilon_net_order([[0, 1000], [1, 900], [5, 500], [10, 0]]).tolist() == [0, 3, 2, 1]


def test_rank_order_fronts_first_then_tie_break():
    Y = np.array([[3, 3], [1, 3], [2, 2], [3, 1], [0.5, 5]])
    for tie_break in ("eps_net", "hypervolume", "crowding"):
        order = rank_order(Y, tie_break).tolist()
        assert sorted(order[:4]) == [1, 2, 3, 4] and order[4] == 0, tie_break
    assert priorities(Y, "eps_net")[0] == 4
    with pytest.raises(ValueError, match="tie_break"):
        rank_order(Y, "random")


def test_nan_is_refused():
    with pytest.raises(ValueError, match="NaN"):
        non_dominated_sort([[1.0, np.nan]])


def test_non_dominated_mask_2d_matches_the_sort():
    rng = np.random.default_rng(5)
    for _ in range(30):
        Y = rng.integers(0, 6, size=(int(rng.integers(1, 40)), 2)).astype(float)
        assert non_dominated_mask(Y).tolist() == [f == 0 for f in brute_fronts(Y)]


def test_non_dominated_mask_3d_in_blocks_matches_one_block(monkeypatch):
    import methods.pareto as pareto

    Y = np.random.default_rng(3).integers(0, 8, size=(300, 3)).astype(float)
    whole = non_dominated_mask(Y)
    monkeypatch.setattr(pareto, "_CHUNK", 37)
    assert non_dominated_mask(Y).tolist() == whole.tolist() == [f == 0 for f in brute_fronts(Y)]
