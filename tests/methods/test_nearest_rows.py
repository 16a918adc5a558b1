"""NearestRows: the nearest unused row, as a brute-force search over all rows finds it."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from methods.nearest_rows import NearestRows


def _table(rng: np.random.Generator, sizes: list[int], n_numeric: int, n: int) -> tuple[np.ndarray, list]:
    groups, col = [], 0
    for s in sizes:
        groups.append(np.arange(col, col + s))
        col += s
    rows = np.zeros((n, col + n_numeric))
    for g in groups:
        rows[np.arange(n), g[rng.integers(len(g), size=n)]] = 1.0
    rows[:, col:] = rng.random((n, n_numeric))
    return rows, groups


def _brute(rows: np.ndarray, used: set[int], v: np.ndarray) -> int | None:
    dist = ((rows - v) ** 2).sum(axis=1)
    free = [i for i in range(len(rows)) if i not in used]
    if not free:
        return None
    best = min(dist[i] for i in free)
    return min(i for i in free if abs(dist[i] - best) <= 1e-9)


@pytest.mark.parametrize("sizes,n_numeric,chunk", [([5] * 6, 0, 4096), ([3, 4, 2], 2, 4096),
                                                   ([5] * 4, 1, 5), ([], 3, 4096)])
def test_matches_brute_force_while_rows_get_used(sizes: list[int], n_numeric: int, chunk: int) -> None:
    rng = np.random.default_rng(len(sizes) + n_numeric)
    rows, groups = _table(rng, sizes, n_numeric, 300)
    search = NearestRows(rows, groups, chunk=chunk)
    used: set[int] = set()
    for _ in range(120):
        v = rng.random(rows.shape[1])
        row = search.nearest(v)
        assert row == _brute(rows, used, v)
        search.use(row)
        used.add(row)
        assert not search.is_free(row)


def test_exact_ties_go_to_the_first_row_whatever_the_other_entries() -> None:
    # every combination of two 3-valued choices, twice: rows k and k + 9 are equal
    combos = list(itertools.product(range(3), range(3))) * 2
    rows = np.zeros((len(combos), 7))
    for i, (a, b) in enumerate(combos):
        rows[i, a] = rows[i, 3 + b] = 1.0
    rows[:, 6] = 0.3
    search = NearestRows(rows, [np.arange(3), np.arange(3, 6)])
    v = np.array([0.5, 0.0, 0.5, 0.8331, 0.1, 0.8331, 0.7])   # ties within both groups
    assert search.nearest(v) == 0                               # (0, 0), first of the 4 tied rows
    search.use(0)
    assert search.nearest(v) == 2                               # (0, 2)
    search.use(2)
    search.release(0)
    assert search.nearest(v) == 0


def test_a_group_that_is_not_one_hot_is_searched_as_plain_columns() -> None:
    rows = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    search = NearestRows(rows, [np.array([0, 1])])
    assert search.nearest(np.array([0.45, 0.55])) == 0
    assert search.nearest(np.array([0.9, 0.1])) == 1


def test_all_used_or_empty_gives_none() -> None:
    search = NearestRows(np.eye(2), [np.array([0, 1])])
    search.use(0)
    search.use(1)
    assert search.nearest(np.array([1.0, 0.0])) is None
    assert NearestRows(np.zeros((0, 2)), [np.array([0, 1])]).nearest(np.array([1.0, 0.0])) is None
