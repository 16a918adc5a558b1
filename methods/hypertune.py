"""Hyper-Tune (Li et al. 2022): asynchronous Hyperband with model-based bracket sampling and a
fidelity-weighted ensemble of per-rung GPs (Syne Tune 0.13's ``HyperTune``).

The scheduler is asynchronous successive halving over ``brackets`` brackets (bracket ``b``
starts its trials at rung level ``levels[b]``) with ONE rung system shared by all brackets (Syne
Tune's default ``rung_system_per_bracket=False``; ``methods.asha`` keeps one per bracket):

- ``stopping``: a trial continues at a rung iff its score is in the best ``1/rf`` quantile of
  the scores recorded there (its own included);
- ``promotion``: trials pause at each rung; ``suggest`` first resumes the best promotable
  paused trial of any rung (highest rung first), else starts a new configuration at the first
  rung of the drawn bracket.

New configurations come from ``methods.mf_gp.HyperTuneSearcher``: expected improvement on the
ensemble ``sum theta_r f_r`` of the per-level GPs, the weights ``theta_r`` from how well each
level's model ranks the configurations of the highest level with >= 6 observations (sampled
ranking losses; the top level by cross-validation). With more than one bracket, each new trial's
bracket is drawn from ``w_k ~ theta_k / r_k`` over the brackets whose first rung is supported
(the remaining brackets keep Hyperband's default probabilities, ``methods.rungs.
hyperband_distribution``), so brackets whose first level ranks like the top level are favoured.

Defaults follow Syne Tune 0.13's ``HyperTune`` baseline: ``HyperbandScheduler`` defaults
(``type="stopping"``, ``brackets=1``, ``reduction_factor=3``, ``grace_period=1``) and
``search_options["model"]="gp_independent"``; Syne Tune's tutorial runs it with
``type="promotion"`` and ``brackets`` 1 (HYPERTUNE-INDEP) or 4 (HYPERTUNE4-INDEP).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence, cast

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_choice
from methods.base import Decision, Scheduler, Suggestion, Trial, TrialStatus
from methods.mf_gp import HyperTuneSearcher, check_model
from methods.mobster import TYPES, check_multi_fidelity, mf_searcher
from methods.registry import register
from methods.rungs import (PromotionRung, StoppingRung, check_brackets, check_reduction_factor,
                           hyperband_distribution, resolve_levels)

__all__ = ["HyperTune"]


@register("HyperTune")
class HyperTune(Scheduler):
    """Hyper-Tune: model-based asynchronous Hyperband with a fidelity-weighted GP ensemble.

    Arguments: ``type`` (``"stopping"``, Syne Tune's default, or ``"promotion"``), ``model``
    (``"independent"``, the default, or ``"joint"``), ``brackets`` (>= 1, at most the number of
    rung levels; default 1), ``grace_period``, ``reduction_factor``, ``max_fidelity`` as for
    ``ASHA``, and ``searcher_args`` for ``HyperTuneSearcher`` (e.g. ``{"num_samples": 20}``).
    Defaults follow Syne Tune 0.13's ``HyperTune`` baseline (``HyperbandScheduler`` defaults).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> ht = HyperTune(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                fidelity_values=list(range(1, 28)), type="promotion", brackets=4)
        >>> ht.report_levels(), ht.bracket_probabilities().round(3).tolist()
        ([1, 3, 9, 27], [0.551, 0.245, 0.122, 0.082])
    """

    paper = ("Li, Shen, Jiang, Zhang, Zhao, Cui & Yang 2022, Hyper-Tune: Towards Efficient Hyper-parameter "
             "Tuning at Scale (VLDB)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, type: str = "stopping",
                 model: str = "independent", brackets: int = 1, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None,
                 searcher_args: Mapping[str, Any] | None = None):
        self.type = check_choice("type", type, TYPES)
        self.model = check_model(model)
        check_multi_fidelity("HyperTune", fidelity_values)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        self.reduction_factor = check_reduction_factor(reduction_factor)
        self.levels = resolve_levels(self.fidelity_values, grace_period, self.reduction_factor, max_fidelity)
        self.grace_period = self.levels[0]
        self.brackets = check_brackets(brackets, self.levels)
        self._quantile = 1.0 / self.reduction_factor
        self._stopping = type == "stopping"
        below_top = self.levels[:-1]
        self._rungs: dict[Any, Any] = {level: (StoppingRung() if self._stopping else PromotionRung())
                                       for level in below_top}
        self._start_index = {level: i for i, level in enumerate(self.levels)}
        self._ended: set[int] = set()
        self._default = (hyperband_distribution(self.levels, self.brackets) if self.brackets > 1
                         else np.ones(1))
        self.searcher = cast(HyperTuneSearcher, mf_searcher(self.model, searcher_args, HyperTuneSearcher))
        self.searcher.bind(self.config_space, metric=self.metric, mode=self.mode, rng=self.rng,
                           candidates=self.candidates, fidelity_values=self.fidelity_values)
        self.searcher.set_rung_levels(self.levels)

    def bracket_probabilities(self) -> np.ndarray:
        """The current distribution over brackets (Hyperband's until the model supports two levels)."""
        if self.brackets == 1:
            return np.ones(1)
        return self.searcher.bracket_distribution(self._default)

    def _draw_bracket(self) -> int:
        if self.brackets == 1:
            return 0
        p = self.bracket_probabilities()
        return int(self.rng.choice(len(p), p=p / p.sum()))

    def suggest(self, time: float) -> Suggestion | None:
        bracket = self._draw_bracket()
        if not self._stopping:
            levels = self.levels
            for i in range(len(levels) - 2, -1, -1):
                trial_id = self._rungs[levels[i]].pop_promotable(self.reduction_factor, self._ended)
                if trial_id is not None:
                    self.searcher.resumed(trial_id)
                    return Suggestion.resume_trial(trial_id, max_fidelity=levels[i + 1])
            target = levels[bracket]
        else:
            target = self.levels[-1]
        config = self.searcher.next_config()
        if config is None:
            return None
        return Suggestion(config=config, max_fidelity=target, meta=bracket)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        self.searcher.observe(trial, fidelity, metrics)
        rung = self._rungs.get(fidelity)
        if rung is None:
            return Decision.CONTINUE
        bracket = trial.meta if isinstance(trial.meta, int) else 0
        if self._start_index[fidelity] < bracket:       # below this trial's first rung
            return Decision.CONTINUE
        score = self.score(metrics)
        if score == math.inf:
            return Decision.STOP
        if self._stopping:
            return Decision.CONTINUE if rung.record_and_decide(score, self._quantile) else Decision.STOP
        rung.record(trial.trial_id, score)
        self.searcher.paused(trial.trial_id)
        return Decision.PAUSE

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        self._ended.add(trial.trial_id)
        self.searcher.on_end(trial, status)

    def report_levels(self) -> Sequence[Any] | None:
        return list(self.levels)
