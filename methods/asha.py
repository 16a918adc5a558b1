"""Asynchronous successive halving (ASHA, Li et al. 2020) and asynchronous Hyperband.

Two types, as in Syne Tune:

- ``stopping``: every trial is started towards the maximum fidelity. When it reaches a rung,
  its score is recorded there and it continues iff it is within the best ``1/rf`` quantile
  (linear interpolation, like ``np.quantile``) of all scores recorded at that rung so far,
  its own included; otherwise it is stopped.
- ``promotion``: trials run to their next rung and pause. ``suggest`` first looks for a
  paused trial that can be promoted -- among the best ``floor(n/rf)`` of the ``n`` trials
  recorded at its rung and not promoted yet, checking the highest rung first -- and resumes it
  to the next rung; otherwise it starts a new configuration at the lowest rung. Ties between
  equal scores go to the lower trial id.

``brackets > 1`` is asynchronous Hyperband: each new trial draws its bracket ``b`` (seeded)
with probability proportional to the number of trials bracket ``b`` starts in synchronous
Hyperband; bracket ``b`` uses the rung levels ``levels[b:]`` with its own rung records. With
promotion, the bracket is drawn first and promotions are looked for in that bracket only.

Failed trials never reach a rung (they are not recorded) and are never promoted; a trial
stopped or failed while paused is dropped from its rung's promotion queue. A report with a
missing or NaN metric stops the trial.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import register
from methods.searcher import Searcher, attach_searcher
from methods.rungs import (PromotionRung, StoppingRung, check_brackets, check_reduction_factor,
                           hyperband_distribution, resolve_levels)

__all__ = ["ASHA"]

_TYPES = ("stopping", "promotion")
_CONTINUE, _PAUSE, _STOP = Decision.CONTINUE, Decision.PAUSE, Decision.STOP


@register("ASHA")
class ASHA(Scheduler):
    """Asynchronous successive halving; ``brackets > 1`` gives asynchronous Hyperband.

    Arguments: ``type`` (``"stopping"`` or ``"promotion"``), ``grace_period`` (lowest rung;
    default the smallest fidelity), ``reduction_factor`` (default 3), ``brackets`` (default 1),
    ``max_fidelity`` (default the largest fidelity), ``searcher`` (a name or instance; default
    ``"random"``; e.g. ``"tpe"`` gives asynchronous BOHB) and ``searcher_args``. The searcher
    observes every report at a rung level and at the top. Defaults follow Syne Tune 0.13's
    ``HyperbandScheduler`` (``type='stopping'``, ``reduction_factor=3``, ``grace_period=1``: the
    smallest fidelity, ``brackets=1``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> asha = ASHA(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...             fidelity_values=list(range(1, 28)), type="promotion")
        >>> asha.report_levels()
        [1, 3, 9, 27]
        >>> asha.suggest(0.0).max_fidelity
        1
    """

    paper = ("Li, Jamieson, Rostamizadeh, Gonina, Ben-Tzur, Hardt, Recht & Talwalkar 2020,"
             " A System for Massively Parallel Hyperparameter Tuning (MLSys)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str], mode: str | Sequence[str] = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, type: str = "stopping",
                 grace_period: Any = None, reduction_factor: float = 3, brackets: int = 1,
                 max_fidelity: Any = None, searcher: str | Searcher = "random",
                 searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        if type not in _TYPES:
            raise MethodError(f"ASHA type {type!r} is not valid; allowed: {list(_TYPES)}")
        self.type = type
        self.reduction_factor = check_reduction_factor(reduction_factor)
        self.levels = resolve_levels(self.fidelity_values, grace_period, self.reduction_factor, max_fidelity)
        self.grace_period = self.levels[0]
        self.brackets = check_brackets(brackets, self.levels)
        self._quantile = 1.0 / self.reduction_factor
        self._top = self.levels[-1]
        # per bracket: the rung records, one per rung level below the top
        self._is_stopping = type == "stopping"
        if self._is_stopping:
            self._stopping = [[StoppingRung() for _ in self.levels[b:-1]] for b in range(self.brackets)]
        else:
            self._promotion = [[PromotionRung() for _ in self.levels[b:-1]] for b in range(self.brackets)]
        records = self._stopping if self._is_stopping else self._promotion
        #: bracket (the trial's meta) -> {rung level: rung record}
        self._rungs: dict[Any, dict[Any, Any]] = {
            b: dict(zip(self.levels[b:-1], records[b])) for b in range(self.brackets)}
        self._ended: set[int] = set()
        self._probs = hyperband_distribution(self.levels, self.brackets) if self.brackets > 1 else None
        self._bracket_draws: list[int] = []
        self._bracket_pos = 0
        attach_searcher(self, searcher, searcher_args)
        self._observe = self.searcher.observe if self.searcher.uses_observations else None
        self._next = self.searcher.next_config

    def _draw_bracket(self) -> int:
        if self._probs is None:
            return 0
        if self._bracket_pos >= len(self._bracket_draws):
            self._bracket_draws = self.rng.choice(self.brackets, size=256, p=self._probs).tolist()
            self._bracket_pos = 0
        self._bracket_pos += 1
        return self._bracket_draws[self._bracket_pos - 1]

    def suggest(self, time: float) -> Suggestion | None:
        bracket = self._draw_bracket()
        if self.type == "promotion":
            rungs = self._promotion[bracket]
            for i in range(len(rungs) - 1, -1, -1):
                trial_id = rungs[i].pop_promotable(self.reduction_factor, self._ended)
                if trial_id is not None:
                    return Suggestion.resume_trial(trial_id, max_fidelity=self.levels[bracket + i + 1])
            target = self.levels[bracket]
        else:
            target = self._top
        config = self._next()
        if config is None:
            return None
        return Suggestion(config=config, max_fidelity=target, meta=bracket)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        if self._observe is not None:
            self._observe(trial, fidelity, metrics)
        # hot path: one dict lookup for reports off this trial's rungs
        rungs = self._rungs.get(trial.meta, self._rungs[0])
        rung = rungs.get(fidelity)
        if rung is None:
            return _CONTINUE
        score = self.score(metrics)
        if score == math.inf:
            return _STOP
        if self._is_stopping:
            return _CONTINUE if rung.record_and_decide(score, self._quantile) else _STOP
        rung.record(trial.trial_id, score)
        return _PAUSE

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        self._ended.add(trial.trial_id)
        if self._observe is not None:
            self.searcher.on_end(trial, status)

    def report_levels(self) -> Sequence[Any] | None:
        return list(self.levels)

    def upcoming_configs(self) -> Sequence[dict]:
        return self.searcher.upcoming()
