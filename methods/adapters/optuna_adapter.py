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

Values go to Optuna as reported, with the study's direction(s) from ``mode`` (several metrics: a
multi-objective study, told one value per metric; no pruner then); a suggestion that
never ran (``on_discard``) is offered again by the next ``suggest``. Seeding: a sampler given
by name is built with ``seed`` = the run's seed (when it takes one); a sampler instance keeps
its own seed, which then makes the run reproducible. The study is named ``hposim-seed<seed>``
(Optuna's ``HyperbandPruner`` assigns brackets by hashing the study name). Optuna's INFO log
lines (one per trial) are silenced while the adapter calls Optuna.

``OptunaScheduler(sampler, pruner=...)`` without a space is bound to its problem by ``simulate``
(the declared ``bind`` step of ``methods.base.Scheduler``). Optuna is imported when an
``OptunaScheduler`` is built, never by ``import methods``.
"""
from __future__ import annotations

import contextlib
import copy
import importlib.util
import math
from collections import deque
from typing import Any, Iterator, Mapping, Sequence

from blackbox_repo.configspace import Choice, ConfigurationSpace, Constant, Float, Integer, Ordinal
from methods.adapters.candidates import CandidateMatcher
from methods.adapters.library import BindsLater, build, import_optional
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import register

__all__ = ["OptunaScheduler", "optuna_distributions"]

_CONTINUE, _STOP = Decision.CONTINUE, Decision.STOP
#: libraries a sampler imports only after its first trials (checked before the run)
_SAMPLER_NEEDS = {"GPSampler": ("torch",), "CmaEsSampler": ("cmaes",)}


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


def _teller(optuna: Any) -> Any:
    """``tell(study, trial, values, state)``: what ``study.optimize`` calls after each trial (Optuna's
    ``_tell_with_warning``). ``study.tell`` does the same and returns a deep copy of the finished trial,
    which the adapter does not use and which took half of the adapter's time per trial with a random
    sampler (``benchmarks/bench_adapter_overhead.py``); ``study.tell`` when that function is not there."""
    try:
        from optuna.study._tell import _tell_with_warning
    except ImportError:                            # another Optuna version: the public call
        return lambda study, trial, values, state: study.tell(trial, values, state=state)

    def tell(study: Any, trial: Any, values: Any, state: Any) -> None:
        _tell_with_warning(study=study, trial=trial, value_or_values=values, state=state, suppress_warning=True)

    return tell


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
class OptunaScheduler(BindsLater):
    """An Optuna sampler (and optionally a pruner) behind hposim's scheduler protocol.

    Arguments: ``sampler`` (the name of a class in ``optuna.samplers``, built with
    ``sampler_args`` and the run's seed, or a sampler instance; default ``"TPESampler"``),
    ``pruner`` (a name in ``optuna.pruners`` built with ``pruner_args``, or an instance;
    ``None``: no pruning, every trial runs to the largest fidelity). ``study`` is the Optuna
    study, to inspect afterwards (``study.best_trial``, ``study.trials_dataframe()``); its
    trials carry the hposim trial id as user attribute ``hposim_trial_id``.

    Several metrics (``metric=["val_acc", "latency"]``, ``mode=["max", "min"]``) make a
    multi-objective study (one direction per metric; e.g. ``NSGAIISampler``, ``TPESampler``);
    Optuna prunes single-objective studies only, so a pruner with several metrics is refused.

    Built without a space -- ``OptunaScheduler(sampler, pruner=...)``, the sampler first -- the
    scheduler is unbound (``bound`` False) and ``simulate`` binds it to the blackbox it runs on
    (its space, fidelities, rows, metric and mode, and the run's seed; ``bind``).

    In a study spec: ``OptunaTPE: {method: optuna, sampler: TPESampler, pruner: HyperbandPruner,
    pruner_args: {min_resource: 1}}``. From Python, for a blackbox ``bb``:
    ``simulate(bb, OptunaScheduler(optuna.samplers.TPESampler(seed=0),
    pruner=optuna.pruners.SuccessiveHalvingPruner()), n_workers=4, stop=Stop(max_time=3600), seed=0)``
    or ``make_scheduler("optuna", bb, sampler=..., pruner=...)``.

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
    #: one metric, or several (an Optuna study with one direction per metric)
    multi_objective = None

    def __init__(self, config_space: Any = None, *, metric: str | Sequence[str] | None = None,
                 mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, sampler: Any = "TPESampler",
                 pruner: Any = None, sampler_args: Mapping[str, Any] | None = None,
                 pruner_args: Mapping[str, Any] | None = None):
        optuna = self._optuna = import_optional("optuna", "optuna")
        if config_space is not None and not isinstance(config_space, (ConfigurationSpace, Mapping)):
            # the short form OptunaScheduler(sampler, pruner=...): bound to its problem later
            if not (isinstance(sampler, str) and sampler == "TPESampler"):    # not the default
                raise MethodError(f"the sampler is given twice: {config_space!r} (first argument) and "
                                  f"sampler={sampler!r}; give one")
            sampler, config_space = config_space, None
        self.bound = False
        self._sampler_spec = (sampler, sampler_args)
        # built now, so that a bad name or argument fails at once; a named sampler is built again with
        # the run's seed when the scheduler is bound
        self.sampler = self._build_sampler(int(seed) if isinstance(seed, int) else 0)
        if pruner is None:
            if pruner_args:
                raise MethodError("pruner_args given without a pruner; give pruner=<a name in optuna.pruners>")
            self.pruner = optuna.pruners.NopPruner()
        elif isinstance(pruner, optuna.pruners.BasePruner):
            if pruner_args:
                raise MethodError("pruner_args are for a pruner given by name; this pruner is an instance")
            self.pruner = pruner
        else:
            self.pruner = build(optuna.pruners, pruner, pruner_args, base=optuna.pruners.BasePruner,
                                what="Optuna pruner")
        self._prunes = not isinstance(self.pruner, optuna.pruners.NopPruner)
        self._setup_or_defer(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                             candidates=candidates)

    def _build_sampler(self, seed: int) -> Any:
        optuna = self._optuna
        sampler, sampler_args = self._sampler_spec
        if isinstance(sampler, optuna.samplers.BaseSampler):
            if sampler_args:
                raise MethodError("sampler_args are for a sampler given by name; this sampler is an instance")
            return sampler
        return build(optuna.samplers, sampler, sampler_args, base=optuna.samplers.BaseSampler,
                     what="Optuna sampler", defaults={"seed": seed})

    def _check_sampler(self, directions: list[str]) -> None:
        """What the sampler refuses on its first trial (several objectives for ``CmaEsSampler``, a
        continuous space for ``BruteForceSampler``) or a library it imports later fails here, before
        the run: a copy of the sampler asks once in a scratch study."""
        name = type(self.sampler).__name__
        missing = [m for m in _SAMPLER_NEEDS.get(name, ()) if importlib.util.find_spec(m) is None]
        if missing:
            raise MethodError(f"Optuna sampler {name} needs {missing}, which {'is' if len(missing) == 1 else 'are'} "
                              f"not installed (pip install {' '.join(missing)}); or use another sampler, e.g. "
                              f"TPESampler, RandomSampler, NSGAIISampler, QMCSampler")
        try:
            probe = copy.deepcopy(self.sampler)
        except Exception:  # noqa: BLE001 - a sampler that cannot be copied is not probed
            return
        optuna = self._optuna
        with _quiet(optuna):
            scratch = optuna.create_study(sampler=probe, directions=directions)
            try:
                scratch.ask(self.distributions)
            except (ValueError, TypeError, RuntimeError, ImportError) as e:   # what samplers raise for a study they cannot run
                several = f" with several objectives {self.metrics}" if len(directions) > 1 else ""
                raise MethodError(f"Optuna sampler {name} cannot run this study{several}: {e}") from None

    def _setup(self, config_space: Any, *, metric: Any, mode: Any, fidelity_values: Any, seed: int,
               candidates: Any) -> None:
        Scheduler.__init__(self, config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                           seed=seed, candidates=candidates)
        optuna = self._optuna
        self._several = len(self.metrics) > 1
        if self._several and self._prunes:
            raise MethodError(f"Optuna's pruners work on single-objective studies only (trial.report is not "
                              f"supported with several objectives), got pruner {type(self.pruner).__name__} "
                              f"and metrics {self.metrics}; give one metric, or no pruner")
        if not isinstance(self._sampler_spec[0], optuna.samplers.BaseSampler):
            self.sampler = self._build_sampler(int(self.seed))
        self.distributions, self._constants = optuna_distributions(self.config_space)
        self._ordinals = {n: d.values for n, d in self.config_space.items() if isinstance(d, Ordinal)}
        self._names = self.config_space.names
        directions = ["minimize" if m == "min" else "maximize" for m in self.modes]
        self._check_sampler(directions)
        self._storage = optuna.storages.InMemoryStorage()
        with _quiet(optuna):
            self.study = optuna.create_study(
                storage=self._storage, sampler=self.sampler, pruner=self.pruner,
                study_name=f"hposim-seed{self.seed}", directions=directions)
        fids = self.fidelity_values.tolist()
        integral = all(float(f).is_integer() and f >= 0 for f in fids)
        self._step = {f: (int(f) if integral else i) for i, f in enumerate(fids)}
        self._matcher = None if self.candidates is None else CandidateMatcher(self.config_space, self.candidates)
        self._asked: dict[int, tuple] = {}        # id(config) -> (config, Optuna trial), until started or discarded
        self._spare: deque = deque()              # (config, Optuna trial) of discarded suggestions
        self._trials: dict[int, Any] = {}         # hposim trial id -> Optuna trial
        self._last: dict[int, Any] = {}           # hposim trial id -> last reported value (a list: several)
        self._tell = _teller(optuna)
        self.bound = True

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
        if not self.bound:
            raise MethodError("this OptunaScheduler has no problem yet: simulate(blackbox, scheduler) binds it, "
                              "or give config_space and metric when building it")
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
        if self._several:                         # no pruning: called at the largest fidelity only
            values = [float(metrics.get(m, math.nan)) for m in self.metrics]
            if any(math.isnan(v) for v in values):
                return _STOP
            self._last[trial.trial_id] = values
            return _CONTINUE
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
                self._tell(self.study, otrial, last, states.COMPLETE)
            elif status is TrialStatus.STOPPED and not self._several:
                self._tell(self.study, otrial, None, states.PRUNED)
            else:
                self._tell(self.study, otrial, None, states.FAIL)

    def report_levels(self) -> Sequence[Any] | None:
        return None if self._prunes else []
