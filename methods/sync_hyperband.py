"""Synchronous successive halving and Hyperband (Li et al. 2018).

One bracket runs at a time, one rung at a time. Rung 0 of a bracket starts ``n_0`` new
configurations with ``max_fidelity`` = its level; they pause there. When every one of them
has reported (or failed), the rung closes: the best ``n_1`` are resumed to the next level,
and so on up to the maximum fidelity. While a rung is still filling and all its jobs have
been handed out, ``suggest`` answers ``None`` ("nothing now"). When the last rung closes the
next bracket begins: ``SyncSH`` repeats its single bracket with new configurations,
``SyncHyperband`` cycles through its brackets (most explorative first).

Rung sizes follow the paper (see ``methods.rungs.sync_bracket``): for levels 1, 3, 9, 27, 81
and ``rf = 3`` the brackets are 81/27/9/3/1, 34/11/3/1, 15/5/1, 8/2 and 5.

A trial that fails (or is stopped) before reporting at its rung counts as the worst result
there, so the rung still closes; it is never promoted. If fewer trials than the next rung's
size have a result, the next rung is smaller (an empty rung ends the bracket). When the
candidate configurations run out while rung 0 fills, rung 0 closes with the ``n`` handed out
and the later rungs keep ``floor(n / rf**i)`` (at least 1); after that, ``suggest`` answers
``None`` for good.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import register
from methods.searcher import Searcher, attach_searcher
from methods.rungs import check_reduction_factor, resolve_levels, sync_bracket

__all__ = ["SyncSH", "SyncHyperband"]


@dataclass
class _BracketRun:
    """State of the bracket being run: which rung, its jobs and its results."""

    run_id: int
    bracket: int
    sizes: list[int]
    levels: list
    rung: int = 0
    target: int = 0
    handed: int = 0
    members: set[int] = field(default_factory=set)
    results: dict[int, float] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)

    @property
    def level(self) -> Any:
        return self.levels[self.rung]


class _Synchronous(Scheduler):
    """Shared engine of ``SyncSH`` and ``SyncHyperband``: runs brackets one after the other."""

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str,
                 fidelity_values: Sequence[Any] | None, seed: int,
                 candidates: Sequence[Mapping[str, Any]] | None, grace_period: Any,
                 reduction_factor: float, max_fidelity: Any, searcher: str | Searcher,
                 searcher_args: Mapping[str, Any] | None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        self.reduction_factor = check_reduction_factor(reduction_factor)
        self.levels = resolve_levels(self.fidelity_values, grace_period, self.reduction_factor, max_fidelity)
        self.grace_period = self.levels[0]
        attach_searcher(self, searcher, searcher_args)
        self._observe = self.searcher.observe if self.searcher.uses_observations else None
        self._bracket_ids: list[int] = [0]
        self._next_bracket = 0
        self._runs = 0
        self._run: _BracketRun | None = None

    # bracket life cycle ---------------------------------------------------------
    def bracket_sizes(self, bracket: int) -> tuple[list[int], list]:
        """(rung sizes, rung levels) of ``bracket``."""
        return sync_bracket(self.levels, self.reduction_factor, bracket)

    def _start_bracket(self) -> _BracketRun:
        bracket = self._bracket_ids[self._next_bracket]
        self._next_bracket = (self._next_bracket + 1) % len(self._bracket_ids)
        sizes, levels = self.bracket_sizes(bracket)
        self._run = _BracketRun(run_id=self._runs, bracket=bracket, sizes=sizes, levels=levels,
                                target=sizes[0])
        self._runs += 1
        return self._run

    def _maybe_close(self, run: _BracketRun) -> None:
        """Close the current rung once all its jobs are handed out and have a result."""
        while run is self._run and run.handed >= run.target and len(run.results) >= run.target:
            if run.rung + 1 >= len(run.levels):
                self._run = None
                return
            ranked = sorted((score, tid) for tid, score in run.results.items() if math.isfinite(score))
            promote = [tid for _, tid in ranked[:run.sizes[run.rung + 1]]]
            if not promote:
                self._run = None
                return
            run.rung += 1
            run.target = len(promote)
            run.handed = 0
            run.queue = promote
            run.members = set(promote)
            run.results = {}

    # the protocol -----------------------------------------------------------------
    def suggest(self, time: float) -> Suggestion | None:
        if self._run is None:
            if self.searcher.exhausted:
                return None
            self._start_bracket()
        run = self._run
        assert run is not None                          # _start_bracket opened one
        if run.handed >= run.target:
            return None
        if run.rung == 0:
            config = self.searcher.next_config()
            if config is None:
                # out of configurations: rung 0 closes with those handed out, later rungs shrink alike
                run.target = run.handed
                run.sizes = [max(1, math.floor(run.handed / self.reduction_factor ** i + 1e-9))
                             for i in range(len(run.sizes))]
                self._maybe_close(run)
                if self._run is not run or run.rung != 0:
                    return self.suggest(time)  # rung 0 closed: promotions, or nothing left
                return None
            run.handed += 1
            return Suggestion.start(config, max_fidelity=run.level, meta=run.run_id)
        trial_id = run.queue[run.handed]
        run.handed += 1
        return Suggestion.resume_trial(trial_id, max_fidelity=run.level)

    def _belongs(self, run: _BracketRun | None, trial: Trial) -> bool:
        if run is None or trial.trial_id in run.results:
            return False
        if run.rung == 0:
            return trial.meta == run.run_id
        return trial.trial_id in run.members

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        if self._observe is not None:
            self._observe(trial, fidelity, metrics)
        run = self._run
        if run is None or not self._belongs(run, trial) or fidelity != run.level:
            return Decision.CONTINUE
        score = self.score(metrics)
        run.results[trial.trial_id] = score
        self._maybe_close(run)
        if not math.isfinite(score):
            return Decision.STOP
        return Decision.CONTINUE if fidelity >= self.max_fidelity else Decision.PAUSE

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        super().on_end(trial, status)
        run = self._run
        if run is not None and self._belongs(run, trial):
            run.results[trial.trial_id] = math.inf
            self._maybe_close(run)

    def report_levels(self) -> Sequence[Any] | None:
        return list(self.levels)

    def upcoming_configs(self) -> Sequence[dict]:
        return self.searcher.upcoming()


@register("SyncSH")
class SyncSH(_Synchronous):
    """Synchronous successive halving, repeated with new configurations.

    Arguments: ``grace_period`` (default the smallest fidelity), ``reduction_factor``
    (default 3), ``max_fidelity`` (default the largest), ``searcher`` and ``searcher_args``
    (what to try; default random; e.g. ``"tpe"``); defaults of Syne Tune 0.13's
    ``SynchronousHyperbandScheduler`` with one bracket. Each round starts
    ``ceil(rf**(len(levels) - 1))`` configurations (27 for levels 1, 3, 9, 27 and rf 3).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> sh = SyncSH(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...             fidelity_values=list(range(1, 28)))
        >>> sh.bracket_sizes(0)
        ([27, 9, 3, 1], [1, 3, 9, 27])
    """

    paper = ("Jamieson & Talwalkar 2016, Non-stochastic Best Arm Identification and Hyperparameter "
             "Optimization (AISTATS)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None, searcher: str | Searcher = "random",
                 searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates, grace_period=grace_period,
                         reduction_factor=reduction_factor, max_fidelity=max_fidelity, searcher=searcher,
                         searcher_args=searcher_args)


@register("SyncHyperband")
class SyncHyperband(_Synchronous):
    """Synchronous Hyperband: the brackets of successive halving, cycled, one at a time.

    Arguments: ``grace_period``, ``reduction_factor``, ``max_fidelity`` as for ``SyncSH``;
    ``brackets`` (default all ``len(levels)``): the first ``brackets`` brackets, most
    explorative first. Defaults follow Syne Tune 0.13's ``SynchronousHyperbandScheduler``
    (``reduction_factor=3``, ``grace_period=1``: the smallest fidelity, every bracket).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> hb = SyncHyperband(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                    fidelity_values=list(range(1, 82)))
        >>> [hb.bracket_sizes(b)[0][0] for b in range(hb.brackets)]
        [81, 34, 15, 8, 5]
    """

    paper = ("Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar 2018, Hyperband: A Novel Bandit-Based "
             "Approach to Hyperparameter Optimization (JMLR)")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None, brackets: int | None = None,
                 searcher: str | Searcher = "random", searcher_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates, grace_period=grace_period,
                         reduction_factor=reduction_factor, max_fidelity=max_fidelity, searcher=searcher,
                         searcher_args=searcher_args)
        most = len(self.levels)
        if brackets is None:
            brackets = most
        if isinstance(brackets, bool) or not isinstance(brackets, (int, np.integer)) or not 1 <= brackets <= most:
            raise MethodError(f"brackets={brackets!r} is not valid; with rung levels {self.levels} it must "
                              f"be an integer in 1..{most} (or None for all)")
        self.brackets = int(brackets)
        self._bracket_ids = list(range(brackets))
