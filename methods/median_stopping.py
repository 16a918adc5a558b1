"""Median stopping rule (Golovin et al. 2017, Google Vizier).

A trial reporting at fidelity ``f >= grace_period`` is stopped when its best score so far is
strictly worse than the median of the *running averages* at ``f`` of the other trials that
reported at ``f`` (running, paused, stopped or completed alike), provided at least
``min_samples`` other trials have a report at ``f``. The running average of a trial at ``f``
is the mean of its scores at every level it reported up to ``f``. The rule sees every level
(``report_levels() is None``), so its averages are those of the whole learning curve.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial
from methods.registry import register
from methods.searcher import Searcher, attach_searcher

__all__ = ["MedianStopping"]


@dataclass
class _Curve:
    """What the rule keeps of one trial: best score, sum and count of its scores."""

    best: float = math.inf
    total: float = 0.0
    count: int = 0


def _median(values: list[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else 0.5 * (values[mid - 1] + values[mid])


@register("MedianStopping")
class MedianStopping(Scheduler):
    """Random configurations, stopped early by the median rule.

    Arguments: ``grace_period`` (no stopping below it; default the smallest fidelity),
    ``min_samples`` (other trials needed at a level before it can stop anyone; default 3),
    ``searcher``/``searcher_args`` (what to try; default random). Defaults follow Syne Tune
    0.13's ``MedianStoppingRule`` (``min_samples=3``; its ``grace_time`` is in wall-clock
    seconds, hposim's ``grace_period`` in fidelity units).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from methods.base import Trial
        >>> ms = MedianStopping(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                     fidelity_values=[1, 2], min_samples=2)
        >>> [ms.on_report(Trial(i, {}), 1, {"loss": v}, 0.0).value for i, v in enumerate([3, 1, 2, 4])]
        ['continue', 'continue', 'continue', 'stop']
    """

    paper = ("Golovin, Solnik, Moitra, Kochanski, Karro & Sculley 2017,"
             " Google Vizier: A Service for Black-Box Optimization (KDD)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 min_samples: int = 3, searcher: str | Searcher = "random",
                 searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        if grace_period is None:
            grace_period = self.min_fidelity
        if isinstance(grace_period, bool) or not isinstance(grace_period, (int, float, np.number)) \
                or not math.isfinite(grace_period) or grace_period > self.max_fidelity \
                or not (grace_period > 0 or grace_period >= self.min_fidelity):
            raise MethodError(
                f"grace_period must be a fidelity > 0 and <= the largest fidelity {self.max_fidelity} "
                f"(fidelities: {self.min_fidelity}..{self.max_fidelity}), got {grace_period!r}")
        if isinstance(min_samples, bool) or not isinstance(min_samples, (int, np.integer)) or min_samples < 1:
            raise MethodError(f"min_samples must be an integer >= 1, got {min_samples!r}")
        self.grace_period = grace_period.item() if isinstance(grace_period, np.generic) else grace_period
        self.min_samples = int(min_samples)
        self._curves: dict[int, _Curve] = {}
        self._averages: dict[Any, list[float]] = {}
        attach_searcher(self, searcher, searcher_args)
        self._observe = self.searcher.observe if self.searcher.uses_observations else None

    def suggest(self, time: float) -> Suggestion | None:
        config = self.searcher.next_config()
        return None if config is None else Suggestion.start(config, max_fidelity=self.max_fidelity)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        if self._observe is not None:
            self._observe(trial, fidelity, metrics)
        score = self.score(metrics)
        if not math.isfinite(score):
            return Decision.STOP
        curve = self._curves.get(trial.trial_id)
        if curve is None:
            curve = self._curves[trial.trial_id] = _Curve()
        curve.best = min(curve.best, score)
        curve.total += score
        curve.count += 1
        others = self._averages.get(fidelity)
        if others is None:
            others = self._averages[fidelity] = []
        decision = Decision.CONTINUE
        if fidelity >= self.grace_period and len(others) >= self.min_samples \
                and curve.best > _median(others):
            decision = Decision.STOP
        bisect.insort(others, curve.total / curve.count)
        return decision

    def report_levels(self) -> Sequence[Any] | None:
        return None

    def upcoming_configs(self) -> Sequence[dict]:
        return self.searcher.upcoming()
