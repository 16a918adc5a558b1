"""Regularized evolution (Real et al. 2019): tournament selection, one-hyperparameter mutation, aging.

The searcher keeps a *population*: the latest ``population_size`` observed trials, a FIFO queue
(the oldest member dies when a new one enters: "aging", the regularization of the paper).
While the population is not full, suggestions are random configurations (``random_config``:
the paper's initial population; Syne Tune's ``RegularizedEvolution`` also samples at random
while ``len(population) < population_size``, so with several workers a few more than
``population_size`` suggestions may be random). Once it is full, each suggestion draws
``sample_size`` members uniformly at random *with replacement* (as the paper's code and Syne
Tune do), takes the best of them (lowest score; the first drawn among equals) as the parent and
suggests ``mutate(parent)``: a copy with one non-constant hyperparameter drawn anew.

How observations enter the population:

- ``FIFO`` (``REA``): the scheduler observes each trial at the largest fidelity only, so a
  member is a finished trial with its final score -- exactly Syne Tune's ``REA``.
- multi-fidelity schedulers (``ASHA(searcher="rea")``): a trial enters at its first observation
  (its lowest rung) and keeps *one* member whose score is its latest observation: a trial
  promoted (or continuing) to a higher rung updates its member's score in place, without
  becoming younger, and a trial that has died (aged out) never re-enters. Syne Tune 0.13's
  ``RegularizedEvolution`` instead appends a new member for each rung-level report it is
  updated with, so a trial climbing three rungs holds three slots, two of them with stale
  low-fidelity scores, and the tournament favours it threefold; one member per trial keeps
  the population a set of distinct models with their best-informed scores, as in the paper.
- A report without the metric (or NaN) is not an observation; a trial that fails before its
  first observation never enters. One that fails later keeps the member of its earlier
  (valid) observation, as the ``History`` keeps those observations.

A child already handed out (``is_used``; pending configurations are handed out, hence used)
or, with ``candidates`` (a table's rows), not among the candidates is mutated anew from the
same parent, up to ``MUTATION_TRIES`` (10) mutations in all, then replaced by ``random_config()``;
``None`` once nothing is left. With ``allow_duplicates=True`` nothing is "used", but children equal to a
pending configuration are still avoided the same way, so that workers asking at once get
different points. A table whose rows have continuous values has (almost) no row one mutation
away from another: there REA falls back to random rows.

Cost: the population's scores are a numpy ring buffer; a suggestion is one ``integers`` draw,
one ``argmin`` over ``sample_size`` values and the mutation, independent of the population size.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence, cast

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_int
from methods.base import MethodError, Trial
from methods.fifo import FIFO
from methods.registry import register
from methods.searcher import Searcher, register_searcher

__all__ = ["REASearcher", "REA", "MUTATION_TRIES"]

#: mutations of one parent tried before a random configuration is taken instead (Syne Tune has
#: no such bound: it never checks a child against earlier suggestions or a table's rows)
MUTATION_TRIES = 10

PAPER = ("Real, Aggarwal, Huang & Le 2019, Regularized Evolution for Image Classifier Architecture "
         "Search (AAAI)")


@register_searcher("rea", "evolution")
class REASearcher(Searcher):
    """Regularized evolution: mutate the best of a random sample of the latest trials.

    Defaults follow Syne Tune 0.13.0's ``RegularizedEvolution`` searcher (module
    ``syne_tune.optimizer.schedulers.searchers.regularized_evolution``, used by
    ``baselines.REA``): ``population_size=100``, ``sample_size=10``; ``allow_duplicates=False``
    (this package's rule; Syne Tune's searcher ignores it and may repeat configurations).
    ``population`` shows the members, oldest first.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> from methods.base import Trial
        >>> s = REASearcher(population_size=3, sample_size=2)
        >>> s.bind(ConfigurationSpace({"a": choice(range(10)), "b": choice(range(10))}),
        ...        metric="loss", mode="min", rng=np.random.default_rng(0))
        >>> for i in range(4):                     # the first member dies when the fourth enters
        ...     trial = Trial(i, s.next_config()); s.on_start(trial)
        ...     s.observe(trial, 1, {"loss": float(i)})
        >>> [m[0] for m in s.population]
        [1, 2, 3]
        >>> child = s.next_config()
        >>> parents = [m[1] for m in s.population]
        >>> any(sum(child[k] != p[k] for k in "ab") == 1 for p in parents)
        True
    """

    paper = PAPER

    def __init__(self, *, population_size: int = 100, sample_size: int = 10, allow_duplicates: bool = False):
        super().__init__(allow_duplicates=allow_duplicates)
        self.population_size = check_int("population_size", population_size, low=1)
        self.sample_size = check_int("sample_size", sample_size, low=1)
        if self.sample_size > self.population_size:
            raise MethodError(f"sample_size ({self.sample_size}) must be <= population_size "
                              f"({self.population_size}): the parent is the best of sample_size "
                              f"members of the population")

    def setup(self) -> None:
        #: (name, domain) of the hyperparameters with at least two values, the ones mutated
        self._mutable_domains = [(n, d) for n, d in self.config_space.items()
                         if d.values is None or len(d.values) > 1]
        if not self._mutable_domains:
            raise MethodError(f"regularized evolution needs a hyperparameter with at least two values "
                              f"to mutate; every hyperparameter of {self.config_space!r} is constant")
        size = self.population_size
        self._scores = self.score_buffer(size)           # ring buffer of the members' scores
        self._configs: list[dict | None] = [None] * size
        self._owner = [-1] * size                        # trial id in each slot
        self._slot: dict[int, int] = {}                  # member trial id -> slot
        self._entered: set[int] = set()                  # every trial that ever entered
        self._n = 0                                      # members (<= population_size)
        self._head = 0                                   # next slot to write (the oldest when full)
        #: increases with every change of the members' scores (subclasses cache rankings on it)
        self.version = 0

    # ------------------------------------------------------------------ hooks (MOREA, NSGA2)
    def score_buffer(self, size: int) -> np.ndarray:
        """The members' scores storage: one float per slot (a vector per slot for subclasses)."""
        return np.empty(size, dtype=float)

    def member_score(self, metrics: Mapping[str, float]) -> Any:
        """What a report makes a member's score (lower is better), or None: not an observation."""
        score = self.score(metrics)
        return None if score != score else score

    def replaced_slot(self, score: Any) -> int | None:
        """The slot a new member takes when the population is full: the oldest (aging); None
        would keep the newcomer out. Advances the ring."""
        slot = self._head
        self._head = (slot + 1) % self.population_size
        return slot

    def select_parent(self, picks: np.ndarray) -> int:
        """The slot of the best member among the sampled slots ``picks`` (first among equals)."""
        return int(picks[int(np.argmin(self._scores[picks]))])

    def choose_parents(self) -> Any:
        """The parent(s) of the next children: the best of ``sample_size`` members drawn
        uniformly with replacement (tournament selection)."""
        picks = self.rng.integers(self._n, size=self.sample_size)
        return self._configs[self.select_parent(picks)]

    def breed(self, parents: Any) -> dict:
        """One child of ``parents`` (from ``choose_parents``): a one-hyperparameter mutation."""
        return self.mutate(parents)

    # ------------------------------------------------------------------ population
    def observe(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float]) -> None:
        """Record the report; the trial enters the population, or updates its member's score."""
        super().observe(trial, fidelity, metrics)
        score = self.member_score(metrics)
        if score is None:
            return
        tid = trial.trial_id
        slot = self._slot.get(tid)
        self.version += 1
        if slot is not None:
            self._scores[slot] = score
            return
        if tid in self._entered:                         # aged out: dead for good
            return
        self._entered.add(tid)
        if self._n == self.population_size:
            slot = self.replaced_slot(score)
            if slot is None:
                return
            del self._slot[self._owner[slot]]            # the oldest member dies (REA)
        else:
            slot = self._head
            self._n += 1
            self._head = (slot + 1) % self.population_size
        self._scores[slot] = score
        self._configs[slot] = trial.config
        self._owner[slot] = tid
        self._slot[tid] = slot

    @property
    def population(self) -> list[tuple[int, dict, float]]:
        """``(trial id, config, score)`` of the members, oldest first (score: lower is better)."""
        first = self._head if self._n == self.population_size else 0
        slots = [(first + k) % self.population_size for k in range(self._n)]
        return [(self._owner[i], cast(dict, self._configs[i]), self._score_of(i)) for i in slots]

    def _score_of(self, slot: int) -> Any:
        v = self._scores[slot]
        return float(v) if np.ndim(v) == 0 else v.tolist()

    # ------------------------------------------------------------------ suggestions
    def mutate(self, config: Mapping[str, Any]) -> dict:
        """A copy of ``config`` with one hyperparameter (uniformly among those with two values or
        more) drawn anew from its domain, redrawn up to 20 times until it differs from its value.
        The same mutation as the base class's (and Syne Tune's), with the mutable hyperparameters
        listed once in ``setup`` rather than at every call (and continuous domains included)."""
        rng = self.rng
        name, domain = self._mutable_domains[int(rng.integers(len(self._mutable_domains)))]
        old = config[name]
        for _ in range(20):
            value = domain.sample(rng)
            if value != old:
                break
        child = dict(config)
        child[name] = value
        return child

    def suggest(self, pending: Sequence[dict]) -> dict | None:
        if self._n < self.population_size:
            return self.random_config()
        parents = self.choose_parents()
        avoid = {self._key(c) for c in pending} if self.allow_duplicates and pending else None
        candidates = self.candidates
        for _ in range(MUTATION_TRIES):
            child = self.breed(parents)
            if candidates is not None:
                i = self.candidate_index(child)
                if i is None:
                    continue
                child = candidates[i]
            if self.is_used(child) or (avoid is not None and self._key(child) in avoid):
                continue
            return child
        return self.random_config()


@register("REA")
class REA(FIFO):
    """Regularized evolution: each trial to the largest fidelity, configurations from ``REASearcher``.

    Defaults follow Syne Tune 0.13.0's ``baselines.REA``: ``population_size=100``,
    ``sample_size=10``; ``allow_duplicates=False`` (this package's rule: a configuration is never
    suggested twice; Syne Tune's REA may suggest one twice, ``True`` comes closer to it).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> rea = REA(ConfigurationSpace({"a": choice(range(10)), "b": choice(range(10))}),
        ...           metric="loss", fidelity_values=[1, 9], population_size=20, sample_size=5)
        >>> s = rea.suggest(0.0)
        >>> s.max_fidelity, rea.searcher.population_size, rea.report_levels()
        (9, 20, [])
    """

    paper = PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, population_size: int = 100,
                 sample_size: int = 10, allow_duplicates: bool = False):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates,
                         searcher=REASearcher(population_size=population_size, sample_size=sample_size,
                                              allow_duplicates=allow_duplicates))
