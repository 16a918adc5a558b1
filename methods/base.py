"""The scheduler protocol: three calls, all seeded.

- ``suggest(time) -> Suggestion | None``: start a configuration (and the fidelity to run
  to) or resume a paused trial; ``None`` means "nothing now" (the worker stays idle until
  the next event).
- ``on_report(trial, fidelity, metrics, time) -> Decision``: continue, pause or stop.
- ``on_end(trial, status)``: the trial completed, was stopped, or failed.

A scheduler sees configurations and metric reports only; it knows nothing of blackboxes
or simulated time, so the same scheduler could drive real training.

Example:
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> from methods import create
    >>> rs = create("RandomSearch", ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
    ...             mode="min", fidelity_values=[1, 2, 3], seed=0)
    >>> s = rs.suggest(0.0)
    >>> s.config is not None and s.max_fidelity == 3
    True
"""
from __future__ import annotations

import enum
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Sequence, cast

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_seed
from methods.errors import MethodError

__all__ = ["Decision", "TrialStatus", "Trial", "Suggestion", "Scheduler", "MethodError", "parse_objectives"]


def _split(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(p, str) for p in value):
        parts = [p.strip() for p in value]
    else:
        raise MethodError(f"{what} must be a name, a comma-separated string or a list of names, got {value!r}")
    if not parts or any(not p for p in parts):
        raise MethodError(f"{what} {value!r} has an empty name; give e.g. 'loss' or 'val_acc,latency'")
    return parts


def parse_objectives(metric: Any, mode: Any = "min") -> tuple[list[str], list[str]]:
    """``(metrics, modes)`` as two lists of equal length from a metric and a mode.

    ``metric`` is a name, a comma-separated string (``"val_acc,latency"``) or a list of names;
    ``mode`` likewise, each ``"min"`` or ``"max"``. A single mode given as a plain string
    (``"min"``, no comma) applies to every metric (as in Syne Tune); otherwise there must be
    exactly one mode per metric. Metric names must be distinct.

    Example:
        >>> parse_objectives("val_acc,latency", "max,min")
        (['val_acc', 'latency'], ['max', 'min'])
        >>> parse_objectives(["a", "b"], "min")
        (['a', 'b'], ['min', 'min'])
        >>> parse_objectives("a,b", ["max", "min", "min"])
        Traceback (most recent call last):
        ...
        methods.errors.MethodError: 2 metrics ['a', 'b'] but 3 modes ['max', 'min', 'min']; give one mode per metric (or one mode for all)
    """
    metrics = _split(metric, "metric")
    modes = _split(mode, "mode")
    bad = [m for m in modes if m not in ("min", "max")]
    if bad:
        raise MethodError(f"mode {bad[0]!r} is not valid; allowed: 'min' or 'max' (one per metric)")
    if len(set(metrics)) != len(metrics):
        raise MethodError(f"metrics {metrics} name an objective twice; give each objective once")
    if len(modes) == 1 and isinstance(mode, str) and len(metrics) > 1:
        modes = modes * len(metrics)
    if len(modes) != len(metrics):
        raise MethodError(f"{len(metrics)} metric{'s' if len(metrics) > 1 else ''} {metrics} but {len(modes)} "
                          f"mode{'s' if len(modes) > 1 else ''} {modes}; give one mode per metric (or one mode for all)")
    return metrics, modes


class Decision(str, enum.Enum):
    """A scheduler's answer to a report.

    Example:
        >>> Decision("pause") is Decision.PAUSE, Decision.STOP == "stop"
        (True, True)
    """

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"


class TrialStatus(str, enum.Enum):
    """How a trial ended (passed to ``on_end``).

    Example:
        >>> [status.value for status in TrialStatus]
        ['completed', 'stopped', 'failed']
    """

    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(eq=False)
class Trial:
    """A trial as a scheduler sees it: an id and a configuration.

    ``trial_id`` counts from 0 in the order trials were started. ``config`` is a dict of
    hyperparameter values. ``meta`` is whatever the scheduler attached to its suggestion
    (e.g. a bracket index), handed back unchanged.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> from methods import create
        >>> rs = create("RandomSearch", ConfigurationSpace({"x": uniform(0, 1)}), metric="loss")
        >>> trial = Trial(trial_id=0, config={"x": 0.5}, meta={"bracket": 0})
        >>> rs.on_report(trial, fidelity=1, metrics={"loss": 0.3}, time=10.0)
        <Decision.CONTINUE: 'continue'>
    """

    trial_id: int
    config: dict
    meta: Any = None


@dataclass(frozen=True)
class Suggestion:
    """What to run next on a free worker.

    Either a new ``config`` or ``resume`` = the id of a paused trial, and ``max_fidelity``,
    the fidelity to run to (``None``: the largest). Reaching ``max_fidelity`` below the
    largest fidelity pauses the trial after its report there.

    Example:
        >>> Suggestion.start({"x": 0.5}, max_fidelity=9).max_fidelity
        9
        >>> Suggestion.resume_trial(3).resume
        3
    """

    config: dict | None = None
    resume: int | None = None
    max_fidelity: Any = None
    meta: Any = None

    def __post_init__(self) -> None:
        if (self.config is None) == (self.resume is None):
            raise MethodError("a Suggestion needs exactly one of config= (start) or resume= (resume)")

    @classmethod
    def start(cls, config: Mapping[str, Any], max_fidelity: Any = None, meta: Any = None) -> "Suggestion":
        return cls(config=dict(config), max_fidelity=max_fidelity, meta=meta)

    @classmethod
    def resume_trial(cls, trial_id: int, max_fidelity: Any = None) -> "Suggestion":
        return cls(resume=int(trial_id), max_fidelity=max_fidelity)


class Scheduler(ABC):
    """Base class of every method: stores the common parameters and validates them.

    Subclasses implement ``suggest``, ``on_report`` and, when they care, ``on_end``.
    ``candidates`` (optional) restricts the method to a finite list of configurations,
    e.g. the rows of a tabulated blackbox whose space is continuous. The dicts are not
    copied (a table's rows are shared by every run): a method must not change them.
    ``report_levels`` tells the simulator at which fidelities the scheduler must see
    reports (``None``: every level); every other report is recorded without a call.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> class StopBad(Scheduler):
        ...     def suggest(self, time):
        ...         return Suggestion.start(self.config_space.sample(self.rng), self.max_fidelity)
        ...     def on_report(self, trial, fidelity, metrics, time):
        ...         return Decision.STOP if self.score(metrics) > 0.5 else Decision.CONTINUE
        >>> s = StopBad(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", fidelity_values=[1, 3, 9])
        >>> s.suggest(0.0).max_fidelity, s.on_report(Trial(0, {"x": 0.2}), 1, {"loss": 0.8}, 5.0)
        (9, <Decision.STOP: 'stop'>)
    """

    #: accepted keyword arguments besides the common ones (for error messages)
    arguments: tuple[str, ...] = ()
    #: True for methods that optimize several metrics at once: they take ``metric`` as a list
    #: (or ``"a,b"``) with one ``mode`` per metric, and ``self.metric``/``self.mode`` are lists;
    #: None for a method that takes either (e.g. an adapter whose wrapped optimizer decides):
    #: lists when given several metrics, a name and a mode when given one
    multi_objective: bool | None = False
    #: the paper the method follows, for ``hposim methods``
    paper: str = ""
    #: the ``methods.searcher.Searcher`` choosing new configurations, for methods that use one
    searcher: Any = None
    #: the objective: a name and "min"/"max", or lists of them for a multi-objective method
    #: (``metrics`` and ``modes`` are always lists)
    metric: Any
    mode: Any

    @property
    def blas_threads(self) -> int | None:
        """BLAS threads a driver should allow while this scheduler runs (``None``: no limit).
        Model-based searchers do many small matrix products, which OpenBLAS slows down by
        spreading them over threads (measured: 2-20x slower on 2 shared cores), so 1 for them."""
        return 1 if self.searcher is not None and self.searcher.needs_features else None

    #: False for a scheduler built without its problem -- e.g. ``OptunaScheduler(sampler)``: no
    #: space, metric or fidelities yet. Such a scheduler is set up by ``bind`` before it runs;
    #: ``simulator.simulate`` binds it to the blackbox it runs on (``simulator.bind_scheduler``).
    bound: bool = True

    def bind(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
             mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
             candidates: Sequence[Mapping[str, Any]] | None = None) -> None:
        """Set up an unbound scheduler (``bound`` False) for its problem; the arguments are the
        common ones of ``__init__``. A class that can be built without its problem overrides this;
        every other scheduler is built with its problem and refuses to be bound again.

        Example:
            >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
            >>> from methods import create
            >>> rs = create("RandomSearch", ConfigurationSpace({"x": uniform(0, 1)}), metric="loss")
            >>> rs.bound
            True
            >>> rs.bind(rs.config_space, metric="loss")    # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            methods.errors.MethodError: RandomSearch was built with its problem (space, metric, fidelities)...
        """
        raise MethodError(f"{type(self).__name__} was built with its problem (space, metric, fidelities); it "
                          f"cannot be bound to another one: build a new scheduler (simulator.make_scheduler)")

    #: True: the simulator passes the reports between two observed levels to
    #: ``on_skipped_reports`` in one batch before each ``on_report`` (whole learning curves)
    wants_skipped_reports: bool = False

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
                 mode: str | Sequence[str] = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None):
        if not isinstance(config_space, ConfigurationSpace):
            config_space = ConfigurationSpace(config_space)
        if isinstance(mode, str) and "," not in mode and mode not in ("min", "max"):
            raise MethodError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'")
        if isinstance(metric, str) and isinstance(mode, str) and metric and "," not in metric + mode:
            metrics, modes = [metric], [mode]
        else:
            if not metric:
                raise MethodError(f"metric must be a non-empty objective name, got {metric!r}")
            metrics, modes = parse_objectives(metric, mode)
        check_objective_count(type(self).__name__, self.multi_objective, metrics)
        several = bool(self.multi_objective) or (self.multi_objective is None and len(metrics) > 1)
        self.config_space = config_space
        #: the objectives as lists (one entry for a single-objective method)
        self.metrics, self.modes = metrics, modes
        #: a name and "min"/"max"; lists for a multi-objective method
        self.metric = list(metrics) if several else metrics[0]
        self.mode = list(modes) if several else modes[0]
        mode = modes[0]
        self.fidelity_values = np.asarray(fidelity_values if fidelity_values is not None else [1])
        if self.fidelity_values.ndim != 1 or len(self.fidelity_values) == 0:
            raise MethodError(f"fidelity_values must be a non-empty 1-D sequence, got {fidelity_values!r}")
        if len(self.fidelity_values) > 1 and np.any(np.diff(self.fidelity_values) <= 0):
            raise MethodError(f"fidelity_values must be strictly increasing, got {self.fidelity_values}")
        self.max_fidelity = self.fidelity_values[-1].item()
        self.min_fidelity = self.fidelity_values[0].item()
        if seed is not None:
            seed = check_seed("seed", seed)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        #: the finite set of configurations to choose from (e.g. a table's rows), or None
        #: for the whole space; methods that sample must sample from it when it is given.
        self.candidates: list[dict] | None = None if candidates is None else cast("list[dict]", list(candidates))
        if self.candidates is not None and not self.candidates:
            raise MethodError("candidates is empty: give at least one configuration, or None for the whole space")
        self._sign = 1.0 if mode == "min" else -1.0
        self._signs = np.array([1.0 if m == "min" else -1.0 for m in modes])

    # the protocol ----------------------------------------------------------------
    @abstractmethod
    def suggest(self, time: float) -> Suggestion | None:
        """Work for a free worker, or ``None`` for "nothing now"."""

    @abstractmethod
    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        """Continue, pause or stop ``trial`` after it reported ``metrics`` at ``fidelity``."""

    def on_start(self, trial: Trial) -> None:
        """The last suggestion (a new configuration) started as ``trial``. Default: the
        searcher, if any, learns it (it is pending from then on until ``on_end``)."""
        if self.searcher is not None:
            self.searcher.on_start(trial)

    def on_discard(self, suggestion: Suggestion) -> None:
        """The last suggestion will never run (e.g. the trial budget was used up first).
        Default: the searcher, if any, forgets it as pending."""
        if self.searcher is not None and suggestion.config is not None:
            self.searcher.on_discard(suggestion.config)

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        """``trial`` completed, was stopped or failed. Default: the searcher, if any, learns it."""
        if self.searcher is not None:
            self.searcher.on_end(trial, status)

    def on_skipped_reports(self, trial: Trial, fidelities: Sequence[Any],
                           metrics: Mapping[str, np.ndarray]) -> None:
        """The reports of ``trial`` at ``fidelities`` that were not passed to ``on_report``
        (objective -> values, one per fidelity), in one batch; called only when
        ``wants_skipped_reports`` is True. Default: each goes to the searcher's ``observe``."""
        if self.searcher is not None:
            observe = self.searcher.observe
            names = list(metrics)
            columns = [np.asarray(metrics[n]).tolist() for n in names]
            for j, fidelity in enumerate(fidelities):
                observe(trial, fidelity, {n: col[j] for n, col in zip(names, columns)})

    def report_levels(self) -> Sequence[Any] | None:
        """Fidelities at which this scheduler must see reports (``None``: all)."""
        return None

    def upcoming_configs(self) -> Sequence[dict]:
        """Configurations this scheduler has already drawn and will suggest next, in order,
        if it knows them (default: none): the very dicts ``suggest`` will return, not to be
        modified in between. Optional: a simulator may hand them to the blackbox to compute
        their curves in one batch; asking never changes what is drawn."""
        return ()

    # helpers ---------------------------------------------------------------------
    def score(self, metrics: Mapping[str, float]) -> float:
        """The metric turned into "lower is better"; NaN or missing is +inf."""
        v = metrics.get(self.metric, math.nan)
        v = float(v)
        return math.inf if math.isnan(v) else self._sign * v

    def score_vector(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The metrics (``self.metrics``, in order) turned into a vector where lower is better
        in every entry (a "max" metric is negated); NaN or missing entries are +inf.

        Example:
            >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
            >>> from methods import create
            >>> s = create("MORandomSearch", ConfigurationSpace({"x": uniform(0, 1)}),
            ...            metric="acc,latency", mode="max,min")
            >>> s.score_vector({"acc": 0.9, "latency": 3.0}).tolist()
            [-0.9, 3.0]
        """
        return score_vector(metrics, self.metrics, self._signs)

    def snap_fidelity(self, value: float) -> Any:
        """The smallest tabulated fidelity >= ``value`` (the largest if none)."""
        i = int(np.searchsorted(self.fidelity_values, value, side="left"))
        return self.fidelity_values[min(i, len(self.fidelity_values) - 1)].item()



def score_vector(metrics: Mapping[str, float], names: Sequence[str], signs: np.ndarray) -> np.ndarray:
    """``signs * metrics[names]`` as a float vector; NaN or missing entries are +inf.

    Example:
        >>> score_vector({"a": 1.0, "b": float("nan")}, ["a", "b"], np.array([-1.0, 1.0])).tolist()
        [-1.0, inf]
    """
    v = np.array([float(metrics.get(n, math.nan)) for n in names]) * signs
    v[np.isnan(v)] = math.inf
    return v


def check_objective_count(method: str, multi_objective: bool | None, metrics: Sequence[str],
                          alternatives: Sequence[str] = ()) -> None:
    """Raise ``MethodError`` unless a multi-objective method gets >= 2 metrics and a
    single-objective one exactly 1 (``multi_objective=None``: any number); ``alternatives``
    names methods that would fit.

    Example:
        >>> check_objective_count("ASHA", False, ["acc", "latency"])
        Traceback (most recent call last):
        ...
        methods.errors.MethodError: method 'ASHA' optimizes one metric, got 2: ['acc', 'latency']; give one metric, or use a multi-objective method
    """
    if multi_objective is None:
        return
    if multi_objective and len(metrics) < 2:
        hint = f" ({', '.join(alternatives)})" if alternatives else ""
        raise MethodError(
            f"method {method!r} is multi-objective: it needs at least two metrics with one mode each "
            f"(e.g. metric=['val_acc', 'latency'], mode=['max', 'min']), got {list(metrics)}; for one "
            f"metric use a single-objective method{hint}")
    if not multi_objective and len(metrics) != 1:
        hint = f" ({', '.join(alternatives)})" if alternatives else ""
        raise MethodError(f"method {method!r} optimizes one metric, got {len(metrics)}: {list(metrics)}; "
                          f"give one metric, or use a multi-objective method{hint}")
