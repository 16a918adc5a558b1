"""Any Syne Tune 0.16 scheduler as an hposim scheduler: ``SyneTuneScheduler`` (method ``"synetune"``).

The adapter makes the calls Syne Tune's ``Tuner`` makes, in the same order:

- ``suggest`` -> ``scheduler.suggest()``: a new configuration (on a table, mapped to the equal or
  else nearest unused row by ``CandidateMatcher``) or the resume of a paused trial;
- ``on_start`` -> ``on_trial_add(Trial(trial_id, config, creation_time))``; hposim's trial ids
  count from 0 in start order, as the Tuner's do;
- ``on_report`` -> ``on_trial_result(trial, result)`` with ``result`` = the metrics plus the
  fidelity under the scheduler's resource attribute (``time_attr``; default ``"epoch"``);
  ``"CONTINUE"``, ``"PAUSE"``, ``"STOP"`` become hposim's decisions, and after a pause or stop
  ``on_trial_remove(trial)``, as in the Tuner;
- ``on_end``: completed -> ``on_trial_complete(trial, last result)`` (unless the scheduler had
  already stopped or paused it there), failed -> ``on_trial_error(trial)``.

Seeding: a scheduler given by name gets ``random_seed`` = the run's seed. Some Syne Tune code
draws from numpy's global generator (ASHA draws each trial's bracket with ``np.random.choice``,
its random searcher samples there too): before every call into Syne Tune the adapter seeds
numpy's global generator (``np.random.seed``) with the next number of a stream of its own, seeded
by the run's seed, so a run is reproducible whatever else uses numpy's global generator. (The
global state is not put back afterwards: saving and restoring it costs about 200 µs a call,
seeding 5 µs.)

A proposal outside a numeric range is clipped into it: Syne Tune 0.16's BOHB (its KDE searcher)
sometimes proposes integers below a log-scaled range (seen: ``n_units`` = 1 for ``[8, 64]`` in
about half of the 200-trial runs on ``mlp-sklearn/digits``), which no row or blackbox can evaluate.

The space is translated to Syne Tune domains: ``uniform``/``loguniform``, ``randint``/
``lograndint``, ``choice``, ``ordinal(values, kind="equal")`` (uniform over the values, as hposim
samples them; encoded by rank), constants as plain values. Syne Tune is imported when a
``SyneTuneScheduler`` is built, never by ``import methods``.
"""
from __future__ import annotations

import contextlib
import datetime
import difflib
import inspect
import logging
import math
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import Choice, ConfigurationSpace, Constant, Float, Integer, Ordinal
from methods.adapters.candidates import CandidateMatcher
from methods.adapters.library import BindsLater, accepts, build, import_optional
from methods.arguments import check_float, check_int, check_keywords
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.registry import register

__all__ = ["SyneTuneScheduler", "synetune_space"]

#: the result key carrying the fidelity when the scheduler names none (Syne Tune's ``time_attr``)
RESOURCE_ATTR = "epoch"
_DECISIONS = {"CONTINUE": Decision.CONTINUE, "PAUSE": Decision.PAUSE, "STOP": Decision.STOP}
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


def synetune_space(config_space: ConfigurationSpace) -> dict[str, Any]:
    """The space as a Syne Tune ``config_space`` dict (domains, constants as plain values).

    Example:
        >>> from blackbox_repo.configspace import loguniform, ordinal, constant
        >>> st = synetune_space(ConfigurationSpace({"lr": loguniform(1e-4, 1e-1), "w": ordinal([16, 32]),
        ...                                         "opt": constant("adam")}))
        >>> type(st["lr"]).__name__, type(st["w"]).__name__, st["opt"]
        ('Float', 'Ordinal', 'adam')
    """
    sp = import_optional("syne_tune.config_space", "synetune")
    out: dict[str, Any] = {}
    for name, dom in config_space.items():
        if isinstance(dom, Constant):
            out[name] = dom.value
        elif isinstance(dom, (Float, Integer)) and dom.lower == dom.upper:
            out[name] = dom.lower
        elif isinstance(dom, Float):
            out[name] = (sp.loguniform if dom.log else sp.uniform)(dom.lower, dom.upper)
        elif isinstance(dom, Integer):
            out[name] = (sp.lograndint if dom.log else sp.randint)(dom.lower, dom.upper)
        elif isinstance(dom, Ordinal):
            out[name] = sp.ordinal(list(dom.values), kind="equal")
        elif isinstance(dom, Choice):
            out[name] = sp.choice(list(dom.values))
        else:
            raise MethodError(f"hyperparameter {name!r}: no Syne Tune domain for a {type(dom).__name__} domain; "
                              f"allowed: float, int, choice, ordinal, constant")
    return out


#: the arguments hposim gives a Syne Tune scheduler built by name (never in ``scheduler_args``)
_FROM_HPOSIM = ("config_space", "metric", "metrics", "do_minimize", "mode", "random_seed")
#: the schedulers that take several metrics in Syne Tune 0.16 (``EHVI`` fails there with a NameError,
#: ``RandomSearch``'s searcher takes one metric)
MULTI_OBJECTIVE = ("MOASHA",)


def scheduler_classes() -> dict[str, type]:
    """The Syne Tune schedulers a name may give: the classes of ``syne_tune.optimizer.baselines`` and ``MOASHA``."""
    from syne_tune.optimizer import baselines
    from syne_tune.optimizer.scheduler import TrialScheduler
    from syne_tune.optimizer.schedulers.multiobjective.moasha import MOASHA

    out = {n: c for n, c in vars(baselines).items()
           if isinstance(c, type) and issubclass(c, TrialScheduler) and c.__module__ == baselines.__name__}
    out["MOASHA"] = MOASHA
    return out


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    return {k: v for k, v in inspect.signature(cls.__init__).parameters.items() if k != "self"}


@contextlib.contextmanager
def _syne_tune_log_at(level: int) -> Iterator[None]:
    """Syne Tune's loggers at ``level`` at least, for the duration."""
    logger = logging.getLogger("syne_tune")
    before = logger.level
    logger.setLevel(max(level, before))
    try:
        yield
    finally:
        logger.setLevel(before)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@register("synetune")
class SyneTuneScheduler(BindsLater):
    """A Syne Tune scheduler behind hposim's scheduler protocol.

    Arguments: ``scheduler`` (the name of a class in ``syne_tune.optimizer.baselines``, e.g.
    ``"ASHA"``, ``"RandomSearch"``, ``"BOHB"``, ``"TPE"``, ``"REA"``, or an instance of a Syne
    Tune ``TrialScheduler`` built by the user, default ``"RandomSearch"``); for a scheduler given
    by name: ``grace_period`` (default the smallest fidelity), ``reduction_factor``, ``brackets``,
    ``max_t`` (default the largest fidelity) where the class takes them, and ``scheduler_args``
    for any other argument; the space, metric (``metric`` or ``metrics=[metric]``),
    ``do_minimize`` and ``random_seed`` come from hposim. ``resource_attr``: the result key of the
    fidelity (default: the scheduler's ``time_attr``, else ``"epoch"``).

    Several metrics need a multi-objective Syne Tune scheduler (``scheduler="MOASHA"``, or an
    instance taking ``metrics``); with mixed modes the "max" metrics are passed negated (Syne Tune
    0.16 takes one ``do_minimize``). A scheduler instance must optimize the run's metric(s) in the
    run's direction (checked when the adapter is built or bound).

    Built without a space -- ``SyneTuneScheduler("ASHA", grace_period=1)`` or
    ``SyneTuneScheduler(my_scheduler)`` -- the adapter is unbound and ``simulate`` binds it to the
    blackbox it runs on (``bind``).

    In a study spec: ``ST-ASHA: {method: synetune, scheduler: ASHA, grace_period: 1}``.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> sched = SyneTuneScheduler(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...                           fidelity_values=[1, 2, 3, 4], scheduler="ASHA", reduction_factor=2)
        >>> s = sched.suggest(0.0); sched.on_start(Trial(0, s.config))
        >>> sched.on_report(Trial(0, s.config), 1, {"loss": 0.5}, 10.0)
        <Decision.CONTINUE: 'continue'>
        >>> type(sched.scheduler).__name__, sched.resource_attr, sched.scheduler.max_t
        ('ASHA', 'epoch', 4)
    """

    several_word = "a multi-objective Syne Tune scheduler"

    paper = ("Salinas, Seeger, Klein, Perrone, Wistuba & Archambeau 2022, Syne Tune: A Library for Large Scale "
             "Hyperparameter Tuning and Reproducible Research (AutoML Conf); the scheduler's own paper applies")

    #: one metric, or several with a multi-objective Syne Tune scheduler (``MOASHA``)
    multi_objective = None

    def __init__(self, config_space: Any = None, *, metric: str | Sequence[str] | None = None,
                 mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, scheduler: Any = "RandomSearch",
                 grace_period: Any = None, reduction_factor: float | None = None, brackets: int | None = None,
                 max_t: Any = None, scheduler_args: Mapping[str, Any] | None = None,
                 resource_attr: str | None = None):
        import_optional("syne_tune", "synetune")
        from syne_tune.backend.trial_status import Trial as STTrial
        from syne_tune.optimizer.scheduler import TrialScheduler

        if config_space is not None and not isinstance(config_space, (ConfigurationSpace, Mapping)):
            # the short form SyneTuneScheduler("ASHA", grace_period=1) or SyneTuneScheduler(mine): bound later
            if not (isinstance(scheduler, str) and scheduler == "RandomSearch"):    # not the default
                raise MethodError(f"the Syne Tune scheduler is given twice: {config_space!r} (first argument) "
                                  f"and scheduler={scheduler!r}; give one")
            scheduler, config_space = config_space, None
        self.bound = False
        self._st_trial = STTrial
        named = {"grace_period": grace_period, "reduction_factor": reduction_factor, "brackets": brackets,
                 "max_t": max_t}
        self._named = {k: v for k, v in named.items() if v is not None}
        self._scheduler_args = dict(scheduler_args) if isinstance(scheduler_args, Mapping) else (scheduler_args or {})
        self._resource_attr = resource_attr
        if isinstance(scheduler, TrialScheduler):
            given = sorted(self._named) + (["scheduler_args"] if scheduler_args else [])
            if given:
                raise MethodError(f"{given} are for a Syne Tune scheduler given by name; this scheduler is an "
                                  f"instance (set them when building it)")
            self._cls = None
        else:
            self._cls = self._check_named(scheduler)
        self._spec = scheduler
        self._setup_or_defer(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                             candidates=candidates)

    # ------------------------------------------------------------------ building
    def _check_named(self, name: Any) -> type:
        """The class of a scheduler given by name, with its arguments checked (before any space is known)."""
        allowed = scheduler_classes()
        if not isinstance(name, str) or name not in allowed:
            close = difflib.get_close_matches(str(name), list(allowed), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise MethodError(f"Syne Tune scheduler {name!r} is not valid; allowed: {sorted(allowed)} (the classes "
                              f"of syne_tune.optimizer.baselines, and MOASHA), or an instance of a Syne Tune "
                              f"TrialScheduler.{hint}")
        cls = allowed[name]
        explicit = self._named
        if "reduction_factor" in explicit:
            check_float("reduction_factor", explicit["reduction_factor"], low=1, low_open=True)
        if "brackets" in explicit:
            check_int("brackets", explicit["brackets"], low=1)
        for key in explicit:
            if not accepts(cls, key):
                raise MethodError(f"Syne Tune scheduler {name} does not take {key!r}; it takes "
                                  f"{sorted(p for p in _parameters(cls) if p not in _FROM_HPOSIM)}")
        args = self._scheduler_args
        if not isinstance(args, dict):
            raise MethodError(f"scheduler_args must be a mapping of argument names to values, got {args!r}")
        reserved = sorted(k for k in args if k in _FROM_HPOSIM or k in explicit)
        if reserved:
            raise MethodError(
                f"scheduler_args {reserved} are set by hposim, not in scheduler_args: the metric(s) and mode(s) are "
                f"the run's (metric=/mode=; --metric/--mode; a benchmark's metric:/mode:, objectives of the "
                f"blackbox), the space is the blackbox's, random_seed the run's seed; grace_period, "
                f"reduction_factor, brackets and max_t are arguments of their own")
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in _parameters(cls).values()):
            check_keywords(f"Syne Tune scheduler {name}", args,
                           [p for p in _parameters(cls) if p not in _FROM_HPOSIM])
        return cls

    def _setup(self, config_space: Any, *, metric: Any, mode: Any, fidelity_values: Any, seed: int,
               candidates: Any) -> None:
        Scheduler.__init__(self, config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                           seed=seed, candidates=candidates)
        from syne_tune.optimizer.scheduler import TrialScheduler

        several = len(self.metrics) > 1
        # Syne Tune 0.16 takes one do_minimize for every metric: with mixed modes it minimizes, and
        # the "max" metrics are passed negated
        self._do_minimize = self.modes[0] == "min" if len(set(self.modes)) == 1 else True
        self._negate = [m for m, md in zip(self.metrics, self.modes) if md == "max"] \
            if len(set(self.modes)) > 1 else []
        self._seed_stream = np.random.default_rng([int(self.seed), 0x5EED])
        self._seeds: list[int] = []
        if isinstance(self._spec, TrialScheduler):
            self.scheduler = self._spec
            self._check_instance(self.scheduler)
        else:
            name = self._spec
            if several and name not in MULTI_OBJECTIVE:
                raise MethodError(
                    f"Syne Tune scheduler {name} optimizes one metric, got {len(self.metrics)}: {self.metrics}; "
                    f"give one metric, or use a multi-objective Syne Tune scheduler: {list(MULTI_OBJECTIVE)}")
            if not several and name in MULTI_OBJECTIVE:
                raise MethodError(
                    f"Syne Tune scheduler {name} is multi-objective: it needs at least two metrics with one mode "
                    f"each (e.g. metric=['val_acc', 'latency'], mode=['max', 'min']), got {self.metrics}; for "
                    f"one metric use another Syne Tune scheduler (e.g. ASHA, RandomSearch)")
            with _syne_tune_log_at(logging.ERROR):     # e.g. ASHA warns about points_to_evaluate on every build
                self.scheduler = self._call(self._build, name)
        self.resource_attr = (self._resource_attr or getattr(self.scheduler, "time_attr", None)
                              or getattr(self.scheduler, "resource_attr", None) or RESOURCE_ATTR)
        self._matcher = None if self.candidates is None else CandidateMatcher(self.config_space, self.candidates)
        self._names = self.config_space.names
        #: numeric ranges proposals are clipped into (name, lower, upper)
        self._ranges = [(n, d.lower, d.upper) for n, d in self.config_space.items() if isinstance(d, (Float, Integer))]
        self._time = 0.0
        self._trials: dict[int, Any] = {}        # hposim trial id -> Syne Tune Trial
        self._last: dict[int, dict] = {}         # hposim trial id -> last result
        self._removed: set[int] = set()          # trials the scheduler stopped or paused (on_trial_remove)
        self.bound = True

    def _build(self, name: str) -> Any:
        fids = self.fidelity_values.tolist()
        several = len(self.metrics) > 1
        defaults = {"config_space": synetune_space(self.config_space),
                    "metric": self.metric if not several else self.metrics, "metrics": list(self.metrics),
                    "do_minimize": self._do_minimize, "random_seed": int(self.seed),
                    "time_attr": RESOURCE_ATTR, "max_t": fids[-1], "grace_period": fids[0]}
        defaults.update(self._named)
        return build(scheduler_classes(), name, self._scheduler_args, base=object, what="Syne Tune scheduler",
                     defaults=defaults, where="syne_tune.optimizer.baselines, and MOASHA")

    def _check_instance(self, st: Any) -> None:
        """A scheduler built by the user must optimize the run's metric(s), in the run's direction."""
        reads = st.metrics if isinstance(getattr(st, "metrics", None), (list, tuple)) else \
            [st.metric] if isinstance(getattr(st, "metric", None), str) else None
        if reads is not None and sorted(reads) != sorted(self.metrics):
            raise MethodError(
                f"the Syne Tune scheduler {type(st).__name__} optimizes {list(reads)}, but this run's metric(s) "
                f"are {self.metrics}: give the run the scheduler's metric(s) (metric=, --metric, a benchmark's "
                f"metric:), which must be objectives of the blackbox, or build the scheduler with "
                f"metric(s) {self.metrics}")
        minimize = getattr(st, "do_minimize", None)
        if isinstance(minimize, bool) and minimize != self._do_minimize:
            want = "min" if minimize else "max"
            raise MethodError(
                f"the Syne Tune scheduler {type(st).__name__} has do_minimize={minimize}, but this run's mode is "
                f"{self.mode!r}: give the run mode={want!r} (--mode {want}), or build the scheduler with "
                f"do_minimize={not minimize}")

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` after seeding numpy's global generator from this scheduler's stream."""
        if not self._seeds:
            self._seeds = self._seed_stream.integers(2**32, size=1024).tolist()
        np.random.seed(self._seeds.pop())
        return fn(*args)

    # ------------------------------------------------------------------ the protocol
    def suggest(self, time: float) -> Suggestion | None:
        if not self.bound:
            raise MethodError("this SyneTuneScheduler has no problem yet: simulate(blackbox, scheduler) binds it, "
                              "or give config_space and metric when building it")
        self._time = time
        if self._matcher is not None and self._matcher.exhausted:
            return None
        s = self._call(self.scheduler.suggest)
        if s is None:
            return None
        if not s.spawn_new_trial_id:
            return Suggestion.resume_trial(int(s.checkpoint_trial_id))
        if s.checkpoint_trial_id is not None:
            raise MethodError(f"the Syne Tune scheduler asked to start a trial from trial {s.checkpoint_trial_id}'s "
                              f"checkpoint (as PBT does); hposim's simulator cannot copy checkpoints")
        config = {name: _plain(s.config[name]) for name in self._names}
        for name, low, high in self._ranges:    # Syne Tune 0.16's BOHB can propose n_units=1 for [8, 64]
            value = config[name]
            if value < low or value > high:
                config[name] = type(value)(min(max(value, low), high))
        if self._matcher is not None:
            config = self._matcher.take(config)
        return Suggestion(config=config, max_fidelity=self.max_fidelity)

    def on_start(self, trial: Trial) -> None:
        st = self._st_trial(trial_id=trial.trial_id, config=dict(trial.config),
                            creation_time=_EPOCH + datetime.timedelta(seconds=self._time))
        self._trials[trial.trial_id] = st
        self._call(self.scheduler.on_trial_add, st)

    def on_discard(self, suggestion: Suggestion) -> None:
        if self._matcher is not None and suggestion.config is not None:
            self._matcher.release(suggestion.config)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        for name in self.metrics:
            value = metrics.get(name, math.nan)
            if value != value:
                return Decision.STOP
        result = dict(metrics)
        for name in self._negate:               # mixed modes: Syne Tune minimizes every metric
            result[name] = -result[name]
        result[self.resource_attr] = fidelity
        tid = trial.trial_id
        self._last[tid] = result
        self._removed.discard(tid)
        st = self._trials[tid]
        answer = self._call(self.scheduler.on_trial_result, st, result)
        decision = _DECISIONS.get(answer)
        if decision is None:
            raise MethodError(f"the Syne Tune scheduler answered {answer!r} to a result; expected one of "
                              f"{sorted(_DECISIONS)}")
        if decision is not Decision.CONTINUE:
            self._removed.add(tid)
            self._call(self.scheduler.on_trial_remove, st)
        return decision

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        tid = trial.trial_id
        st = self._trials.pop(tid, None)
        last = self._last.pop(tid, None)
        removed = tid in self._removed
        self._removed.discard(tid)
        if st is None:
            return
        if status is TrialStatus.FAILED:
            # Syne Tune logs a warning per failed trial; the results table records every failure
            with _syne_tune_log_at(logging.ERROR):
                self._call(self.scheduler.on_trial_error, st)
        elif status is TrialStatus.COMPLETED and not removed and last is not None:
            self._call(self.scheduler.on_trial_complete, st, last)
