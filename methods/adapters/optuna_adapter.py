"""Any Optuna sampler and pruner as an hposim scheduler: ``OptunaScheduler`` (method ``"optuna"``).

The adapter drives an Optuna study (in-memory storage) through ask and tell:

- ``suggest``: ``study.ask`` with the space translated to Optuna distributions (``float`` and
  ``int`` ranges with their log scale, ``choice`` categorical, ``ordinal`` an integer over the
  value's index so that the order is kept, constants left out and added back); on a table the
  proposal is mapped to the equal or else nearest unused row (``CandidateMatcher``) and the
  trial's parameters in the storage are set to that row's values, so the sampler learns what ran;
- ``on_report``: ``trial.report(value, step)`` and ``trial.should_prune()`` -> stop or continue.
  The step is the fidelity when every fidelity is a non-negative integer (epochs), else the
  level's index from 0. Without a pruner no intermediate value is reported (Optuna's ``NopPruner``)
  and the simulator calls ``on_report`` at the largest fidelity only;
- ``on_end``: completed -> ``tell`` COMPLETE with the last reported value, stopped -> ``tell``
  PRUNED (Optuna records the last intermediate value), failed -> ``tell`` FAIL.

Values go to Optuna as reported, with the study's direction from ``mode``; a suggestion that
never ran (``on_discard``) is offered again by the next ``suggest``. Seeding: a sampler given
by name is built with ``seed`` = the run's seed (when it takes one); a sampler instance keeps
its own seed, which then makes the run reproducible. The study is named ``hposim-seed<seed>``
(Optuna's ``HyperbandPruner`` assigns brackets by hashing the study name). Optuna's INFO log
lines (one per trial) are silenced while the adapter calls Optuna.

Optuna is imported when an ``OptunaScheduler`` is built, never by ``import methods``.
"""
from __future__ import annotations

import contextlib
import math
from collections import deque
from typing import Any, Iterator, Mapping, Sequence

from blackbox_repo.configspace import Choice, ConfigurationSpace, Constant, Float, Integer, Ordinal
from methods.adapters.candidates import CandidateMatcher
from methods.adapters.library import build, import_optional
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import register

__all__ = ["OptunaScheduler", "optuna_distributions"]

_CONTINUE, _STOP = Decision.CONTINUE, Decision.STOP


def optuna_distributions(config_space: ConfigurationSpace) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(distributions, constants)``: Optuna distributions of the non-constant hyperparameters
    and the constants' values. An ``ordinal`` becomes an ``IntDistribution`` over its index.

    Example:
        >>> from blackbox_repo.configspace import loguniform, ordinal, constant
        >>> dists, const = optuna_distributions(ConfigurationSpace(
        ...     {"lr": loguniform(1e-4, 1e-1), "w": ordinal([16, 32, 64]), "opt": constant("adam")}))
        >>> type(dists["lr"]).__name__, dists["lr"].log, (dists["w"].low, dists["w"].high), const
        ('FloatDistribution', True, (0, 2), {'opt': 'adam'})
    """
    optuna = import_optional("optuna", "optuna")
    D = optuna.distributions
    dists: dict[str, Any] = {}
    constants: dict[str, Any] = {}
    for name, dom in config_space.items():
        if isinstance(dom, Constant):
            constants[name] = dom.value
        elif isinstance(dom, Float):
            dists[name] = D.FloatDistribution(dom.lower, dom.upper, log=dom.log)
        elif isinstance(dom, Integer):
            dists[name] = D.IntDistribution(dom.lower, dom.upper, log=dom.log)
        elif isinstance(dom, Ordinal):
            dists[name] = D.IntDistribution(0, len(dom.values) - 1)
        elif isinstance(dom, Choice):
            dists[name] = D.CategoricalDistribution(dom.values)
        else:
            raise MethodError(f"hyperparameter {name!r}: no Optuna distribution for a {type(dom).__name__} domain; "
                              f"allowed: float, int, choice, ordinal, constant")
    return dists, constants


@contextlib.contextmanager
def _quiet(optuna: Any) -> Iterator[None]:
    """Optuna's log at WARNING while the adapter calls it, when it is at Optuna's default INFO (one line
    per trial otherwise)."""
    before = optuna.logging.get_verbosity()
    quiet = before == optuna.logging.INFO         # Optuna's default; a user's own setting is kept
    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        if quiet:
            optuna.logging.set_verbosity(before)


@register("optuna")
class OptunaScheduler(Scheduler):
    """An Optuna sampler (and optionally a pruner) behind hposim's scheduler protocol.

    Arguments: ``sampler`` (the name of a class in ``optuna.samplers``, built with
    ``sampler_args`` and the run's seed, or a sampler instance; default ``"TPESampler"``),
    ``pruner`` (a name in ``optuna.pruners`` built with ``pruner_args``, or an instance;
    ``None``: no pruning, every trial runs to the largest fidelity). ``study`` is the Optuna
    study, to inspect afterwards (``study.best_trial``, ``study.trials_dataframe()``); its
    trials carry the hposim trial id as user attribute ``hposim_trial_id``.

    In a study spec: ``OptunaTPE: {method: optuna, sampler: TPESampler, pruner: HyperbandPruner,
    pruner_args: {min_resource: 1}}``. From Python, for a blackbox ``bb``:
    ``simulate(bb, make_scheduler("optuna", bb, sampler=optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.SuccessiveHalvingPruner()))``.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> sched = OptunaScheduler(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                         fidelity_values=[1, 2, 3], sampler="RandomSampler", pruner="MedianPruner")
        >>> s = sched.suggest(0.0); sched.on_start(Trial(0, s.config))
        >>> sched.on_report(Trial(0, s.config), 1, {"loss": 0.5}, 10.0)
        <Decision.CONTINUE: 'continue'>
        >>> sched.on_end(Trial(0, s.config), TrialStatus.FAILED)
        >>> sched.study.trials[0].state.name, sched.study.trials[0].params == s.config
        ('FAIL', True)
    """

    paper = ("Akiba, Sano, Yanase, Ohta & Koyama 2019, Optuna: A Next-generation Hyperparameter Optimization "
             "Framework (KDD); the sampler's and pruner's own papers apply")

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, sampler: Any = "TPESampler",
                 pruner: Any = None, sampler_args: Mapping[str, Any] | None = None,
                 pruner_args: Mapping[str, Any] | None = None):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        optuna = self._optuna = import_optional("optuna", "optuna")
        if isinstance(sampler, optuna.samplers.BaseSampler):
            if sampler_args:
                raise MethodError("sampler_args are for a sampler given by name; this sampler is an instance")
            self.sampler = sampler
        else:
            self.sampler = build(optuna.samplers, sampler, sampler_args, base=optuna.samplers.BaseSampler,
                                 what="Optuna sampler", defaults={"seed": int(seed)})
        if pruner is None:
            if pruner_args:
                raise MethodError("pruner_args given without a pruner")
            self.pruner = optuna.pruners.NopPruner()
        elif isinstance(pruner, optuna.pruners.BasePruner):
            if pruner_args:
                raise MethodError("pruner_args are for a pruner given by name; this pruner is an instance")
            self.pruner = pruner
        else:
            self.pruner = build(optuna.pruners, pruner, pruner_args, base=optuna.pruners.BasePruner,
                                what="Optuna pruner")
        self._prunes = not isinstance(self.pruner, optuna.pruners.NopPruner)
        self.distributions, self._constants = optuna_distributions(self.config_space)
        self._ordinals = {n: d.values for n, d in self.config_space.items() if isinstance(d, Ordinal)}
        self._names = self.config_space.names
        self._storage = optuna.storages.InMemoryStorage()
        with _quiet(optuna):
            self.study = optuna.create_study(
                storage=self._storage, sampler=self.sampler, pruner=self.pruner,
                study_name=f"hposim-seed{seed}", direction="minimize" if mode == "min" else "maximize")
        fids = self.fidelity_values.tolist()
        integral = all(float(f).is_integer() and f >= 0 for f in fids)
        self._step = {f: (int(f) if integral else i) for i, f in enumerate(fids)}
        self._matcher = None if self.candidates is None else CandidateMatcher(self.config_space, self.candidates)
        self._asked: dict[int, tuple] = {}        # id(config) -> (config, Optuna trial), until started or discarded
        self._spare: deque = deque()              # (config, Optuna trial) of discarded suggestions
        self._trials: dict[int, Any] = {}         # hposim trial id -> Optuna trial
        self._last: dict[int, float] = {}         # hposim trial id -> last reported value

    # ------------------------------------------------------------------ translation
    def _config_of(self, params: Mapping[str, Any]) -> dict:
        config = {}
        for name in self._names:
            if name in self._constants:
                config[name] = self._constants[name]
            elif name in self._ordinals:
                config[name] = self._ordinals[name][int(params[name])]
            else:
                config[name] = params[name]
        return config

    def _param_of(self, name: str, value: Any) -> Any:
        if name in self._ordinals:
            return self.config_space[name].index_of(value)
        return value

    def _set_params(self, otrial: Any, proposed: Mapping[str, Any], config: Mapping[str, Any]) -> None:
        """The storage's parameters of ``otrial`` become ``config``'s (a table row replacing the proposal)."""
        for name, dist in self.distributions.items():
            if proposed[name] != config[name]:
                internal = dist.to_internal_repr(self._param_of(name, config[name]))
                self._storage.set_trial_param(otrial._trial_id, name, internal, dist)

    # ------------------------------------------------------------------ the protocol
    def suggest(self, time: float) -> Suggestion | None:
        if self._spare:
            config, otrial = self._spare.popleft()
        else:
            if self._matcher is not None and self._matcher.exhausted:
                return None
            with _quiet(self._optuna):
                otrial = self.study.ask(self.distributions)
            config = proposed = self._config_of(otrial.params)
            if self._matcher is not None:
                config = self._matcher.take(proposed)
                self._set_params(otrial, proposed, config)
        self._asked[id(config)] = (config, otrial)
        return Suggestion(config=config, max_fidelity=self.max_fidelity)

    def on_start(self, trial: Trial) -> None:
        _, otrial = self._asked.pop(id(trial.config))
        otrial.set_user_attr("hposim_trial_id", trial.trial_id)
        self._trials[trial.trial_id] = otrial

    def on_discard(self, suggestion: Suggestion) -> None:
        asked = self._asked.pop(id(suggestion.config), None)
        if asked is not None:
            self._spare.append(asked)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        value = float(metrics.get(self.metric, math.nan))
        if math.isnan(value):
            return _STOP
        self._last[trial.trial_id] = value
        if not self._prunes:
            return _CONTINUE
        otrial = self._trials[trial.trial_id]
        otrial.report(value, self._step[fidelity])
        return _STOP if otrial.should_prune() else _CONTINUE

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        otrial = self._trials.pop(trial.trial_id, None)
        last = self._last.pop(trial.trial_id, None)
        if otrial is None:
            return
        states = self._optuna.trial.TrialState
        with _quiet(self._optuna):
            if status is TrialStatus.COMPLETED and last is not None:
                self.study.tell(otrial, last)
            elif status is TrialStatus.STOPPED:
                self.study.tell(otrial, state=states.PRUNED)
            else:
                self.study.tell(otrial, state=states.FAIL)

    def report_levels(self) -> Sequence[Any] | None:
        return None if self._prunes else []
