"""PASHA (Bohdal et al. 2023): ASHA with promotion whose maximum fidelity grows only when needed.

With rung levels ``L[0] < ... < L[K]`` (``L[K]`` the maximum fidelity), PASHA runs ASHA with
promotion (``methods.asha``) but caps it at a *current maximum* ``L[t]``: trials are promoted
only from rungs below ``t``, so no trial goes beyond ``L[t]``. It starts at ``t = 1`` (the
first two rungs). After every report below ``L[K]`` it compares the two top rungs it watches,
``L[u]`` and ``L[u - 1]`` with ``u = min(t, K - 1)``: the trials recorded at ``L[u]`` ranked by
their score there, against the same trials ranked by their score at ``L[u - 1]``. If the
rankings disagree, ``t`` grows by one (up to ``K``); so a disagreement that persists grows ``t``
at each report, as in Syne Tune.

Rankings are compared by Syne Tune's default criterion, *soft ranking*: the ``i``-th trial of the
top rung's ranking agrees when its score at ``L[u - 1]`` lies within ``epsilon`` of the ``i``-th
score of the ranking at ``L[u - 1]`` (the trials with such scores form the ``i``-th "group").
``epsilon`` is estimated after every report: over the pairs of trials with results at a
fidelity in ``(L[u - 1], L[u]]`` (each pair once, at the largest fidelity both reached, not
above the largest fidelity reported so far), a pair whose order there (``a > b``) was reversed
at some lower fidelity and held again below that reversal (the pair's order "flipped twice", a
sign of noise) contributes the distance of its two scores; ``epsilon`` is the 90th percentile
(``np.percentile``) of these distances, and keeps its last value when there are none (it starts
at 0). With fewer than two trials to rank, ``epsilon`` is 0.

PASHA needs whole learning curves for ``epsilon``: it sees every report (the simulator hands the
reports between rung levels to ``on_skipped_reports`` in one batch, which PASHA replays report by
report; the searcher observes rung levels only, as in ``ASHA``). Scores are compared ("lower is
better", so mode "max" on ``-loss`` makes the very decisions of mode "min" on ``loss``).

Differences to Syne Tune 0.13 (``PASHARungSystem``):

- Fidelities are the tabulated ones: "lower fidelities" are the tabulated values below, not the
  integers ``1..e - 1`` (the same for fidelities ``1, 2, 3, ...``).
- With two rung levels below the maximum (``K = 2``), Syne Tune starts at ``L[0]`` and compares
  the rungs in reverse order; here PASHA starts at ``L[1]`` as for ``K >= 3``. With ``K = 1``
  PASHA is ASHA with promotion (Syne Tune fails with an index error).
- Pairs are ordered by trial id (Syne Tune: the iteration order of a set of string ids), which
  matters only for equal scores; ties in a rung's ranking go to the lower trial id.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.asha import ASHA
from methods.base import Decision, Suggestion, Trial
from methods.registry import register
from methods.searcher import Searcher

__all__ = ["PASHA", "noisy_pair_distances", "rankings_agree"]

PAPER = ("Bohdal, Balles, Wistuba, Ermis, Archambeau & Zappella 2023, PASHA: Efficient HPO and NAS "
         "with Progressive Resource Allocation (ICLR)")

#: the percentile of the noisy pairs' distances that estimates epsilon
EPSILON_PERCENTILE = 90


def noisy_pair_distances(curves: Sequence[Sequence[float]], low: int, high: int) -> list[float]:
    """Distances of the "noisy" pairs among ``curves`` (scores at fidelity indices ``0, 1, ...``).

    A pair is looked at once, at ``e`` = the largest index both curves reach, if ``low < e <=
    high`` (``e`` is capped at ``high``); it is noisy when its order at ``e`` (``a[e] > b[e]``)
    was reversed at some index below ``e`` and held again at an index below that one.

    Example:
        >>> noisy_pair_distances([[1, 2, 1, 3], [2, 1, 2, 1]], low=2, high=3)
        [2.0]
        >>> noisy_pair_distances([[1, 1, 1, 1], [2, 2, 2, 2]], low=0, high=3)
        []
    """
    width = high + 1
    lengths = np.array([min(len(c), width) for c in curves], dtype=np.intp)
    if len(curves) < 2 or width < 1:
        return []
    values = np.full((len(curves), width), np.nan)
    for k, c in enumerate(curves):
        values[k, :lengths[k]] = c[:lengths[k]]
    first, second = np.triu_indices(len(curves), 1)
    last = np.minimum(lengths[first], lengths[second]) - 1      # e of each pair
    keep = last > low
    first, second, last = first[keep], second[keep], last[keep]
    if not last.size:
        return []
    greater = values[first] > values[second]                      # (pairs, width): a > b at each index
    pairs = np.arange(last.size)
    cond = greater[pairs, last]
    columns = np.arange(width)
    before = columns[None, :] < last[:, None]
    held = (greater == cond[:, None]) & before
    first_held = np.where(held.any(axis=1), held.argmax(axis=1), width)
    reversed_later = (greater != cond[:, None]) & before & (columns[None, :] > first_held[:, None])
    noisy = reversed_later.any(axis=1)
    return np.abs(values[first, last] - values[second, last])[noisy].tolist()


def rankings_agree(top: Sequence[int], previous: Mapping[int, float], epsilon: float) -> bool:
    """Soft ranking: True when the ``k``-th trial of ``top`` (trial ids, best first) has a score
    in ``previous`` (trial id -> score one rung below) within ``epsilon`` of the ``k``-th best of
    those scores, for every ``k``.

    Example:
        >>> rankings_agree([1, 0], {0: 0.50, 1: 0.52}, epsilon=0.0)
        False
        >>> rankings_agree([1, 0], {0: 0.50, 1: 0.52}, epsilon=0.05)
        True
    """
    ranked = sorted(previous[t] for t in top)
    eps = epsilon if len(ranked) >= 2 else 0.0
    return all(ranked[k] - eps <= previous[t] <= ranked[k] + eps for k, t in enumerate(top))


@register("PASHA")
class PASHA(ASHA):
    """Progressive ASHA: ASHA with promotion whose maximum fidelity grows while rankings disagree.

    Arguments: ``grace_period`` (lowest rung; default the smallest fidelity),
    ``reduction_factor`` (default 3), ``max_fidelity`` (the most PASHA may grow to; default the
    largest fidelity), ``searcher`` (a name or instance; default ``"random"``) and
    ``searcher_args``. Defaults follow Syne Tune 0.13's ``baselines.PASHA`` (``HyperbandScheduler``
    with ``type="pasha"``: promotion, one bracket, ``grace_period=1``, ``reduction_factor=3``,
    soft ranking with ``epsilon`` estimated from the learning curves). ``current_max_fidelity``
    is the fidelity no trial goes beyond for now; ``epsilon`` the current estimate.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> pasha = PASHA(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...               fidelity_values=list(range(1, 28)))
        >>> pasha.report_levels(), pasha.current_max_fidelity
        ([1, 3, 9, 27], 3)
        >>> pasha.suggest(0.0).max_fidelity
        1
    """

    paper = PAPER
    wants_skipped_reports = True

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None, searcher: str | Searcher = "random",
                 searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, type="promotion", grace_period=grace_period,
                         reduction_factor=reduction_factor, brackets=1, max_fidelity=max_fidelity,
                         searcher=searcher, searcher_args=searcher_args)
        k = len(self.levels) - 1
        #: index in ``levels`` of the current maximum fidelity
        self.max_index = min(1, k)
        self.epsilon = 0.0
        self._index = {f: i for i, f in enumerate(self.fidelity_values.tolist())}
        self._level_index = [self._index[level] for level in self.levels]
        self._max_level_index = self._level_index[-1]
        self._curves: dict[int, list[float]] = {}     # trial id -> scores at fidelity indices 0, 1, ...
        self._highest_seen = -1                        # largest fidelity index reported below the top
        self._epsilon_key: tuple[int, int] | None = None   # (below, high) of the last estimate
        self._agree: bool | None = None                # cached ranking check (None: recompute)

    @property
    def current_max_fidelity(self) -> Any:
        """The fidelity no trial goes beyond for now."""
        return self.levels[self.max_index]

    # ------------------------------------------------------------------ the protocol
    def suggest(self, time: float) -> Suggestion | None:
        rungs = self._promotion[0]
        for i in range(self.max_index - 1, -1, -1):
            trial_id = rungs[i].pop_promotable(self.reduction_factor, self._ended)
            if trial_id is not None:
                return Suggestion.resume_trial(trial_id, max_fidelity=self.levels[i + 1])
        config = self._next()
        if config is None:
            return None
        return Suggestion(config=config, max_fidelity=self.levels[0], meta=0)

    def on_skipped_reports(self, trial: Trial, fidelities: Sequence[Any],
                           metrics: Mapping[str, np.ndarray]) -> None:
        values = metrics.get(self.metric)
        if values is None:
            return
        sign = self._sign
        for fidelity, value in zip(fidelities, np.asarray(values, dtype=float).tolist()):
            self._learn(trial.trial_id, fidelity, math.inf if value != value else sign * value)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        decision = super().on_report(trial, fidelity, metrics, time)
        if decision is Decision.PAUSE:
            self._agree = None                         # a rung changed
        self._learn(trial.trial_id, fidelity, self.score(metrics))
        return decision

    # ------------------------------------------------------------------ growing the maximum
    def _watched(self) -> tuple[int, int] | None:
        """Indices in ``levels`` of the two rungs compared, or None with fewer than two rungs."""
        top = min(self.max_index, len(self.levels) - 2)
        return (top, top - 1) if top >= 1 else None

    def _learn(self, trial_id: int, fidelity: Any, score: float) -> None:
        """One report below the maximum, as Syne Tune's rung system sees it: the trial's curve
        (contiguous finite scores from the smallest fidelity), epsilon, then the rankings."""
        index = self._index[fidelity]
        if index >= self._max_level_index or not math.isfinite(score):
            return
        curve = self._curves.setdefault(trial_id, [])
        if len(curve) != index:                        # after a non-finite score: no curve
            return
        curve.append(score)
        self._highest_seen = max(self._highest_seen, index)
        watched = self._watched()
        if watched is None:
            return
        top, below = (self._level_index[r] for r in watched)
        key = (below, min(top, self._highest_seen))
        if key != self._epsilon_key or below < index <= top:
            self._epsilon_key = key
            self._update_epsilon(*key)
        if self._agree is None:
            self._agree = self._rankings_agree(*watched)
        if not self._agree and self.max_index < len(self.levels) - 1:
            self.max_index += 1
            self._agree = None

    def _update_epsilon(self, below: int, high: int) -> None:
        curves = [c for _, c in sorted(self._curves.items()) if len(c) - 1 > below]
        distances = noisy_pair_distances(curves, below, high)
        if distances:
            epsilon = float(np.percentile(distances, EPSILON_PERCENTILE))
            if epsilon != self.epsilon:
                self.epsilon = epsilon
                self._agree = None

    def _rankings_agree(self, top: int, below: int) -> bool:
        rungs = self._promotion[0]
        top_entries = rungs[top].entries
        if not top_entries or not rungs[below].entries:
            return True
        ids = [t for _, t in top_entries]
        wanted = set(ids)
        previous = {t: s for s, t in rungs[below].entries if t in wanted}
        return rankings_agree(ids, previous, self.epsilon)
