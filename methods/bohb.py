"""BOHB (Falkner, Klein & Hutter 2018): Hyperband whose new configurations come from TPE's KDEs.

Two schedulers, as Syne Tune 0.13.0 offers them:

- ``SyncBOHB``: synchronous Hyperband (``methods.sync_hyperband.SyncHyperband``: brackets one
  at a time, rungs closing when all their trials reported), Syne Tune's ``SyncBOHB`` and the
  algorithm of the paper (HpBandSter's ``BOHB``);
- ``AsyncBOHB``: ASHA (``methods.asha.ASHA``, stopping or promotion, one or more brackets)
  with the same searcher, Syne Tune's ``BOHB`` (``HyperbandScheduler(searcher="kde")``).

Both draw every new configuration from ``methods.tpe.TPESearcher`` (BOHB's multivariate
KDEs): a model per fidelity, used from the highest rung level holding at least ``min_points``
observations (``d + 1`` hyperparameters each for the good and the bad density; BOHB's rule,
HpBandSter's ``min_points_in_model``); below that, random configurations. The searcher sees
the reports at the rung levels only (Syne Tune's ``searcher_data="rungs"``), so each rung's
observations are the results that decide promotions there.

Defaults are those of Syne Tune 0.13.0's ``MultiFidelityKernelDensityEstimator`` (the searcher
``"kde"`` of its multi-fidelity schedulers): ``top_n_percent=15``, ``num_candidates=64``,
``bandwidth_factor=3``, ``random_fraction=0.33`` and ``min_bandwidth=0.1`` (its multi-fidelity
searcher raises the single-fidelity ``KernelDensityEstimator``'s 1e-3 to 0.1; HpBandSter's BOHB
uses 1e-3, pass ``min_bandwidth=1e-3`` for it), with the scheduler defaults of Syne Tune's
``SyncBOHB`` / ``BOHB`` (``reduction_factor=3``, the smallest fidelity as grace period, all
brackets for ``SyncBOHB``, one for ``AsyncBOHB``). ``num_min_data_points`` is HpBandSter's
``d + 1`` (see ``TPESearcher``).

Pause and resume: both tell their searcher when they pause a trial at a rung and when they
resume it (``Searcher.on_pause`` / ``on_resume``). A paused trial is not pending: in
synchronous Hyperband most trials of a rung stay paused for good, and counting them as pending
would put every one of them in the bad density (constant liar) for the rest of the run.

Example:
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> bohb = SyncBOHB(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
    ...                 fidelity_values=list(range(1, 28)))
    >>> bohb.levels, bohb.brackets, bohb.searcher.min_bandwidth, bohb.searcher.min_points
    ([1, 3, 9, 27], 4, 0.1, 4)
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.asha import ASHA
from methods.base import Decision, Suggestion, Trial
from methods.registry import register
from methods.sync_hyperband import SyncHyperband
from methods.tpe import TPESearcher

__all__ = ["SyncBOHB", "AsyncBOHB", "PAPER"]

PAPER = ("Falkner, Klein & Hutter 2018, BOHB: Robust and Efficient Hyperparameter Optimization at "
         "Scale (ICML)")

#: Syne Tune 0.13.0's ``MultiFidelityKernelDensityEstimator`` minimum bandwidth
MIN_BANDWIDTH = 0.1


class _PauseAware:
    """Mixin telling the searcher about pauses (a ``PAUSE`` decision) and resumptions (a resume
    suggestion; a discarded one pauses the trial again)."""

    searcher: Any

    def suggest(self, time: float) -> Suggestion | None:
        suggestion = super().suggest(time)  # type: ignore[misc]
        if suggestion is not None and suggestion.resume is not None:
            self.searcher.on_resume(suggestion.resume)
        return suggestion

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        decision = super().on_report(trial, fidelity, metrics, time)  # type: ignore[misc]
        if decision is Decision.PAUSE:
            self.searcher.on_pause(trial)
        return decision

    def on_discard(self, suggestion: Suggestion) -> None:
        super().on_discard(suggestion)  # type: ignore[misc]
        if suggestion.resume is not None:
            self.searcher.on_pause(Trial(suggestion.resume, {}))


def _searcher(num_min_data_points: int | None, top_n_percent: float, min_bandwidth: float,
              num_candidates: int, bandwidth_factor: float, random_fraction: float,
              allow_duplicates: bool) -> TPESearcher:
    return TPESearcher(num_min_data_points=num_min_data_points, top_n_percent=top_n_percent,
                       min_bandwidth=min_bandwidth, num_candidates=num_candidates,
                       bandwidth_factor=bandwidth_factor, random_fraction=random_fraction,
                       allow_duplicates=allow_duplicates)


@register("SyncBOHB")
class SyncBOHB(_PauseAware, SyncHyperband):
    """BOHB: synchronous Hyperband with TPE's multivariate KDEs fitted on the highest rung with enough data.

    Arguments: ``grace_period``, ``reduction_factor``, ``max_fidelity``, ``brackets`` as for
    ``SyncHyperband`` (default all brackets, ``brackets=1`` is synchronous successive halving
    with BOHB's searcher), and the KDE searcher's ``num_min_data_points`` (``None``: ``d + 1``),
    ``top_n_percent``, ``min_bandwidth``, ``num_candidates``, ``bandwidth_factor``,
    ``random_fraction``, ``allow_duplicates`` (see ``methods.tpe.TPESearcher``). Defaults
    follow Syne Tune 0.13.0's ``SyncBOHB`` with its ``MultiFidelityKernelDensityEstimator``
    (``min_bandwidth=0.1``, ``top_n_percent=15``, ``num_candidates=64``, ``bandwidth_factor=3``,
    ``random_fraction=0.33``, ``reduction_factor=3``, all brackets). The ``BOHB`` preset of Syne
    Tune's multi-fidelity tutorial is this method with its defaults.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> bohb = SyncBOHB(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                 fidelity_values=list(range(1, 82)), brackets=2)
        >>> s = bohb.suggest(0.0)
        >>> s.max_fidelity, bohb.bracket_sizes(0)[0], bohb.searcher.model_fidelity
        (1, [81, 27, 9, 3, 1], None)
    """

    paper = PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None, brackets: int | None = None,
                 num_min_data_points: int | None = None, top_n_percent: float = 15,
                 min_bandwidth: float = MIN_BANDWIDTH, num_candidates: int = 64, bandwidth_factor: float = 3,
                 random_fraction: float = 0.33, allow_duplicates: bool = False):
        # every argument is spelled out in the signature (alike in both classes, deliberately):
        # the catalog, `hposim method info` and create()'s argument check read it
        searcher = _searcher(num_min_data_points, top_n_percent, min_bandwidth, num_candidates,
                             bandwidth_factor, random_fraction, allow_duplicates)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, grace_period=grace_period, reduction_factor=reduction_factor,
                         max_fidelity=max_fidelity, brackets=brackets, searcher=searcher)


@register("AsyncBOHB")
class AsyncBOHB(_PauseAware, ASHA):
    """Asynchronous BOHB: ASHA (stopping or promotion) with TPE's KDEs fitted on the highest rung with enough data.

    Arguments: ``type`` (``"stopping"`` or ``"promotion"``), ``grace_period``,
    ``reduction_factor``, ``brackets`` (default 1; more is asynchronous Hyperband),
    ``max_fidelity`` as for ``ASHA``, and the KDE searcher's ``num_min_data_points`` (``None``:
    ``d + 1``), ``top_n_percent``, ``min_bandwidth``, ``num_candidates``, ``bandwidth_factor``,
    ``random_fraction``, ``allow_duplicates`` (see ``methods.tpe.TPESearcher``). Defaults follow
    Syne Tune 0.13.0's ``BOHB`` (``HyperbandScheduler`` with its
    ``MultiFidelityKernelDensityEstimator``: ``type='stopping'``, ``reduction_factor=3``,
    ``brackets=1``, ``min_bandwidth=0.1``, ``top_n_percent=15``, ``num_candidates=64``,
    ``bandwidth_factor=3``, ``random_fraction=0.33``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> bohb = AsyncBOHB(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                  fidelity_values=list(range(1, 28)), type="promotion")
        >>> bohb.report_levels(), bohb.suggest(0.0).max_fidelity
        ([1, 3, 9, 27], 1)
    """

    paper = PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, type: str = "stopping",
                 grace_period: Any = None, reduction_factor: float = 3, brackets: int = 1,
                 max_fidelity: Any = None, num_min_data_points: int | None = None, top_n_percent: float = 15,
                 min_bandwidth: float = MIN_BANDWIDTH, num_candidates: int = 64, bandwidth_factor: float = 3,
                 random_fraction: float = 0.33, allow_duplicates: bool = False):
        # every argument is spelled out in the signature (alike in both classes, deliberately):
        # the catalog, `hposim method info` and create()'s argument check read it
        searcher = _searcher(num_min_data_points, top_n_percent, min_bandwidth, num_candidates,
                             bandwidth_factor, random_fraction, allow_duplicates)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, type=type, grace_period=grace_period,
                         reduction_factor=reduction_factor, brackets=brackets, max_fidelity=max_fidelity,
                         searcher=searcher)
