"""MOBSTER (Klein et al. 2020): ASHA with the multi-fidelity GP searcher; SyncMOBSTER: the same
searcher over synchronous Hyperband.

``MOBSTER`` is ``ASHA`` (``methods.asha``) whose new configurations come from
``methods.mf_gp.MultiFidelityGPSearcher``: a GP over configuration x fidelity (``model="joint"``,
Syne Tune's ``gp_multitask`` with the exponential-decay resource kernel) or one GP per rung level
with a shared ARD kernel (``model="independent"``, ``gp_independent``), and expected improvement
at the largest rung level with at least 3 observations. The searcher sees the reports at the rung
levels and at the top (Syne Tune's ``searcher_data="rungs"``). ``SyncMOBSTER`` is
``SyncHyperband`` with that searcher (Syne Tune's default model there: ``independent``).

Defaults follow Syne Tune 0.13's baselines: ``MOBSTER`` = ``HyperbandScheduler(searcher=
"bayesopt")`` with ``type="stopping"``, ``brackets=1``, ``reduction_factor=3``, ``grace_period=1``
and ``search_options["model"]="gp_multitask"``; ``SyncMOBSTER`` =
``SynchronousGeometricHyperbandScheduler(searcher="bayesopt")`` with every bracket and
``model="gp_independent"``. The GP settings (``searcher_args``) are the searcher's.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, cast

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_choice
from methods.asha import ASHA
from methods.base import Decision, MethodError, Suggestion, Trial
from methods.mf_gp import MultiFidelityGPSearcher, check_model
from methods.registry import register
from methods.searcher import make_searcher
from methods.sync_hyperband import SyncHyperband

__all__ = ["MOBSTER", "SyncMOBSTER", "TYPES", "mf_searcher", "check_multi_fidelity"]

#: values of ``type``
TYPES = ("stopping", "promotion")

_PAPER = ("Klein, Tiao, Lienart, Archambeau & Seeger 2020, Model-based Asynchronous Hyperparameter and "
          "Neural Architecture Search (arXiv:2003.10865)")


def check_multi_fidelity(method: str, fidelity_values: Sequence[Any] | None) -> None:
    """A multi-fidelity method needs at least two fidelities; else an error naming the method."""
    if fidelity_values is None or len(fidelity_values) < 2:
        raise MethodError(f"{method} is a multi-fidelity method and needs at least two fidelity values, got "
                          f"{None if fidelity_values is None else list(fidelity_values)!r}; for a "
                          f"single-fidelity blackbox use BayesianOptimization")


def mf_searcher(model: str, searcher_args: Mapping[str, Any] | None,
                cls: type[MultiFidelityGPSearcher] = MultiFidelityGPSearcher
                ) -> MultiFidelityGPSearcher:
    """The multi-fidelity GP searcher with ``model`` and ``searcher_args`` (which must not set ``model``)."""
    if searcher_args is not None and not isinstance(searcher_args, Mapping):
        raise MethodError(f"searcher_args must be a mapping of argument -> value, got {searcher_args!r}")
    args = dict(searcher_args or {})
    if "model" in args:
        raise MethodError(f"give the model as the method argument model=..., not in searcher_args "
                          f"(got searcher_args model={args['model']!r})")
    return cast(MultiFidelityGPSearcher, make_searcher(cls.names[0], model=model, **args))


def _tell_pause(searcher: MultiFidelityGPSearcher, trial: Trial, decision: Decision) -> Decision:
    if decision is Decision.PAUSE:
        searcher.paused(trial.trial_id)
    return decision


def _tell_resume(searcher: MultiFidelityGPSearcher, suggestion: Suggestion | None) -> Suggestion | None:
    if suggestion is not None and suggestion.resume is not None:
        searcher.resumed(suggestion.resume)
    return suggestion


class _TellsPauses:
    """Mixin telling the multi-fidelity GP searcher which trials are paused (a ``PAUSE``
    decision) and resumed (a resume suggestion), for MOBSTER and SyncMOBSTER alike."""

    searcher: MultiFidelityGPSearcher

    def suggest(self, time: float) -> Suggestion | None:
        return _tell_resume(self.searcher, super().suggest(time))  # type: ignore[misc]

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        return _tell_pause(self.searcher, trial, super().on_report(trial, fidelity, metrics, time))  # type: ignore[misc]


@register("MOBSTER")
class MOBSTER(_TellsPauses, ASHA):
    """Model-based asynchronous multi-fidelity optimizer: ASHA + the multi-fidelity GP searcher.

    Arguments: ``type`` (``"stopping"``, the default as in Syne Tune, or ``"promotion"``),
    ``model`` (``"joint"``, Syne Tune's default ``gp_multitask``, or ``"independent"``),
    ``grace_period``, ``reduction_factor``, ``brackets``, ``max_fidelity`` as for ``ASHA``, and
    ``searcher_args`` for ``MultiFidelityGPSearcher`` (e.g. ``{"num_init_random": 10}``). Defaults
    follow Syne Tune 0.13's ``MOBSTER`` baseline (``HyperbandScheduler`` with ``searcher="bayesopt"``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> m = MOBSTER(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...             fidelity_values=list(range(1, 28)), type="promotion", model="independent")
        >>> m.report_levels(), m.searcher.model, m.suggest(0.0).max_fidelity
        ([1, 3, 9, 27], 'independent', 1)
    """

    paper = _PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, type: str = "stopping",
                 model: str = "joint", grace_period: Any = None, reduction_factor: float = 3, brackets: int = 1,
                 max_fidelity: Any = None, searcher_args: Mapping[str, Any] | None = None):
        type = check_choice("type", type, TYPES)
        self.model = check_model(model)
        check_multi_fidelity("MOBSTER", fidelity_values)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, type=type, grace_period=grace_period,
                         reduction_factor=reduction_factor, brackets=brackets, max_fidelity=max_fidelity,
                         searcher=mf_searcher(self.model, searcher_args))
        self.searcher.set_rung_levels(self.levels)


@register("SyncMOBSTER")
class SyncMOBSTER(_TellsPauses, SyncHyperband):
    """Synchronous Hyperband + the multi-fidelity GP searcher (Syne Tune's ``SyncMOBSTER``).

    Arguments: ``model`` (``"independent"``, Syne Tune's default here, or ``"joint"``),
    ``brackets`` (default all), ``grace_period``, ``reduction_factor``, ``max_fidelity`` as for
    ``SyncHyperband``, and ``searcher_args`` for ``MultiFidelityGPSearcher``. Defaults follow Syne
    Tune 0.13's ``SyncMOBSTER`` baseline (every bracket, ``model="gp_independent"``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> m = SyncMOBSTER(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                 fidelity_values=list(range(1, 28)))
        >>> m.brackets, m.searcher.model, m.suggest(0.0).max_fidelity
        (4, 'independent', 1)
    """

    paper = _PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, model: str = "independent",
                 grace_period: Any = None, reduction_factor: float = 3, max_fidelity: Any = None,
                 brackets: int | None = None, searcher_args: Mapping[str, Any] | None = None):
        self.model = check_model(model)
        check_multi_fidelity("SyncMOBSTER", fidelity_values)
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates, grace_period=grace_period, reduction_factor=reduction_factor,
                         max_fidelity=max_fidelity, brackets=brackets,
                         searcher=mf_searcher(self.model, searcher_args))
        self.searcher.set_rung_levels(self.levels)

    def report_levels(self) -> Sequence[Any] | None:
        # trials pause at rung levels; the searcher learns from the rung levels only (as Syne Tune)
        return list(self.levels)
