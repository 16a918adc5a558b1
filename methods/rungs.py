"""Rung levels, bracket sizes and rung bookkeeping shared by the successive-halving family.

Rung levels are ``grace_period * reduction_factor**k`` snapped up to the tabulated fidelities
(the smallest tabulated value >= the geometric one), deduplicated, strictly below the maximum
fidelity, followed by the maximum itself. Bracket ``b`` of a Hyperband scheme starts at
``levels[b]``, so there are at most ``len(levels)`` brackets (the last one runs every trial
straight to the maximum).

Example:
    >>> rung_levels(list(range(1, 82)), grace_period=1, reduction_factor=3, max_fidelity=81)
    [1, 3, 9, 27, 81]
    >>> rung_levels([1, 2, 4, 8, 16, 32, 64, 100], 1, 3, 100)
    [1, 4, 16, 32, 100]
    >>> [sizes for sizes, _ in (sync_bracket(levels=[1, 3, 9, 27, 81], reduction_factor=3, bracket=b)
    ...                          for b in range(5))]
    [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from methods.base import MethodError

__all__ = ["rung_levels", "check_reduction_factor", "check_brackets", "hyperband_distribution",
           "sync_bracket", "sorted_quantile", "StoppingRung", "PromotionRung", "resolve_levels"]


def check_reduction_factor(reduction_factor: Any) -> float:
    """``reduction_factor`` as a number > 1 (an int stays an int), or a clear error."""
    if isinstance(reduction_factor, bool) or not isinstance(reduction_factor, (int, float, np.number)):
        raise MethodError(f"reduction_factor must be a number > 1 (e.g. 2 or 3), got {reduction_factor!r}")
    rf = reduction_factor.item() if isinstance(reduction_factor, np.generic) else reduction_factor
    if not math.isfinite(rf) or rf <= 1:
        raise MethodError(f"reduction_factor must be a number > 1 (e.g. 2 or 3), got {reduction_factor!r}")
    return rf


def _numeric_fidelities(fidelity_values: Sequence[Any] | np.ndarray) -> np.ndarray:
    fv = np.asarray(fidelity_values)
    if fv.ndim != 1 or len(fv) == 0 or not np.issubdtype(fv.dtype, np.number) or np.any(fv <= 0):
        raise MethodError(
            f"multi-fidelity methods need positive numeric fidelity values, got {list(fv)[:10]!r}")
    return fv


def rung_levels(fidelity_values: Sequence[Any] | np.ndarray, grace_period: Any, reduction_factor: Any,
                max_fidelity: Any) -> list:
    """The rung levels (ascending, ending with ``max_fidelity``); see the module docstring.

    ``max_fidelity`` must be one of ``fidelity_values``; ``grace_period`` must be > 0 and not
    above ``max_fidelity`` (it is snapped up to the next tabulated fidelity).
    """
    fv = _numeric_fidelities(fidelity_values)
    rf = check_reduction_factor(reduction_factor)
    if max_fidelity not in set(fv.tolist()):
        near = sorted(fv.tolist(), key=lambda v: abs(v - float(max_fidelity)))[:3] \
            if isinstance(max_fidelity, (int, float, np.number)) else fv.tolist()[-3:]
        raise MethodError(f"max_fidelity={max_fidelity!r} is not a tabulated fidelity; nearest valid "
                          f"values: {near} (range {fv[0]}..{fv[-1]})")
    if isinstance(grace_period, bool) or not isinstance(grace_period, (int, float, np.number)) \
            or not grace_period > 0:
        raise MethodError(f"grace_period must be a positive fidelity, got {grace_period!r}")
    if grace_period > max_fidelity:
        raise MethodError(f"grace_period={grace_period!r} is above max_fidelity={max_fidelity!r}; "
                          f"allowed: {fv[0]}..{max_fidelity}")
    fv = fv[fv <= max_fidelity]

    def snap(value: float) -> Any:
        # a hair of tolerance so that 3 * 3.0000000001 style float noise does not skip a level
        i = int(np.searchsorted(fv, value * (1 - 1e-12), side="left"))
        return fv[min(i, len(fv) - 1)].item()

    levels: list = []
    k = 0
    while True:
        level = snap(grace_period * rf ** k)
        if level >= max_fidelity:
            break
        if not levels or level > levels[-1]:
            levels.append(level)
        k += 1
    levels.append(max_fidelity.item() if isinstance(max_fidelity, np.generic) else max_fidelity)
    return levels


def resolve_levels(fidelity_values: np.ndarray, grace_period: Any, reduction_factor: Any,
                   max_fidelity: Any) -> list:
    """``rung_levels`` with the defaults filled in: grace = smallest fidelity, max = largest."""
    fv = _numeric_fidelities(fidelity_values)
    grace = fv[0].item() if grace_period is None else grace_period
    top = fv[-1].item() if max_fidelity is None else max_fidelity
    return rung_levels(fv, grace, reduction_factor, top)


def check_brackets(brackets: Any, levels: Sequence[Any]) -> int:
    """``brackets`` as an int in ``1..len(levels)``, or a clear error."""
    most = len(levels)
    if isinstance(brackets, bool) or not isinstance(brackets, (int, np.integer)) or not 1 <= brackets <= most:
        raise MethodError(
            f"brackets={brackets!r} is not valid; with rung levels {list(levels)} it must be an integer "
            f"in 1..{most}")
    return int(brackets)


def hyperband_distribution(levels: Sequence[Any], brackets: int) -> np.ndarray:
    """Probability of each bracket for asynchronous Hyperband.

    Proportional to the number of trials bracket ``b`` starts in synchronous Hyperband,
    ``(s_max + 1) / ((s_max + 1 - b) * levels[b])`` (without rounding up), as in Syne Tune.
    """
    smax_plus1 = len(levels)
    w = np.array([smax_plus1 / ((smax_plus1 - b) * float(levels[b])) for b in range(brackets)])
    return w / w.sum()


def sync_bracket(levels: Sequence[Any], reduction_factor: float, bracket: int) -> tuple[list[int], list]:
    """(rung sizes, rung levels) of bracket ``bracket`` of synchronous Hyperband (Li et al. 2018).

    With ``s_max = len(levels) - 1`` and ``s = s_max - bracket`` halvings, the bracket starts
    ``n = ceil((s_max + 1) / (s + 1) * rf**s)`` trials at ``levels[bracket]`` and keeps
    ``floor(n / rf**i)`` (at least 1) at its ``i``-th rung.
    """
    s_max = len(levels) - 1
    s = s_max - bracket
    n = math.ceil((s_max + 1) / (s + 1) * reduction_factor ** s - 1e-9)
    sizes = [max(1, math.floor(n / reduction_factor ** i + 1e-9)) for i in range(s + 1)]
    return sizes, list(levels[bracket:])


def sorted_quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of an already sorted, non-empty list (= ``np.quantile``)."""
    pos = (len(values) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(values) - 1)
    a, b = values[lo], values[hi]
    if a == b:
        return a
    return a + (b - a) * (pos - lo)


@dataclass
class StoppingRung:
    """Scores ("lower is better") recorded at one rung, kept sorted for O(log n) cutoffs.

    Example:
        >>> rung = StoppingRung()
        >>> [rung.record_and_decide(score, quantile=0.5) for score in [0.3, 0.5, 0.1]]
        [True, False, True]
        >>> rung.scores
        [0.1, 0.3, 0.5]
    """

    scores: list[float] = field(default_factory=list)

    def record_and_decide(self, score: float, quantile: float) -> bool:
        """Record ``score``; True iff it is within the ``quantile`` of the rung (own value included)."""
        bisect.insort(self.scores, score)
        return score <= sorted_quantile(self.scores, quantile)


@dataclass
class PromotionRung:
    """One rung of ASHA with promotion: who reached it and who can still be promoted.

    ``entries`` holds every ``(score, trial_id)`` recorded, sorted; ``waiting`` the sorted
    entries not yet promoted (and not ended). A trial is promotable when it is among the best
    ``floor(len(entries) / rf)`` entries; the best waiting trial is tried first, so ties
    between equal scores go to the lower trial id.

    Example:
        >>> rung = PromotionRung()
        >>> for trial_id, score in enumerate([0.5, 0.2, 0.9]):
        ...     rung.record(trial_id, score)
        >>> rung.pop_promotable(reduction_factor=3, ended=set()), rung.pop_promotable(3, ended=set())
        (1, None)
    """

    entries: list[tuple[float, int]] = field(default_factory=list)
    waiting: list[tuple[float, int]] = field(default_factory=list)

    def record(self, trial_id: int, score: float) -> None:
        entry = (score, trial_id)
        bisect.insort(self.entries, entry)
        bisect.insort(self.waiting, entry)

    def pop_promotable(self, reduction_factor: float, ended: set[int]) -> int | None:
        """The id of the best waiting trial if it is in the top ``1/rf``, removing it; else None."""
        k = int(len(self.entries) / reduction_factor + 1e-9)
        while self.waiting:
            entry = self.waiting[0]
            if entry[1] in ended or not math.isfinite(entry[0]):
                self.waiting.pop(0)
                continue
            if bisect.bisect_left(self.entries, entry) < k:
                self.waiting.pop(0)
                return entry[1]
            return None
        return None
