"""Pareto tools on score matrices (rows = points, columns = objectives, *lower is better*).

A leaf module (numpy only), shared by the multi-objective methods and the analysis:

- ``non_dominated_mask(Y)``: the rows no other row dominates (the Pareto front).
- ``non_dominated_sort(Y)``: the front index of every row (0 = the Pareto front), as in
  NSGA-II's fast non-dominated sort (Deb, Pratap, Agarwal & Meyarivan 2002); in 2-D an
  O(n log n) sweep (each front's last point decides whether it dominates a new one), in more
  dimensions an O(n^2) dominance matrix.
- ``crowding_distance(Y)``: NSGA-II's density estimate (boundary points: +inf).
- ``epsilon_net_order(Y)``: farthest-first order (Clarkson 2006, the epsilon-net of Salinas,
  Perrone, Archambeau & Cruchant 2021 used by Syne Tune's MOASHA and MO-REA), seeded by the
  best row of the first objective.
- ``hypervolume(Y, ref)``: the exact dominated hypervolume up to the reference point ``ref``:
  a sweep in 2-D (O(n log n)), and for 3 or more objectives slicing along the last objective
  (HSO, "hypervolume by slicing objectives", While, Hingston, Barone & Huband 2006), each slice
  solved one dimension lower -- O(n^2 log n) in 3-D, exponential in the dimension beyond:
  meant for fronts of a few hundred points.
- ``hypervolume_contributions(Y, ref)``: each row's exclusive contribution.
- ``rank_order(Y, tie_break)`` / ``priorities(Y, tie_break)``: every row ordered best first --
  by front, then within a front by epsilon-net, hypervolume contribution or crowding distance.

Rows must not contain NaN (replace by +inf: worst). A dominates B when A <= B in every
objective and A < B in one; identical rows do not dominate each other.

Example:
    >>> Y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [3.0, 3.0]])
    >>> non_dominated_sort(Y).tolist()
    [0, 0, 0, 1]
    >>> hypervolume(Y, ref=[4.0, 4.0])
    6.0
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["TIE_BREAKS", "dominates", "non_dominated_mask", "non_dominated_sort", "crowding_distance",
           "epsilon_net_order", "hypervolume", "hypervolume_contributions", "default_reference", "rank_order",
           "priorities"]

#: rows per block when the front of many rows in 3 or more dimensions is found block by block
_CHUNK = 1024

#: ways to order the points of one front: epsilon-net (Syne Tune's default), hypervolume
#: contribution (largest first) and NSGA-II's crowding distance (largest first)
TIE_BREAKS = ("eps_net", "hypervolume", "crowding")


def _matrix(Y: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2:
        raise ValueError(f"expected a 2-D array (points x objectives), got shape {Y.shape}")
    if np.isnan(Y).any():
        raise ValueError("scores contain NaN; replace them by +inf (the worst value) first")
    return Y


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """True iff ``a`` is no worse than ``b`` in every objective and better in one.

    Example:
        >>> dominates([1, 2], [1, 3]), dominates([1, 2], [1, 2]), dominates([1, 3], [2, 2])
        (True, False, False)
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(x <= y) and np.any(x < y))


def _sort_2d(Y: np.ndarray) -> np.ndarray:
    """Front index per row for two objectives: O(n log n).

    Rows are visited in lexicographic order, so every earlier row is no worse in the first
    objective. In each front the row added last has the smallest second objective, and it
    dominates a new row iff some member of its front does; fronts dominating a row form a
    prefix (domination is transitive), found by binary search.
    """
    n = len(Y)
    order = np.lexsort((Y[:, 1], Y[:, 0]))
    front = np.empty(n, dtype=np.int64)
    last_a: list[float] = []
    last_b: list[float] = []
    for i in order.tolist():
        a, b = Y[i, 0], Y[i, 1]
        lo, hi = 0, len(last_b)
        while lo < hi:
            mid = (lo + hi) // 2
            lb = last_b[mid]
            if lb < b or (lb == b and last_a[mid] < a):    # the front's last row dominates (a, b)
                lo = mid + 1
            else:
                hi = mid
        if lo == len(last_b):
            last_a.append(a)
            last_b.append(b)
        else:
            last_a[lo], last_b[lo] = a, b
        front[i] = lo
    return front


def _dominance(Y: np.ndarray) -> np.ndarray:
    """``D[i, j]``: row i dominates row j."""
    le = np.all(Y[:, None, :] <= Y[None, :, :], axis=2)
    lt = np.any(Y[:, None, :] < Y[None, :, :], axis=2)
    return le & lt


def non_dominated_sort(Y: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """The front index of every row: 0 for the non-dominated rows, 1 for those non-dominated
    once front 0 is removed, and so on (NSGA-II's non-dominated sorting).

    Example:
        >>> non_dominated_sort([[1, 5], [2, 4], [2, 6], [3, 3], [4, 4], [5, 5]]).tolist()
        [0, 0, 1, 0, 1, 2]
    """
    Y = _matrix(Y)
    n, k = Y.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if k == 1:
        _, inverse = np.unique(Y[:, 0], return_inverse=True)
        return inverse.astype(np.int64).reshape(-1)
    if k == 2:
        return _sort_2d(Y)
    dom = _dominance(Y)
    count = dom.sum(axis=0)
    front = np.full(n, -1, dtype=np.int64)
    current = np.flatnonzero(count == 0)
    level = 0
    while current.size:
        front[current] = level
        count = count - dom[current].sum(axis=0)
        count[front >= 0] = -1
        current = np.flatnonzero(count == 0)
        level += 1
    return front


def non_dominated_mask(Y: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Boolean mask of the rows on the Pareto front (dominated by no other row).

    Example:
        >>> non_dominated_mask([[1, 2], [2, 1], [2, 2], [1, 2]]).tolist()
        [True, True, False, True]
    """
    Y = _matrix(Y)
    if Y.shape[1] > 2 and len(Y) > _CHUNK:
        # the front of a union is the front of (the first part's front + the rest): chunk by chunk
        keep = np.zeros(0, dtype=np.int64)
        for start in range(0, len(Y), _CHUNK):
            cand = np.concatenate([keep, np.arange(start, min(start + _CHUNK, len(Y)))])
            keep = cand[non_dominated_sort(Y[cand]) == 0]
        mask = np.zeros(len(Y), dtype=bool)
        mask[keep] = True
        return mask
    if Y.shape[1] != 2 or len(Y) == 0:
        return non_dominated_sort(Y) == 0
    # 2-D, vectorized: among distinct rows in lexicographic order, a row is non-dominated iff its
    # second objective is below every earlier row's (identical rows share their verdict)
    U, inverse = np.unique(Y, axis=0, return_inverse=True)      # sorted lexicographically
    earlier = np.minimum.accumulate(np.concatenate([[np.inf], U[:-1, 1]]))
    return (U[:, 1] < earlier)[inverse.reshape(-1)]


def crowding_distance(Y: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row within the set ``Y`` (usually one front): per
    objective, the gap between the two neighbours divided by the objective's range, summed;
    the rows at either end of an objective get +inf.

    Example:
        >>> crowding_distance([[0, 4], [1, 3], [2, 1], [4, 0]]).tolist()
        [inf, 1.25, 1.5, inf]
    """
    Y = _matrix(Y)
    n, k = Y.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(Y[:, j], kind="stable")
        v = Y[order, j]
        dist[order[0]] = dist[order[-1]] = np.inf
        span = v[-1] - v[0]
        if span > 0 and np.isfinite(span):
            dist[order[1:-1]] += (v[2:] - v[:-2]) / span
    return dist


def _normalized(Y: np.ndarray) -> np.ndarray:
    if np.isfinite(Y).all():                          # the usual case, fast
        lo = Y.min(axis=0)
        span = Y.max(axis=0) - lo
        return (Y - lo) / np.where(span > 0, span, 1.0)
    finite = np.where(np.isfinite(Y), Y, np.nan)
    with np.errstate(all="ignore"):
        lo = np.nanmin(finite, axis=0) if np.isfinite(Y).any() else np.zeros(Y.shape[1])
        span = np.nanmax(finite, axis=0) - lo
    lo = np.where(np.isnan(lo), 0.0, lo)
    span = np.where(~np.isfinite(span) | (span <= 0), 1.0, span)
    out = (Y - lo) / span
    return np.where(np.isfinite(out), out, 1e6)


def epsilon_net_order(Y: Sequence[Sequence[float]] | np.ndarray, first: int = 0) -> np.ndarray:
    """Row indices in farthest-first order: the row best in objective ``first`` (the lowest
    index among equals), then repeatedly the row farthest (Euclidean) from those chosen.
    Objectives are scaled to [0, 1] over ``Y`` first, so that no objective's unit dominates
    (Syne Tune's ``compute_epsilon_net`` uses the raw values); ties go to the lower index.

    Example:
        >>> epsilon_net_order([[0, 10], [1, 9], [5, 5], [10, 0]]).tolist()
        [0, 3, 2, 1]
    """
    Y = _matrix(Y)
    n = len(Y)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = int(np.argmin(Y[:, first]))
    if n <= 2:
        return np.asarray([start, 1 - start][:n], dtype=np.int64)
    Z = _normalized(Y)
    diff = Z[:, None, :] - Z[None, :, :]
    D = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    order = [start]
    dmin = D[start].copy()
    dmin[start] = -1.0
    for _ in range(n - 1):
        nxt = int(np.argmax(dmin))
        order.append(nxt)
        np.minimum(dmin, D[nxt], out=dmin)
        dmin[order] = -1.0
    return np.asarray(order, dtype=np.int64)


def _hv2(P: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume of points that all dominate ``ref`` strictly: the front sorted by the
    first objective (the second then decreases) cut into slabs."""
    F = np.unique(P[non_dominated_mask(P)], axis=0)
    upper = np.concatenate([[ref[1]], F[:-1, 1]])
    return float(np.sum((ref[0] - F[:, 0]) * (upper - F[:, 1])))


def _hv(P: np.ndarray, ref: np.ndarray) -> float:
    k = P.shape[1]
    if len(P) == 0:
        return 0.0
    if k == 1:
        return float(ref[0] - P[:, 0].min())
    if k == 2:
        return _hv2(P, ref)
    P = P[non_dominated_mask(P)]
    P = P[np.argsort(P[:, -1], kind="stable")]
    hv = 0.0
    z = P[:, -1].tolist() + [float(ref[-1])]
    for i in range(len(P)):
        depth = z[i + 1] - z[i]
        if depth > 0:
            hv += depth * _hv(P[: i + 1, :-1], ref[:-1])
    return hv


def hypervolume(Y: Sequence[Sequence[float]] | np.ndarray, ref: Sequence[float] | np.ndarray) -> float:
    """The volume dominated by the rows of ``Y`` and bounded by the reference point ``ref``
    (lower is better; rows not strictly better than ``ref`` in every objective add nothing).
    Exact in any dimension (2-D sweep; HSO slicing beyond).

    Example:
        >>> hypervolume([[1, 1, 1]], ref=[2, 3, 4])
        6.0
        >>> hypervolume([[1, 2], [2, 1]], ref=[3, 3])     # 2 + 2 - 1 overlap
        3.0
    """
    Y = _matrix(Y)
    ref = np.asarray(ref, dtype=float).reshape(-1)
    if len(ref) != Y.shape[1]:
        raise ValueError(f"reference point has {len(ref)} values for {Y.shape[1]} objectives")
    P = Y[np.all(Y < ref, axis=1)]
    return float(_hv(P, ref))


def hypervolume_contributions(Y: Sequence[Sequence[float]] | np.ndarray, ref: Sequence[float] | np.ndarray
                              ) -> np.ndarray:
    """Each row's exclusive hypervolume contribution: ``hypervolume(Y) - hypervolume(Y without
    the row)`` (0 for dominated rows and for rows identical to another).

    Example:
        >>> hypervolume_contributions([[1, 3], [2, 2], [3, 1]], ref=[4, 4]).tolist()
        [1.0, 1.0, 1.0]
    """
    Y = _matrix(Y)
    ref = np.asarray(ref, dtype=float).reshape(-1)
    total = hypervolume(Y, ref)
    idx = np.arange(len(Y))
    return np.array([total - hypervolume(Y[idx != i], ref) for i in range(len(Y))])


def _front_order(F: np.ndarray, tie_break: str, ref: np.ndarray | None) -> np.ndarray:
    """Positions within one front, best first."""
    if len(F) <= 1:
        return np.arange(len(F))
    if tie_break == "eps_net":
        return epsilon_net_order(F)
    if tie_break == "crowding":
        return np.argsort(-crowding_distance(F), kind="stable")
    assert ref is not None                          # the caller sets it for tie_break='hypervolume'
    contrib = hypervolume_contributions(F, ref)
    return np.argsort(-contrib, kind="stable")


def default_reference(Y: np.ndarray) -> np.ndarray:
    """The worst finite value per objective plus 10% of its finite range (+1 when the range is
    0): a reference point every finite row strictly dominates.

    Example:
        >>> default_reference(np.array([[0.0, 1.0], [10.0, 1.0]])).tolist()
        [11.0, 2.0]
    """
    Y = np.asarray(Y, dtype=float)
    finite = np.where(np.isfinite(Y), Y, np.nan)
    with np.errstate(all="ignore"):
        hi, lo = np.nanmax(finite, axis=0), np.nanmin(finite, axis=0)
    span = hi - lo
    out = hi + np.where(span > 0, 0.1 * span, 1.0)
    return np.where(np.isfinite(out), out, 1.0)


def rank_order(Y: Sequence[Sequence[float]] | np.ndarray, tie_break: str = "eps_net") -> np.ndarray:
    """All row indices, best first: by front (``non_dominated_sort``), then within a front by
    ``tie_break`` -- ``"eps_net"`` (farthest-first), ``"hypervolume"`` (largest contribution
    first, reference point ``default_reference`` of ``Y``) or ``"crowding"`` (largest crowding
    distance first). Deterministic: ties go to the lower index.

    Example:
        >>> rank_order([[3, 3], [1, 3], [2, 2], [3, 1]]).tolist()
        [1, 3, 2, 0]
    """
    Y = _matrix(Y)
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"tie_break {tie_break!r} is not valid; allowed: {list(TIE_BREAKS)}")
    front = non_dominated_sort(Y)
    ref = default_reference(Y) if tie_break == "hypervolume" and len(Y) else None
    out = []
    by_front = np.argsort(front, kind="stable")
    bounds = np.searchsorted(front[by_front], np.arange(int(front.max()) + 2 if len(front) else 0))
    for f in range(len(bounds) - 1):
        members = by_front[bounds[f]:bounds[f + 1]]
        out.append(members if len(members) == 1 else members[_front_order(Y[members], tie_break, ref)])
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def priorities(Y: Sequence[Sequence[float]] | np.ndarray, tie_break: str = "eps_net") -> np.ndarray:
    """Each row's position in ``rank_order`` (0 = best): lower is better.

    Example:
        >>> priorities([[3, 3], [1, 3], [2, 2], [3, 1]]).tolist()
        [3, 0, 2, 1]
    """
    order = rank_order(Y, tie_break)
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    return pos
