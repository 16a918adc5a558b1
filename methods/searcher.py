"""The searcher protocol: *what* to try next (schedulers decide *when* to stop, pause or promote).

A ``Searcher`` is created with its own arguments only (``TPESearcher(gamma=0.15)``) and bound
to a scheduler's space, metric, mode, random stream and candidates by ``bind`` -- the scheduler
does that, once (a searcher instance serves one scheduler). Then:

- ``suggest(pending) -> config | None``: the method's choice; ``pending`` are the
  configurations running or handed out and not started (so that four workers asking at once
  get four different points). ``None``: nothing left to try.
- ``observe(trial, fidelity, metrics)``: a report the scheduler saw.
- ``on_start(trial)``, ``on_discard(config)``, ``on_end(trial, status)``: the life cycle;
  ``on_pause(trial)`` / ``on_resume(trial_id)`` from pause-and-resume schedulers (a paused
  trial is not pending).

The base class keeps the ``History`` (observations per fidelity, pending trials, best) from
these calls, turns metrics into scores where lower is better (so models always minimize),
and provides what every searcher needs: seeded random configurations (``random_config``,
from ``methods.sampling.ConfigSampler``, never one already handed out), a pool of unused
candidates when the method is restricted to a table's rows (``candidate_pool``), a one-
hyperparameter mutation (``mutate``), and the model features (``encoder``, the configuration
space's public ``FeatureEncoder``). Schedulers call ``next_config()``, which asks ``suggest``
and records the answer as pending.

``SEARCHERS`` maps names to classes (a plain dict, aliases included); ``make_searcher(name or
instance, **arguments)`` builds one with its arguments checked, and ``attach_searcher`` is what
a scheduler's constructor calls.

Example:
    >>> import numpy as np
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> from methods.base import Trial, TrialStatus
    >>> s = make_searcher("random")
    >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
    ...        rng=np.random.default_rng(0))
    >>> config = s.next_config()
    >>> 0 <= config["x"] <= 1
    True
"""
from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping, Sequence, cast

import numpy as np

from blackbox_repo.configspace import Constant, ConfigurationSpace, FeatureEncoder, values_getter
from methods.arguments import check_bool, check_keywords
from methods.base import MethodError, Trial, TrialStatus, score_vector
from methods.history import History
from methods.sampling import ConfigSampler

__all__ = ["Searcher", "RandomSearcher", "SEARCHERS", "register_searcher", "make_searcher",
           "attach_searcher", "searcher_arguments"]

#: searcher name (lower case) -> class; aliases are extra keys
SEARCHERS: dict[str, type["Searcher"]] = {}


def register_searcher(*names: str):
    """Class decorator adding a searcher to ``SEARCHERS`` under ``names`` (lower case)."""

    def deco(cls: type[Searcher]) -> type[Searcher]:
        for name in names:
            key = name.lower()
            if key in SEARCHERS and SEARCHERS[key] is not cls:
                raise MethodError(f"searcher name {name!r} is already registered by {SEARCHERS[key]!r}")
            SEARCHERS[key] = cls
        cls.names = tuple(n.lower() for n in names)
        return cls

    return deco


class Searcher(ABC):
    """Base class of searchers: decides what to try; keeps the ``History``.

    Subclasses implement ``suggest(pending)`` and may override ``setup()`` (checks against the
    bound space; raise ``MethodError`` for a space the method cannot handle) and ``upcoming()``.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> class First(Searcher):
        ...     def suggest(self, pending):
        ...         return self.random_config()
        >>> s = First()
        >>> s.bind(ConfigurationSpace({"a": choice([1, 2])}), metric="err", mode="min",
        ...        rng=np.random.default_rng(0))
        >>> sorted(s.next_config()["a"] for _ in range(2)), s.next_config()
        ([1, 2], None)
    """

    #: registered names (set by ``register_searcher``)
    names: ClassVar[tuple[str, ...]] = ()
    #: the paper the searcher follows, for ``hposim methods``
    paper: ClassVar[str] = ""
    #: False for searchers that ignore observations: schedulers then skip ``observe`` calls
    uses_observations: ClassVar[bool] = True
    #: True for searchers that model features (then ``encoder`` and history rows are set up)
    needs_features: ClassVar[bool] = False
    #: True for searchers that rank several metrics at once (``score_vector``); a searcher that
    #: uses observations and is not multi-objective cannot serve a multi-objective scheduler
    multi_objective: ClassVar[bool] = False
    #: set by ``bind``: the feature encoder (``needs_features`` only) and the candidate rows
    encoder: FeatureEncoder | None
    candidates: list[dict] | None
    #: set by ``bind``: the scheduler's objective (lists for a multi-objective one)
    metric: Any
    mode: Any

    def __init__(self, *, allow_duplicates: bool = False):
        self.allow_duplicates = check_bool("allow_duplicates", allow_duplicates)
        self._bound = False

    # ------------------------------------------------------------------ binding
    def bind(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str], mode: str | Sequence[str],
             rng: np.random.Generator, candidates: Sequence[Mapping[str, Any]] | None = None,
             fidelity_values: Sequence[Any] | np.ndarray | None = None) -> None:
        """Set the searcher up for one scheduler (called once, by the scheduler)."""
        if self._bound:
            raise MethodError(f"this {type(self).__name__} is already used by a scheduler; create one "
                              f"searcher per scheduler")
        several = isinstance(metric, (list, tuple))
        modes = list(mode) if isinstance(mode, (list, tuple)) else [mode]
        if not modes or any(m not in ("min", "max") for m in modes):
            raise MethodError(f"mode {mode!r} is not valid; allowed: 'min' or 'max' (one per metric)")
        if several and self.uses_observations and not self.multi_objective:
            mo = sorted(k for k, c in SEARCHERS.items() if c.multi_objective or not c.uses_observations)
            raise MethodError(f"searcher {type(self).__name__} ranks one metric; with several metrics "
                              f"{list(metric)} use a multi-objective searcher: {mo}")
        self._bound = True
        self.config_space = config_space
        self.metric = metric
        self.mode = mode
        self.sign = 1.0 if modes[0] == "min" else -1.0
        #: the metrics as a list and their signs (+1 "min", -1 "max"), also for one metric
        self.metrics = cast("list[str]", list(metric) if several else [metric])
        self.signs = np.array([1.0 if m == "min" else -1.0 for m in modes])
        self._metric0 = self.metrics[0]
        self.rng = rng
        self.candidates = None if candidates is None else cast("list[dict]", list(candidates))
        self.fidelity_values = None if fidelity_values is None else list(np.asarray(fidelity_values).tolist())
        self.max_fidelity = None if self.fidelity_values is None else self.fidelity_values[-1]
        self.sampler = ConfigSampler(config_space, rng, self.candidates, self.allow_duplicates)
        self.encoder = FeatureEncoder(config_space) if self.needs_features else None
        self.history = History(features=self.encoder.encode_one if self.encoder is not None else None)
        self._key = values_getter(list(config_space))
        self._used: set[tuple] = set()
        self._pool: np.ndarray | None = None     # unused candidate indices (lazily built)
        self._candidate_X: np.ndarray | None = None   # candidates' features (lazily encoded)
        self._candidate_index: dict[tuple, int] | None = None
        #: hyperparameters with more than one value (what ``mutate`` may change)
        self._mutable = [n for n, d in config_space.items() if not isinstance(d, Constant)
                         and not (isinstance(getattr(d, "values", None), list) and len(d.values or ()) < 2)]
        self.setup()

    def setup(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Checks and set-up once bound (default: nothing). Raise ``MethodError`` when the
        space does not suit the method."""

    # ------------------------------------------------------------------ protocol
    @abstractmethod
    def suggest(self, pending: Sequence[dict]) -> dict | None:
        """The next configuration to try, or ``None`` when nothing is left."""

    def observe(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float]) -> None:
        """A report of ``trial`` at ``fidelity``: recorded in the history as a score (of the
        first metric, for a multi-objective searcher)."""
        v = metrics.get(self._metric0)
        self.history.observe(trial, fidelity, float("nan") if v is None else self.sign * float(v))

    def on_start(self, trial: Trial) -> None:
        """The configuration handed out last started as ``trial``."""
        self.history.start(trial)

    def on_discard(self, config: Mapping[str, Any]) -> None:
        """A handed-out configuration will never start (the run stopped first)."""
        self.history.discard(config)
        if not self.allow_duplicates:
            self._used.discard(self._key(config))

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        """``trial`` completed, was stopped or failed."""
        self.history.end(trial, status)

    def on_pause(self, trial: Trial) -> None:
        """The scheduler paused ``trial`` at a rung: not pending until it resumes."""
        self.history.pause(trial)

    def on_resume(self, trial_id: int) -> None:
        """The scheduler resumed the paused trial ``trial_id``: pending again."""
        self.history.resume(trial_id)

    def upcoming(self) -> Sequence[dict]:
        """Configurations ``next_config`` will return next, if known in advance (default: none)."""
        return ()

    # ------------------------------------------------------------------ for schedulers
    def next_config(self) -> dict | None:
        """``suggest`` with the pending configurations, the answer recorded as pending."""
        config = self.suggest(self.history.pending_configs())
        if config is not None:
            self.history.suggested(config)
            if not self.allow_duplicates:
                self._used.add(self._key(config))
        return config

    @property
    def exhausted(self) -> bool:
        """True once no new configuration can be drawn."""
        if self.sampler.exhausted:
            return True
        if self.allow_duplicates:
            return False
        size = len(self.candidates) if self.candidates is not None else self.config_space.size
        return len(self._used) >= size

    # ------------------------------------------------------------------ helpers for subclasses
    def score(self, metrics: Mapping[str, float]) -> float:
        """The metric as a score, lower is better (NaN when missing; the first metric for a
        multi-objective searcher, see ``score_vector``)."""
        v = metrics.get(self._metric0)
        return float("nan") if v is None else self.sign * float(v)

    def score_vector(self, metrics: Mapping[str, float]) -> np.ndarray:
        """``self.metrics`` as a vector where lower is better in every entry; NaN or missing
        entries are +inf (``methods.base.score_vector``)."""
        return score_vector(metrics, self.metrics, self.signs)

    def is_used(self, config: Mapping[str, Any]) -> bool:
        """True if ``config`` was handed out before (always False with duplicates allowed)."""
        return not self.allow_duplicates and self._key(config) in self._used

    def random_config(self) -> dict | None:
        """A seeded random configuration not handed out before, or ``None`` when none is left."""
        while True:
            config = self.sampler.next()
            if config is None or not self.is_used(config):
                return config

    def _candidate_key_index(self) -> dict[tuple, int]:
        if self._candidate_index is None:
            key = self._key
            self._candidate_index = {key(c): i for i, c in enumerate(self.candidates or ())}
        return self._candidate_index

    def candidate_index(self, config: Mapping[str, Any]) -> int | None:
        """Row of ``config`` among the candidates, or None (no candidates, or not one of them)."""
        if self.candidates is None:
            return None
        return self._candidate_key_index().get(self._key(config))

    def candidate_pool(self, size: int) -> list[dict]:
        """Up to ``size`` distinct unused candidates, a seeded random subset (all when fewer);
        requires ``candidates``."""
        rows = self.candidate_pool_indices(size)
        assert self.candidates is not None             # candidate_pool_indices checked it
        return [self.candidates[i] for i in rows]

    def candidate_pool_indices(self, size: int) -> list[int]:
        """The rows of ``candidate_pool(size)`` among the candidates."""
        if self.candidates is None:
            raise MethodError("candidate_pool needs candidates")
        if self.allow_duplicates:
            n = len(self.candidates)
            return self.rng.choice(n, size=min(size, n), replace=False).tolist()
        if self._pool is None:
            index = self._candidate_key_index()
            used = [index[k] for k in self._used if k in index]
            keep = np.ones(len(self.candidates), dtype=bool)
            keep[used] = False
            self._pool = np.flatnonzero(keep)
            self._pool_n = len(self._pool)
        # drop what was handed out since the last call (swap-remove from the live prefix)
        pool, n = self._pool, self._pool_n
        if n and size < n:
            picks = self.rng.choice(n, size=min(n, size * 2 + 8), replace=False)
        else:
            picks = np.arange(n)
        out = []
        for p in picks.tolist():
            row = int(pool[p])
            if not self.is_used(self.candidates[row]):
                out.append(row)
                if len(out) >= size:
                    break
        self._compact_pool()
        return out

    def candidate_features(self) -> np.ndarray:
        """The model features of every candidate row, encoded once (needs candidates and
        ``needs_features``)."""
        if self._candidate_X is None:
            if self.encoder is None or self.candidates is None:
                raise MethodError("candidate_features needs candidates and a searcher with needs_features")
            self._candidate_X = self.encoder.encode(self.candidates)
        return self._candidate_X

    def pending_rows(self, pending: Sequence[dict], fidelity: Any) -> np.ndarray | None:
        """Feature rows of the pending configurations without an observation at ``fidelity``
        (None when there are none). A running trial of a multi-fidelity scheduler (e.g. paused
        by ASHA after its report at ``fidelity``) is in the model's data already, so it is not
        pending for a model of that fidelity (a paused one is not pending at all); started trials'
        rows come from the history,
        configurations not started yet are encoded."""
        if not pending:
            return None
        at = self.history.scores.get(fidelity, {})
        trial_of = {id(c): t for t, c in self.history.active.items()}
        started, waiting = [], []
        for c in pending:
            t = trial_of.get(id(c))
            if t is None:
                waiting.append(c)
            elif t not in at:
                started.append(t)
        parts = ([self.history.rows(started)] if started else []) + \
                ([self._encoder().encode(waiting)] if waiting else [])
        return np.vstack(parts) if parts else None

    def _encoder(self) -> FeatureEncoder:
        if self.encoder is None:
            raise MethodError(f"{type(self).__name__} has no feature encoder: set needs_features = True")
        return self.encoder

    def _compact_pool(self) -> None:
        """Remove used candidates from the pool once they make up half of it."""
        pool, n = self._pool, self._pool_n
        assert pool is not None and self.candidates is not None     # built by candidate_pool_indices
        index = self._candidate_key_index()
        used_in_pool = sum(1 for k in self._used if k in index)
        if used_in_pool * 2 < n or not self._used:
            return
        keep = [i for i in pool[:n].tolist() if not self.is_used(self.candidates[i])]
        self._pool = np.asarray(keep, dtype=np.int64)
        self._pool_n = len(keep)

    def mutate(self, config: Mapping[str, Any]) -> dict:
        """A copy of ``config`` with one non-constant hyperparameter drawn anew (different from
        its value when the domain allows); Syne Tune's and Real et al.'s mutation."""
        names = self._mutable
        if not names:
            return dict(config)
        name = names[int(self.rng.integers(len(names)))]
        domain = self.config_space[name]
        new = dict(config)
        for _ in range(20):
            value = domain.sample(self.rng)
            if value != config[name]:
                break
        new[name] = value
        return new

    def __repr__(self) -> str:
        name = self.names[0] if self.names else type(self).__name__
        return f"<searcher {name!r}>"


@register_searcher("random")
class RandomSearcher(Searcher):
    """Configurations drawn uniformly at random (seeded), from the candidates when given.

    Observations are ignored, so schedulers do not pass them (``uses_observations = False``),
    and no history is kept: its cost per suggestion is a few microseconds.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> s = RandomSearcher()
        >>> s.bind(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", mode="min",
        ...        rng=np.random.default_rng(0))
        >>> first, ahead = s.next_config(), s.upcoming()
        >>> s.next_config() is ahead[0]
        True
    """

    paper = "Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization (JMLR)"
    uses_observations = False

    def suggest(self, pending: Sequence[dict]) -> dict | None:
        return self.sampler.next()

    def next_config(self) -> dict | None:
        return self.sampler.next()

    def on_start(self, trial: Trial) -> None:
        pass

    def on_discard(self, config: Mapping[str, Any]) -> None:
        pass

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        pass

    def on_pause(self, trial: Trial) -> None:
        pass

    def on_resume(self, trial_id: int) -> None:
        pass

    def upcoming(self) -> Sequence[dict]:
        return self.sampler.peek()


def searcher_arguments(cls: type[Searcher]) -> dict[str, Any]:
    """Keyword arguments of a searcher class with their defaults."""
    params = inspect.signature(cls.__init__).parameters
    return {p.name: p.default for p in params.values()
            if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def make_searcher(searcher: str | Searcher, **arguments: Any) -> Searcher:
    """A searcher from its registered name (case-insensitive) and arguments, or the instance
    itself (then ``arguments`` must be empty)."""
    if isinstance(searcher, Searcher):
        if arguments:
            raise MethodError(f"searcher_args {sorted(arguments)} given with a searcher instance "
                              f"{searcher!r}; pass them to its constructor instead")
        return searcher
    if not isinstance(searcher, str):
        raise MethodError(f"searcher must be a searcher name or a Searcher instance, got {searcher!r}; "
                          f"names: {sorted(SEARCHERS)}")
    cls = SEARCHERS.get(searcher.lower())
    if cls is None:
        import difflib
        close = difflib.get_close_matches(searcher.lower(), list(SEARCHERS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MethodError(f"unknown searcher {searcher!r}; registered searchers: {sorted(SEARCHERS)}.{hint}")
    check_keywords(f"searcher {searcher!r}", arguments, searcher_arguments(cls))
    return cls(**arguments)


def attach_searcher(scheduler: Any, searcher: str | Searcher, searcher_args: Mapping[str, Any] | None,
                    **defaults: Any) -> Searcher:
    """Build (or take) the searcher of ``scheduler`` and bind it to the scheduler's space,
    metric, mode, random stream and candidates; ``defaults`` are searcher arguments the
    scheduler sets unless ``searcher_args`` does (ignored for an instance)."""
    if searcher_args is not None and not isinstance(searcher_args, Mapping):
        raise MethodError(f"searcher_args must be a mapping of argument -> value, got {searcher_args!r}")
    args = dict(searcher_args or {})
    if not isinstance(searcher, Searcher):
        for k, v in defaults.items():
            args.setdefault(k, v)
    s = make_searcher(searcher, **args)
    s.bind(scheduler.config_space, metric=scheduler.metric, mode=scheduler.mode, rng=scheduler.rng,
           candidates=scheduler.candidates, fidelity_values=scheduler.fidelity_values)
    scheduler.searcher = s
    return s
