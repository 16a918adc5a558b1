"""Multi-objective ASHA (Schmucker, Donini, Perrone & Archambeau 2021; Salinas et al. 2021).

ASHA of type ``stopping`` (``methods.asha``) whose rungs rank *vectors* of metrics: when a
trial reaches a rung, its score vector (every metric oriented so that lower is better) joins
those recorded there and all of them are ordered by non-dominated sorting (``methods.pareto``):
first the Pareto front, then the front of what remains, and so on; inside a front by the
``tie_break``:

- ``"eps_net"`` (default, Syne Tune's ``NonDominatedPriority``): farthest-first order seeded by
  the best point of the first metric (objectives scaled to [0, 1] over the rung);
- ``"hypervolume"``: largest exclusive hypervolume contribution first (reference point: the
  worst value per objective at the rung plus 10% of its range);
- ``"crowding"``: NSGA-II's crowding distance, largest first.

The trial continues iff its 0-based position ``p`` among the ``n`` entries (its own included)
satisfies ``p / n <= 1 / reduction_factor``, as in Syne Tune's ``MOASHA`` (``_Bracket.on_result``),
so the first trial at a rung always continues and a trial on the Pareto front continues
whenever the front is small against the rung. (Syne Tune 0.13 computes ``p`` from its priority
array's values rather than the new trial's position in it; here ``p`` is the new trial's rank.)
A report with a missing or NaN metric stops the trial. ``brackets > 1`` draws brackets as
``ASHA`` does (asynchronous Hyperband); Syne Tune draws them with a softmax of rung counts.

Cost per rung report: O(n log n) for two metrics, O(n) plus O(d^2) per round for more (``MORung``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_choice
from methods.asha import ASHA
from methods.base import Decision, Trial
from methods.pareto import TIE_BREAKS, _front_order, default_reference, non_dominated_sort
from methods.registry import register
from methods.searcher import Searcher

__all__ = ["MOASHA", "MORung"]

PAPER = ("Schmucker, Donini, Perrone & Archambeau 2021, Multi-objective multi-fidelity hyperparameter "
         "optimization with application to fairness (NeurIPS workshop); Salinas, Perrone, Archambeau & "
         "Cruchant 2021, A multi-objective perspective on jointly tuning hardware and hyperparameters "
         "(ICLR NAS workshop)")


class MORung:
    """Score vectors recorded at one rung, and the continue/stop rule.

    Example:
        >>> rung = MORung(n_objectives=2)
        >>> [rung.record_and_decide(np.array(v), 1 / 3) for v in [[1.0, 1.0], [2.0, 2.0], [0.5, 0.5]]]
        [True, False, True]
    """

    def __init__(self, n_objectives: int, tie_break: str = "eps_net"):
        self._Y = np.empty((16, n_objectives))
        self._front = np.empty(16, dtype=np.int64)      # each entry's non-dominated-sorting front
        self.n = 0
        self.tie_break = tie_break

    @property
    def scores(self) -> np.ndarray:
        """The recorded score vectors, in order of arrival."""
        return self._Y[: self.n]

    @property
    def fronts(self) -> np.ndarray:
        """The front index of each recorded vector (0 = the rung's Pareto front)."""
        return self._front[: self.n]

    def _fronts_with(self, v: np.ndarray) -> tuple[int, np.ndarray]:
        """``v``'s front and every recorded entry's front once ``v`` joins them, incrementally.

        A front index is the length of the longest chain of dominating entries ending at the
        entry, so ``v``'s is one more than its dominators' largest, and only entries ``v``
        dominates can move back: each takes ``max(old, 1 + largest front of its dominators among
        v and the entries v dominates)``, relaxed until nothing changes. O(n) per report plus
        O(d^2) for the ``d`` entries ``v`` dominates (re-sorting the rung was O(n log n) in 2-D
        and O(n^2) beyond)."""
        Y, f = self._Y[: self.n], self._front[: self.n]
        if Y.shape[1] == 2:        # two metrics: re-sorting is an O(n log n) sweep, cheaper than relaxing
            fronts = non_dominated_sort(np.vstack([Y, v[None, :]]))
            return int(fronts[-1]), fronts[:-1]
        dominators = np.all(Y <= v, axis=1) & np.any(Y < v, axis=1)
        fv = int(f[dominators].max()) + 1 if dominators.any() else 0
        dominated = np.flatnonzero(np.all(Y >= v, axis=1) & np.any(Y > v, axis=1))
        f_new = f.copy()
        if len(dominated):
            Z = Y[dominated]
            dom = np.all(Z[:, None, :] <= Z[None, :, :], axis=2) & np.any(Z[:, None, :] < Z[None, :, :], axis=2)
            cur = np.maximum(f[dominated], fv + 1)
            while True:
                nxt = np.maximum(cur, np.where(dom, cur[:, None], -1).max(axis=0) + 1)
                if np.array_equal(nxt, cur):
                    break
                cur = nxt
            f_new[dominated] = cur
        return fv, f_new

    def position(self, v: np.ndarray) -> int:
        """The 0-based rank ``v`` would have among the recorded vectors and itself (nothing is
        recorded): the entries of earlier fronts, then ``v``'s place in its front's order."""
        v = np.asarray(v, dtype=float)
        fv, f_new = self._fronts_with(v)
        return self._place(v, fv, f_new)

    def _place(self, v: np.ndarray, fv: int, f_new: np.ndarray) -> int:
        ahead = int(np.count_nonzero(f_new < fv))
        members = np.flatnonzero(f_new == fv)
        if len(members) == 0:
            return ahead
        F = np.vstack([self._Y[members], v[None, :]])
        ref = None
        if self.tie_break == "hypervolume":
            ref = default_reference(np.vstack([self._Y[: self.n], v[None, :]]))
        order = _front_order(F, self.tie_break, ref)
        return ahead + int(np.flatnonzero(order == len(members))[0])

    def record_and_decide(self, v: np.ndarray, quantile: float) -> bool:
        """Record ``v``; True iff its rank ``p`` among the ``n`` entries has ``p / n <= quantile``."""
        v = np.asarray(v, dtype=float)
        fv, f_new = self._fronts_with(v)
        p = self._place(v, fv, f_new)
        if self.n == len(self._Y):
            self._Y = np.concatenate([self._Y, np.empty_like(self._Y)])
            self._front = np.concatenate([self._front, np.empty_like(self._front)])
        self._front[: self.n] = f_new
        self._Y[self.n] = v
        self._front[self.n] = fv
        self.n += 1
        return p / self.n <= quantile + 1e-12


@register("MOASHA")
class MOASHA(ASHA):
    """Multi-objective asynchronous successive halving: ASHA (stopping) ranking metric vectors.

    Arguments: ``grace_period`` (lowest rung; default the smallest fidelity), ``reduction_factor``
    (default 3), ``brackets`` (default 1), ``max_fidelity`` (default the largest), ``tie_break``
    (``"eps_net"``, ``"hypervolume"`` or ``"crowding"``; default ``"eps_net"``), ``searcher``
    (default ``"random"``, or a multi-objective searcher such as ``"morea"``) and
    ``searcher_args``. Defaults follow Syne Tune's ``MOASHA`` (``grace_period=1``: the smallest
    fidelity, ``reduction_factor=3``, ``brackets=1``, non-dominated sorting with an epsilon-net).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> s = MOASHA(ConfigurationSpace({"x": uniform(0, 1)}), metric=["acc", "latency"],
        ...            mode=["max", "min"], fidelity_values=list(range(1, 28)))
        >>> s.report_levels(), s.suggest(0.0).max_fidelity
        ([1, 3, 9, 27], 27)
        >>> s.on_report(Trial(0, {"x": 0.5}, 0), 1, {"acc": 0.8, "latency": 2.0}, 10.0)
        <Decision.CONTINUE: 'continue'>
    """

    paper = PAPER
    multi_objective = True

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
                 mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None,
                 seed: int = 0, candidates: Sequence[Mapping[str, Any]] | None = None,
                 grace_period: Any = None, reduction_factor: float = 3, brackets: int = 1,
                 max_fidelity: Any = None, tie_break: str = "eps_net", searcher: str | Searcher = "random",
                 searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, type="stopping", grace_period=grace_period,
                         reduction_factor=reduction_factor, brackets=brackets, max_fidelity=max_fidelity,
                         searcher=searcher, searcher_args=searcher_args)
        self.tie_break = check_choice("tie_break", tie_break, TIE_BREAKS)
        k = len(self.metrics)
        self._rungs = {b: {level: MORung(k, self.tie_break) for level in self.levels[b:-1]}
                       for b in range(self.brackets)}

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        if self._observe is not None:
            self._observe(trial, fidelity, metrics)
        rung = self._rungs.get(trial.meta, self._rungs[0]).get(fidelity)
        if rung is None:
            return Decision.CONTINUE
        v = self.score_vector(metrics)
        if not np.isfinite(v).all():
            return Decision.STOP
        return Decision.CONTINUE if rung.record_and_decide(v, self._quantile) else Decision.STOP
