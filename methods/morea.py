"""Multi-objective regularized evolution (MO-REA) and steady-state NSGA-II, on REA's population machinery.

Both searchers are ``methods.rea.REASearcher`` with score *vectors* (every metric oriented so
that lower is better) instead of scores, so the population bookkeeping -- one member per
trial, scores updated in place, the ring buffer, candidates, mutation, no configuration
suggested twice -- is REA's. What differs is how members are ranked and who leaves:

- ``MOREASearcher`` (Syne Tune's ``MultiObjectiveRegularizedEvolution``): aging as in REA (the
  oldest member dies); the parent is the best of ``sample_size`` members drawn with replacement,
  "best" being the lowest position in the population's multi-objective order
  (``methods.pareto.rank_order``: non-dominated sorting, then an epsilon-net inside each front,
  Syne Tune's ``NonDominatedPriority``).
- ``NSGA2Searcher`` (Deb, Pratap, Agarwal & Meyarivan 2002), steady state: elitist -- when the
  population is full, the worst of the members and the newcomer by (front, crowding distance)
  leaves (possibly the newcomer); parents are chosen by two binary tournaments on the same
  order; the child is a uniform crossover of the two parents (probability ``crossover_prob``,
  else a copy of the first) followed by a one-hyperparameter mutation. Syne Tune's
  ``NSGA2Searcher`` wraps pymoo's generational NSGA-II (it needs one worker); a steady-state
  variant keeps every worker busy and decides at each suggestion.

Reports with a missing or NaN metric are not observations (as in REA). The ranking of the
population is recomputed only when a member's score changed since the last suggestion.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace
from methods.arguments import check_choice, check_float, check_int
from methods.fifo import FIFO
from methods.pareto import TIE_BREAKS, priorities, rank_order
from methods.rea import REASearcher
from methods.registry import register
from methods.searcher import register_searcher

__all__ = ["MOREASearcher", "NSGA2Searcher", "MOREA", "NSGA2"]

REA_PAPER = ("Real, Aggarwal, Huang & Le 2019 (AAAI), regularized evolution, ranked by non-dominated "
             "sorting with an epsilon-net as in Salinas, Perrone, Archambeau & Cruchant 2021 (ICLR NAS "
             "workshop) and Syne Tune's MultiObjectiveRegularizedEvolution")
NSGA2_PAPER = ("Deb, Pratap, Agarwal & Meyarivan 2002, A Fast and Elitist Multiobjective Genetic Algorithm: "
               "NSGA-II (IEEE Transactions on Evolutionary Computation)")


@register_searcher("morea", "mo-rea")
class MOREASearcher(REASearcher):
    """Regularized evolution over several metrics: tournaments by multi-objective rank.

    Defaults follow Syne Tune's ``MultiObjectiveRegularizedEvolution``: ``population_size=100``,
    ``sample_size=10``; ``tie_break`` orders each front (``"eps_net"``, Syne Tune's; or
    ``"hypervolume"``, ``"crowding"``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> from methods.base import Trial
        >>> s = MOREASearcher(population_size=3, sample_size=3)
        >>> s.bind(ConfigurationSpace({"a": choice(range(10)), "b": choice(range(10))}),
        ...        metric=["err", "size"], mode=["min", "min"], rng=np.random.default_rng(0))
        >>> for i, v in enumerate([(3, 3), (1, 2), (2, 1)]):
        ...     t = Trial(i, s.next_config()); s.on_start(t); s.observe(t, 1, {"err": v[0], "size": v[1]})
        >>> [m[2] for m in s.population], s.member_priorities().tolist()
        ([[3.0, 3.0], [1.0, 2.0], [2.0, 1.0]], [2, 0, 1])
    """

    paper = REA_PAPER
    multi_objective = True
    #: how a front is ordered when ranking the population
    default_tie_break = "eps_net"

    def __init__(self, *, population_size: int = 100, sample_size: int = 10, allow_duplicates: bool = False,
                 tie_break: str | None = None):
        super().__init__(population_size=population_size, sample_size=sample_size,
                         allow_duplicates=allow_duplicates)
        self.tie_break = check_choice("tie_break", self.default_tie_break if tie_break is None else tie_break,
                                      TIE_BREAKS)

    def setup(self) -> None:
        super().setup()
        self._ranked_version = -1
        self._priorities = np.zeros(0, dtype=np.int64)

    def score_buffer(self, size: int) -> np.ndarray:
        return np.empty((size, len(self.metrics)), dtype=float)

    def member_score(self, metrics: Mapping[str, float]) -> Any:
        v = self.score_vector(metrics)
        return v if np.isfinite(v).all() else None

    def member_priorities(self) -> np.ndarray:
        """Each slot's position in the population's multi-objective order (0 = best), cached
        until a score changes."""
        if self._ranked_version != self.version:
            self._priorities = priorities(self._scores[: self._n], self.tie_break)
            self._ranked_version = self.version
        return self._priorities

    def select_parent(self, picks: np.ndarray) -> int:
        prio = self.member_priorities()
        return int(picks[int(np.argmin(prio[picks]))])


@register_searcher("nsga2", "nsga-ii")
class NSGA2Searcher(MOREASearcher):
    """Steady-state NSGA-II: elitist population, binary tournaments, crossover and mutation.

    Defaults: ``population_size=20`` (Syne Tune's ``NSGA2Searcher``), ``crossover_prob=0.9``
    (pymoo's NSGA-II default), fronts ordered by crowding distance (``tie_break="crowding"``,
    NSGA-II's). While the population is not full, configurations are random.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> from methods.base import Trial
        >>> s = NSGA2Searcher(population_size=2)
        >>> s.bind(ConfigurationSpace({"a": choice(range(10)), "b": choice(range(10))}),
        ...        metric=["err", "size"], mode=["min", "min"], rng=np.random.default_rng(0))
        >>> for i, v in enumerate([(1, 5), (5, 1), (6, 6), (0, 0)]):
        ...     t = Trial(i, s.next_config()); s.on_start(t); s.observe(t, 1, {"err": v[0], "size": v[1]})
        >>> sorted(m[2] for m in s.population)    # (6, 6) stayed out; (5, 1) left for (0, 0)
        [[0.0, 0.0], [1.0, 5.0]]
    """

    paper = NSGA2_PAPER
    default_tie_break = "crowding"

    def __init__(self, *, population_size: int = 20, crossover_prob: float = 0.9, allow_duplicates: bool = False,
                 tie_break: str | None = None):
        population_size = check_int("population_size", population_size, low=2)
        super().__init__(population_size=population_size, sample_size=2, allow_duplicates=allow_duplicates,
                         tie_break=tie_break)
        self.crossover_prob = check_float("crossover_prob", crossover_prob, 0.0, 1.0)

    def replaced_slot(self, score: Any) -> int | None:
        Y = np.vstack([self._scores[: self._n], score[None, :]])
        worst = int(rank_order(Y, self.tie_break)[-1])
        return None if worst == self._n else worst

    def choose_parents(self) -> Any:
        prio = self.member_priorities()
        parents = []
        for _ in range(2):
            a, b = self.rng.integers(self._n, size=2).tolist()
            parents.append(self._configs[a if prio[a] <= prio[b] else b])
        return parents

    def breed(self, parents: Any) -> dict:
        first, second = parents
        if self.rng.random() < self.crossover_prob:
            take = self.rng.random(len(first)) < 0.5
            child = {k: (second[k] if t else first[k]) for k, t in zip(first, take.tolist())}
        else:
            child = dict(first)
        return self.mutate(child)


@register("MOREA")
class MOREA(FIFO):
    """Multi-objective regularized evolution: each trial to the largest fidelity, configurations
    from ``MOREASearcher``.

    Defaults follow Syne Tune's ``MOREA`` baseline (``population_size=100``, ``sample_size=10``, non-dominated sorting with an epsilon-net);
    ``allow_duplicates=False`` (this package's rule).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> s = MOREA(ConfigurationSpace({"a": choice(range(10))}), metric="err,size", mode="min",
        ...           fidelity_values=[1, 9], population_size=5, sample_size=2)
        >>> s.suggest(0.0).max_fidelity, s.searcher.population_size, s.metric
        (9, 5, ['err', 'size'])
    """

    paper = REA_PAPER
    multi_objective = True

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
                 mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, population_size: int = 100,
                 sample_size: int = 10, tie_break: str = "eps_net", allow_duplicates: bool = False):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates,
                         searcher=MOREASearcher(population_size=population_size, sample_size=sample_size,
                                                tie_break=tie_break, allow_duplicates=allow_duplicates))


@register("NSGA2")
class NSGA2(FIFO):
    """Steady-state NSGA-II: each trial to the largest fidelity, configurations from ``NSGA2Searcher``.

    Defaults: ``population_size=20`` (Syne Tune's ``NSGA2``), ``crossover_prob=0.9`` (pymoo's),
    fronts ordered by crowding distance; ``allow_duplicates=False``.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> s = NSGA2(ConfigurationSpace({"a": choice(range(10)), "b": choice(range(4))}),
        ...           metric=["err", "size"], mode=["min", "min"], fidelity_values=[1, 9])
        >>> s.suggest(0.0).max_fidelity, s.searcher.population_size, s.searcher.crossover_prob
        (9, 20, 0.9)
    """

    paper = NSGA2_PAPER
    multi_objective = True

    def __init__(self, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
                 mode: str | Sequence[str] = "min", fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, population_size: int = 20,
                 crossover_prob: float = 0.9, allow_duplicates: bool = False):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values, seed=seed,
                         candidates=candidates,
                         searcher=NSGA2Searcher(population_size=population_size, crossover_prob=crossover_prob,
                                                allow_duplicates=allow_duplicates))
