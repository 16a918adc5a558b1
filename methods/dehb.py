"""DEHB (Awad, Mallik & Hutter 2021): differential evolution inside synchronous Hyperband.

Brackets. With rung levels ``L[0] < ... < L[K]`` and the rung sizes ``n_0 > ... > n_K`` of the
first bracket of synchronous Hyperband (``methods.rungs.sync_bracket``: 27, 9, 3, 1 for levels 1,
3, 9, 27 and ``rf = 3``), bracket ``k`` has the offset ``o = k mod brackets`` and the rungs
``(n_o, L[o]), ..., (n_K, L[K])``: a rung's size depends on its level only, so later brackets
spend less, as in DEHB and Syne Tune. Each rung has slots; a rung is filled once every slot holds
a result, and only then is the next rung of its bracket handed out. Brackets run side by side as
in Syne Tune's synchronous Hyperband: a free worker gets a slot of the oldest unfinished bracket
with a free slot in its current rung, and a new bracket is begun when none has one.

Configurations live in ``[0, 1]^d``, the configuration space's ``FeatureEncoder`` (one-hot
categoricals, log-scaled ranges). What runs in a slot:

- the very first bracket (``k = 0``): random configurations in its lowest rung; each higher
  slot ``i`` takes the ``i``-th best trial of the rung below and resumes it (pause and resume;
  ``support_pause_resume=False`` starts the configuration again as a new trial instead). A trial
  whose result there is a failure is not resumed: the slot counts as failed;
- every other slot holds a new configuration made by differential evolution. Its *target* is the
  *parent slot*: the slot with the same index and level in the nearest earlier bracket holding a
  result there (the bracket just before for offsets ``o > 0``; for ``o = 0`` the earlier bracket
  whose lowest rung has that level) -- DEHB's per-rung subpopulations. Three distinct *parents*
  are drawn from the parent pool (``rng.choice(size, 3, replace=False)``): in a lowest rung, the
  parent slots of the rung's slots; higher up, the best trials of the rung below in the same
  bracket (DEHB's promotion of the top of the lower budget into the parent pool). When the rung
  has fewer than 3 slots the pool is extended by every result recorded at that level, then at the
  other levels from the top down. The mutant is ``rand/1``: ``x0 + F (x1 - x2)`` with entries
  outside ``[0, 1]`` drawn anew uniformly; binomial crossover takes each hyperparameter (all the
  columns of a one-hot group together) from the mutant with probability ``crossover_probability``,
  and at least one. A lowest-rung slot without a parent slot takes a random configuration.
- selection: when the new trial reports at its level, the better of it and the target's result
  there (the target on ties) fills the slot, so the subpopulation keeps the better one.

New trials run from scratch to their slot's level and are stopped there (paused in the first
bracket). On a table (``candidates``) an offspring runs as the nearest unused row (Euclidean
distance in the encoding; ``methods.nearest_rows``: equal distances go to the first row); in the space it is decoded, and one already suggested is evolved anew
(up to 25 times, then a random configuration is taken), as in Syne Tune. A trial's
encoding is the one of the configuration that ran. When no configuration is left the slot counts
as failed and ``suggest`` answers ``None``. A failed or stopped trial, and a suggestion discarded
before it started, fill their slot as failures ("worst"), so rungs still fill.

Differences to Syne Tune 0.13 (``DifferentialEvolutionHyperbandScheduler``): initial
configurations are drawn from the domains (or the candidates) rather than uniformly in the
encoding; a trial keeps the encoding of the configuration that ran, not the raw offspring (on a
table they differ); selection compares with the result recorded in the parent slot at that level
(Syne Tune reads the target trial's latest result, which may be at another level or pending) and
is skipped when there is no parent slot (Syne Tune then compares with a random trial); with too
small a parent pool a random configuration is taken (Syne Tune fails an assertion);
``mutation_factor`` may be in ``(0, 2]`` (the range of differential evolution; Syne Tune allows
``[0, 1]``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace, FeatureEncoder, values_getter
from methods.arguments import check_bool, check_float
from methods.base import Decision, MethodError, Scheduler, Suggestion, Trial, TrialStatus
from methods.nearest_rows import NearestRows
from methods.registry import register
from methods.rungs import check_brackets, check_reduction_factor, resolve_levels, sync_bracket
from methods.sampling import ConfigSampler

__all__ = ["DEHB", "de_mutation", "de_crossover", "RETRIES"]

PAPER = ("Awad, Mallik & Hutter 2021, DEHB: Evolutionary Hyperband for Scalable, Robust and Efficient "
         "Hyperparameter Optimization (IJCAI)")

#: offspring tried for a slot (in the space) while they decode to configurations suggested before
RETRIES = 25


def de_mutation(parents: Sequence[np.ndarray], mutation_factor: float, rng: np.random.Generator) -> np.ndarray:
    """``rand/1`` mutation ``x0 + F (x1 - x2)``; entries outside ``[0, 1]`` are drawn anew
    (``rng.random``, one per such entry, in column order).

    Example:
        >>> x = [np.array([0.5, 0.9]), np.array([0.6, 0.8]), np.array([0.2, 0.0])]
        >>> de_mutation(x, 0.5, np.random.default_rng(0)).round(6).tolist()
        [0.7, 0.636962]
    """
    x0, x1, x2 = (np.asarray(p, dtype=float) for p in parents)
    mutant = x0 + mutation_factor * (x1 - x2)
    outside = np.flatnonzero((mutant < 0.0) | (mutant > 1.0))
    if outside.size:
        mutant[outside] = rng.random(outside.size)
    return mutant


def de_crossover(mutant: np.ndarray, target: np.ndarray, groups: Sequence[slice], probability: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Binomial crossover per hyperparameter: the columns ``groups[j]`` come from ``mutant`` when
    ``rng.random(len(groups))[j] < probability``; if none does, one group drawn by
    ``rng.integers(len(groups))`` does. The rest come from ``target``.

    Example:
        >>> groups = [slice(0, 1), slice(1, 3)]
        >>> de_crossover(np.array([1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), groups, 1.0,
        ...              np.random.default_rng(0)).tolist()
        [1.0, 1.0, 0.0]
    """
    take = rng.random(len(groups)) < probability
    if not take.any():
        take[int(rng.integers(len(groups)))] = True
    child = np.array(target, dtype=float)
    for group, from_mutant in zip(groups, take.tolist()):
        if from_mutant:
            child[group] = mutant[group]
    return child


@dataclass
class _Bracket:
    """One bracket: per rung, slots holding ``(trial id, score)``; a score of ``None`` is pending."""

    offset: int
    sizes: list[int]
    levels: list
    rung: int = 0
    handed: int = 0
    slots: list[list[tuple[int | None, float | None]]] = field(default_factory=list)
    tops: dict[int, list[int | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = [[(None, None)] * n for n in self.sizes]

    @property
    def complete(self) -> bool:
        return self.rung >= len(self.sizes)

    def next_free_slot(self) -> int | None:
        if self.complete or self.handed >= self.sizes[self.rung]:
            return None
        self.handed += 1
        return self.handed - 1

    def record(self, rung: int, index: int, trial_id: int | None, score: float) -> None:
        """Fill a slot of the current rung; the rung closes once every slot holds a result."""
        row = self.slots[rung]
        row[index] = (trial_id, score)
        if self.handed >= len(row) and all(s is not None for _, s in row):
            self.rung += 1
            self.handed = 0

    def top_of_previous_rung(self) -> list[int | None]:
        """Trial ids of the rung below the current one, best first (finite scores by score, then
        slot; failures after them in slot order), as many as the current rung has slots."""
        top = self.tops.get(self.rung)
        if top is None:
            below = self.slots[self.rung - 1]
            ranked = sorted(range(len(below)), key=lambda i: (not math.isfinite(below[i][1]), below[i][1], i))
            top = self.tops[self.rung] = [below[i][0] for i in ranked[:self.sizes[self.rung]]]
        return top


@dataclass
class _Job:
    """A slot handed out: where its result goes, and the target of a selection (if any)."""

    bracket: int
    rung: int
    index: int
    level: Any
    select: bool = False


@register("DEHB")
class DEHB(Scheduler):
    """Differential evolution Hyperband: synchronous Hyperband whose slots evolve by DE.

    Arguments: ``grace_period`` (lowest rung; default the smallest fidelity),
    ``reduction_factor`` (default 3), ``max_fidelity`` (default the largest fidelity),
    ``brackets`` (brackets per iteration, ``1..len(levels)``; default all), ``mutation_factor``
    (``F`` in ``(0, 2]``, default 0.5), ``crossover_probability`` (in ``[0, 1]``, default 0.5) and
    ``support_pause_resume`` (default True: the first bracket resumes its promoted trials).
    Defaults follow Syne Tune 0.13's ``baselines.DEHB`` (``GeometricDifferentialEvolutionHyperbandScheduler``:
    ``grace_period=1``, ``reduction_factor=3``, all brackets, ``mutation_factor=0.5``,
    ``crossover_probability=0.5``, ``support_pause_resume=True``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> dehb = DEHB(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss",
        ...             fidelity_values=list(range(1, 28)))
        >>> [dehb.bracket_rungs(b) for b in range(dehb.brackets)]
        [([27, 9, 3, 1], [1, 3, 9, 27]), ([9, 3, 1], [3, 9, 27]), ([3, 1], [9, 27]), ([1], [27])]
        >>> dehb.suggest(0.0).max_fidelity
        1
    """

    paper = PAPER

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, grace_period: Any = None,
                 reduction_factor: float = 3, max_fidelity: Any = None, brackets: int | None = None,
                 mutation_factor: float = 0.5, crossover_probability: float = 0.5,
                 support_pause_resume: bool = True):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates)
        self.reduction_factor = check_reduction_factor(reduction_factor)
        self.levels = resolve_levels(self.fidelity_values, grace_period, self.reduction_factor, max_fidelity)
        self.grace_period = self.levels[0]
        self.brackets = check_brackets(len(self.levels) if brackets is None else brackets, self.levels)
        self.mutation_factor = check_float("mutation_factor", mutation_factor, 0.0, 2.0, low_open=True)
        self.crossover_probability = check_float("crossover_probability", crossover_probability, 0.0, 1.0)
        self.support_pause_resume = check_bool("support_pause_resume", support_pause_resume)
        self.encoder = FeatureEncoder(self.config_space)
        self._groups = [columns for _, _, columns in self.encoder.columns]
        if not self._groups:
            raise MethodError(f"DEHB evolves hyperparameters, but every hyperparameter of {self.config_space!r} "
                              f"is constant; give at least one that varies")
        self._sizes = sync_bracket(self.levels, self.reduction_factor, 0)[0]
        self._top = self.levels[-1]
        self._position = {level: i for i, level in enumerate(self.levels)}
        self._brackets: list[_Bracket] = []
        self._primary = 0
        self._new_bracket()
        self._sampler = ConfigSampler(self.config_space, self.rng, self.candidates)
        self._key = values_getter(list(self.config_space))
        self._used: set = set()                       # keys (space) or row indices (candidates) handed out
        self._rows: np.ndarray | None = None          # the candidates' encodings (built at first need)
        self._search: NearestRows | None = None       # nearest unused candidate (built with _rows)
        self._row_of = None if self.candidates is None else {id(c): i for i, c in enumerate(self.candidates)}
        self._vectors: dict[int, np.ndarray] = {}     # trial id -> encoding
        self._trial_ids: list[int] = []               # trials started, in order
        self._trial_configs: dict[int, dict] = {}     # trial id -> configuration
        self._pool: dict[Any, list[int]] = {level: [] for level in self.levels}   # results per level
        self._pending: dict[int, _Job] = {}           # trial id -> its slot
        self._offer: tuple[_Job, np.ndarray, Any] | None = None   # last new configuration suggested

    def bracket_rungs(self, offset: int) -> tuple[list[int], list]:
        """(rung sizes, rung levels) of the brackets with ``offset``."""
        return self._sizes[offset:], self.levels[offset:]

    @property
    def brackets_begun(self) -> int:
        """How many brackets have begun so far (the ``bracket`` ids of ``rung_results``)."""
        return len(self._brackets)

    def rung_results(self, bracket: int) -> list[list[tuple[int | None, float | None]]]:
        """The slots of bracket ``bracket`` (0 = the first begun), rung by rung: ``(trial id,
        score)`` of the trial holding each slot, ``score`` lower is better, ``(None, None)`` while
        pending (a copy)."""
        return [list(row) for row in self._brackets[bracket].slots]

    # ------------------------------------------------------------------ brackets
    def _new_bracket(self) -> int:
        offset = len(self._brackets) % self.brackets
        sizes, levels = self.bracket_rungs(offset)
        self._brackets.append(_Bracket(offset, list(sizes), list(levels)))
        return len(self._brackets) - 1

    def _next_job(self) -> _Job:
        for b in range(self._primary, len(self._brackets)):
            index = self._brackets[b].next_free_slot()
            if index is not None:
                break
        else:
            b = self._new_bracket()
            index = self._brackets[b].next_free_slot()
        bracket = self._brackets[b]
        return _Job(b, bracket.rung, index, bracket.levels[bracket.rung])

    def _record(self, job: _Job, trial_id: int | None, score: float) -> None:
        self._brackets[job.bracket].record(job.rung, job.index, trial_id, score)
        last = len(self._brackets) - 1
        while self._brackets[self._primary].complete and self._primary < last:
            self._primary += 1
        if self._brackets[self._primary].complete:
            self._primary = self._new_bracket()

    def _parent_slot(self, bracket: int, level: Any, index: int) -> tuple[int, float | None] | None:
        """``(trial id, score)`` of the parent slot: the slot ``index`` at ``level`` of the nearest
        earlier bracket that holds a trial there, or None."""
        position = self._position[level]
        for k in range(bracket - 1, -1, -1):
            earlier = self._brackets[k]
            if earlier.offset <= position:
                trial_id, score = earlier.slots[position - earlier.offset][index]
                if trial_id is not None:
                    return trial_id, score
        return None

    # ------------------------------------------------------------------ configurations
    def _take(self, config: dict) -> tuple[dict, np.ndarray, Any] | None:
        """``config`` with its encoding and key, unless it was handed out before."""
        if self._row_of is not None:
            row = self._row_of[id(config)]
            if row in self._used:
                return None
            return config, self._candidate_rows()[row], row
        key = self._key(config)
        if key in self._used:
            return None
        return config, self.encoder.encode_one(config), key

    def _random(self) -> tuple[dict, np.ndarray, Any] | None:
        """A random configuration not handed out before (the sampler never repeats one, so
        skipping those evolution took costs O(1) per suggestion overall), or None."""
        while True:
            config = self._sampler.next()
            if config is None:
                return None
            taken = self._take(config)
            if taken is not None:
                return taken

    def _candidate_rows(self) -> np.ndarray:
        if self._rows is None:
            self._rows = np.ascontiguousarray(self.encoder.encode(self.candidates), dtype=float)
            self._search = NearestRows(self._rows, [group for _, group in self.encoder.categorical_groups])
            for row in self._used:
                self._search.use(row)
        return self._rows

    def _realize(self, vector: np.ndarray) -> tuple[dict, np.ndarray, Any] | None:
        """The configuration an offspring runs as: the nearest unused row, or its decoding."""
        if self.candidates is None:
            return self._take(self.encoder.decode(vector)[0])
        rows = self._candidate_rows()
        row = self._search.nearest(vector)
        if row is None:
            return None
        return self.candidates[row], rows[row], row

    def _random_trial(self) -> int | None:
        if not self._trial_ids:
            return None
        return self._trial_ids[int(self.rng.integers(len(self._trial_ids)))]

    def _parents(self, job: _Job) -> list[int] | None:
        bracket = self._brackets[job.bracket]
        size = bracket.sizes[job.rung]
        extra: list[int] = []
        if size < 3:
            extra = list(self._pool[job.level])
            for level in reversed(self.levels):
                if size + len(extra) >= 3:
                    break
                if level != job.level:
                    extra += self._pool[level]
        if size + len(extra) < 3:
            return None
        parents = []
        for p in self.rng.choice(size + len(extra), 3, replace=False).tolist():
            if p >= size:
                parents.append(extra[p - size])
                continue
            if job.rung == 0:
                parent = self._parent_slot(job.bracket, job.level, p)
                trial_id = None if parent is None else parent[0]
            else:
                trial_id = bracket.top_of_previous_rung()[p]
            if trial_id is None or trial_id not in self._vectors:
                trial_id = self._random_trial()
            if trial_id is None:
                return None
            parents.append(trial_id)
        return parents

    def _target(self, job: _Job) -> int | None:
        """The trial in the parent slot, else a random trial (as Syne Tune)."""
        parent = self._parent_slot(job.bracket, job.level, job.index)
        return parent[0] if parent is not None else self._random_trial()

    def _evolve(self, job: _Job) -> tuple[dict, np.ndarray, Any] | None:
        """A new configuration for ``job`` by mutation and crossover (random if that fails)."""
        job.select = True
        for _ in range(RETRIES):
            parents = self._parents(job)
            target = self._target(job)
            if parents is None or target is None:
                break
            mutant = de_mutation([self._vectors[t] for t in parents], self.mutation_factor, self.rng)
            child = de_crossover(mutant, self._vectors[target], self._groups, self.crossover_probability, self.rng)
            taken = self._realize(child)
            if taken is not None:
                return taken
            if self.candidates is not None:
                break                                   # no unused row is left
        return self._random()

    # ------------------------------------------------------------------ the protocol
    def suggest(self, time: float) -> Suggestion | None:
        while True:
            job = self._next_job()
            bracket = self._brackets[job.bracket]
            if job.rung > 0 and job.bracket == 0:
                trial_id = bracket.top_of_previous_rung()[job.index]
                below = bracket.slots[job.rung - 1]
                score = next((s for t, s in below if t == trial_id), None) if trial_id is not None else None
                if score is None or not math.isfinite(score):
                    self._record(job, trial_id, math.inf)     # its trial failed: nothing to promote
                    continue
                if self.support_pause_resume:
                    self._pending[trial_id] = job
                    return Suggestion.resume_trial(trial_id, max_fidelity=job.level)
                config = self._trial_configs[trial_id]
                self._offer = (job, self._vectors[trial_id], None)
                return Suggestion(config=config, max_fidelity=job.level, meta=job.bracket)
            if job.rung == 0 and (job.bracket == 0 or self._parent_slot(job.bracket, job.level, job.index) is None):
                taken = self._random()
            else:
                taken = self._evolve(job)
            if taken is None:
                self._record(job, None, math.inf)             # nothing left to try
                return None
            config, vector, key = taken
            self._mark(key)
            self._offer = (job, vector, key)
            return Suggestion(config=config, max_fidelity=job.level, meta=job.bracket)

    def _mark(self, key: Any) -> None:
        self._used.add(key)
        if self._search is not None:
            self._search.use(key)

    def on_start(self, trial: Trial) -> None:
        job, vector, _ = self._offer
        self._offer = None
        self._pending[trial.trial_id] = job
        self._vectors[trial.trial_id] = vector
        self._trial_configs[trial.trial_id] = trial.config
        self._trial_ids.append(trial.trial_id)

    def on_discard(self, suggestion: Suggestion) -> None:
        job, _, key = self._offer
        self._offer = None
        if key is not None:
            self._used.discard(key)
            if self._search is not None:
                self._search.release(key)
        self._record(job, None, math.inf)

    def on_report(self, trial: Trial, fidelity: Any, metrics: Mapping[str, float], time: float) -> Decision:
        job = self._pending.get(trial.trial_id)
        if job is None or fidelity != job.level:
            return Decision.CONTINUE
        del self._pending[trial.trial_id]
        score = self.score(metrics)
        winner, best = trial.trial_id, score
        if math.isfinite(score):
            self._pool[job.level].append(trial.trial_id)
            if job.select:
                parent = self._parent_slot(job.bracket, job.level, job.index)
                if parent is not None and parent[1] is not None and score >= parent[1]:
                    winner, best = parent
        self._record(job, winner, best)
        if not math.isfinite(score):
            return Decision.STOP
        if fidelity == self._top:
            return Decision.CONTINUE
        return Decision.PAUSE if self.support_pause_resume and job.bracket == 0 else Decision.STOP

    def on_end(self, trial: Trial, status: TrialStatus) -> None:
        job = self._pending.pop(trial.trial_id, None)
        if job is not None:
            self._record(job, trial.trial_id, math.inf)

    def report_levels(self) -> Sequence[Any] | None:
        return list(self.levels)
