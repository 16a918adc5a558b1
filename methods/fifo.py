"""First in, first out: every trial runs to the largest fidelity; a searcher picks the configurations.

The single-fidelity scheduler of every searcher (Syne Tune's ``FIFOScheduler``): random search,
Bayesian optimization, TPE and regularized evolution are this scheduler with their searcher.
It needs to see each trial's report at the largest fidelity only (``report_levels() == []``:
the simulator calls ``on_report`` at the segment's end), where the searcher observes it.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import Decision, Scheduler, Suggestion, Trial
from methods.registry import register
from methods.searcher import Searcher, attach_searcher

__all__ = ["FIFO"]

_CONTINUE = Decision.CONTINUE


@register("FIFO")
class FIFO(Scheduler):
    """Every trial to the largest fidelity; configurations from ``searcher`` (a name or instance).

    Arguments: ``searcher`` (default ``"random"``; see ``hposim methods`` for the searchers),
    ``searcher_args`` (a dict of the searcher's arguments).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> fifo = FIFO(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...             fidelity_values=[1, 2, 3], searcher="tpe")
        >>> fifo.suggest(0.0).max_fidelity, type(fifo.searcher).__name__
        (3, 'TPESearcher')
    """

    paper = "the single-fidelity scheduler of Syne Tune (FIFOScheduler); the searcher's paper applies"

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str], mode: str | Sequence[str] = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None,
                 searcher: str | Searcher = "random", searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        attach_searcher(self, searcher, searcher_args)
        self._observe = self.searcher.observe if self.searcher.uses_observations else None
        self._next = self.searcher.next_config

    def suggest(self, time: float) -> Suggestion | None:
        config = self._next()
        if config is None:
            return None
        return Suggestion(config=config, max_fidelity=self.max_fidelity)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        if self._observe is not None:
            self._observe(trial, fidelity, metrics)
        return _CONTINUE

    def report_levels(self) -> Sequence[Any] | None:
        return []

    def upcoming_configs(self) -> Sequence[dict]:
        return self.searcher.upcoming()
