"""What a searcher knows: observations per fidelity, pending trials and the best so far.

One ``History`` is kept by every ``Searcher`` (``methods.searcher``), updated by the searcher
base class from the scheduler's calls, so no method re-implements the bookkeeping:

- ``suggested(config)``: a configuration was handed out, not started yet (it is pending);
- ``start(trial)``: it started as ``trial`` (pending under its trial id);
- ``discard(config)``: it will never start (the run stopped first): no longer pending;
- ``observe(trial, fidelity, score)``: a report, as a score where *lower is better*
  (the searcher applies the mode), so every model minimizes;
- ``end(trial, status)``: the trial completed, was stopped or failed: no longer pending;
- ``pause(trial)`` / ``resume(trial)``: a pause-and-resume scheduler (synchronous Hyperband,
  ASHA with promotion) paused the trial at a rung, or resumed it: a paused trial is not
  pending (no evaluation of it is under way, and it may never resume), a resumed one is again.

Scores are kept per fidelity in insertion order; a trial reporting twice at one fidelity
(a rare re-run) keeps its latest score. Failed trials leave their earlier observations.

Example:
    >>> from methods.base import Trial, TrialStatus
    >>> h = History()
    >>> cfg = {"x": 0.5}
    >>> h.suggested(cfg); h.start(Trial(0, cfg))
    >>> h.pending_configs() == [cfg]
    True
    >>> h.observe(Trial(0, cfg), 9, 0.25); h.end(Trial(0, cfg), TrialStatus.COMPLETED)
    >>> h.pending_configs(), h.best(9), h.num_observations
    ([], (0.25, 0), 1)
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["History"]


class History:
    """Observations per fidelity, pending trials, best score per fidelity (lower is better).

    ``features`` (optional) maps a configuration to its model feature row; rows are computed
    once per trial, when it starts, and returned by ``data``.

    Example:
        >>> from methods.base import Trial
        >>> h = History(features=lambda c: [c["x"]])
        >>> for i, (x, s) in enumerate([(0.1, 3.0), (0.7, 1.0)]):
        ...     h.start(Trial(i, {"x": x})); h.observe(Trial(i, {"x": x}), 1, s)
        >>> X, y, ids = h.data(1)
        >>> X.tolist(), y.tolist(), ids
        ([[0.1], [0.7]], [3.0, 1.0], [0, 1])
    """

    def __init__(self, features: Callable[[Mapping[str, Any]], Any] | None = None):
        self._features = features
        #: trial id -> configuration, for every started trial
        self.configs: dict[int, dict] = {}
        #: trial id -> configuration of the trials started and not ended (paused ones included)
        self.running: dict[int, dict] = {}
        #: configurations handed out and not started (nor discarded) yet
        self.waiting: list[dict] = []
        #: ids of the running trials a scheduler paused (not pending until resumed)
        self.paused: set[int] = set()
        #: trial id -> configuration of the running trials not paused (the pending started ones)
        self.active: dict[int, dict] = {}
        #: fidelity -> {trial id: score}, in order of first report
        self.scores: dict[Any, dict[int, float]] = {}
        #: trial id -> (fidelity, score) of its latest report
        self.last: dict[int, tuple[Any, float]] = {}
        self.failed: set[int] = set()
        self.ended: set[int] = set()
        self._rows: dict[int, np.ndarray] = {}
        self._best: dict[Any, tuple[float, int]] = {}
        #: increases with every change of the observations (models cache on it)
        self.version = 0
        #: fidelity -> number of changes of its observations (a model of one fidelity caches on it)
        self.versions: dict[Any, int] = {}

    # -------------------------------------------------------------- updates
    def suggested(self, config: dict) -> None:
        """``config`` was handed out; it is pending until it starts or is discarded."""
        self.waiting.append(config)

    def _unwait(self, config: Mapping[str, Any]) -> None:
        for i, c in enumerate(self.waiting):
            if c is config:
                del self.waiting[i]
                return
        for i, c in enumerate(self.waiting):
            if c == config:
                del self.waiting[i]
                return

    def start(self, trial: Any) -> None:
        """The trial started (its configuration stops waiting and is running)."""
        self._unwait(trial.config)
        self.configs[trial.trial_id] = trial.config
        self.running[trial.trial_id] = trial.config
        self.active[trial.trial_id] = trial.config
        if self._features is not None:
            self._rows[trial.trial_id] = np.asarray(self._features(trial.config), dtype=float)

    def discard(self, config: Mapping[str, Any]) -> None:
        """A handed-out configuration will never start."""
        self._unwait(config)

    def observe(self, trial: Any, fidelity: Any, score: float) -> None:
        """Record ``score`` (lower is better) of ``trial`` at ``fidelity``; NaN is ignored."""
        if score != score:
            return
        tid = trial.trial_id
        if tid not in self.configs:          # a driver that never called start
            self.configs[tid] = trial.config
            if self._features is not None:
                self._rows[tid] = np.asarray(self._features(trial.config), dtype=float)
        at = self.scores.get(fidelity)
        if at is None:
            at = self.scores[fidelity] = {}
            self.scores = dict(sorted(self.scores.items(), key=lambda kv: kv[0]))
        at[tid] = score
        self.last[tid] = (fidelity, score)
        self.versions[fidelity] = self.versions.get(fidelity, 0) + 1
        best = self._best.get(fidelity)
        if best is None or score < best[0] or (score == best[0] and tid < best[1]):
            self._best[fidelity] = (score, tid)
        self.version += 1

    def pause(self, trial: Any) -> None:
        """The scheduler paused the trial: it is no longer pending until it resumes."""
        if trial.trial_id in self.running:
            self.paused.add(trial.trial_id)
            self.active.pop(trial.trial_id, None)

    def resume(self, trial_id: int) -> None:
        """The scheduler resumed the paused trial ``trial_id``: it is pending again."""
        if trial_id in self.paused:
            self.paused.discard(trial_id)
            self.active[trial_id] = self.running[trial_id]

    def end(self, trial: Any, status: Any) -> None:
        """The trial completed, stopped or failed: it is no longer pending."""
        tid = trial.trial_id
        self.running.pop(tid, None)
        self.active.pop(tid, None)
        self.paused.discard(tid)
        self.ended.add(tid)
        if getattr(status, "value", status) == "failed":
            self.failed.add(tid)
            self.version += 1

    # -------------------------------------------------------------- queries
    def pending_configs(self) -> list[dict]:
        """Configurations running (not paused; in the order they started or resumed) or handed out
        and not started yet (oldest first)."""
        return list(self.active.values()) + list(self.waiting)

    @property
    def num_observations(self) -> int:
        return sum(len(v) for v in self.scores.values())

    @property
    def fidelities(self) -> list:
        """Fidelities with at least one observation, ascending."""
        return list(self.scores)

    def count(self, fidelity: Any) -> int:
        return len(self.scores.get(fidelity, ()))

    def best(self, fidelity: Any = None) -> tuple[float, int] | None:
        """``(score, trial id)`` of the best observation at ``fidelity`` (default: the largest
        observed fidelity), or None."""
        if fidelity is None:
            if not self._best:
                return None
            fidelity = next(reversed(self.scores))
        return self._best.get(fidelity)

    def model_fidelity(self, min_points: int) -> Any:
        """The largest fidelity with at least ``min_points`` observations (BOHB's rule), or None."""
        for fidelity in reversed(self.scores):
            if len(self.scores[fidelity]) >= min_points:
                return fidelity
        return None

    def data(self, fidelity: Any) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """``(features, scores, trial ids)`` of the observations at ``fidelity``, in order of
        first report. Features need ``features=`` at construction (else an empty array)."""
        at = self.scores.get(fidelity, {})
        ids = list(at)
        y = np.fromiter(at.values(), dtype=float, count=len(ids))
        if self._features is None or not ids:
            return np.empty((len(ids), 0)), y, ids
        return np.stack([self._rows[i] for i in ids]), y, ids

    def rows(self, trial_ids: Sequence[int]) -> np.ndarray:
        """Feature rows of started trials."""
        return np.stack([self._rows[i] for i in trial_ids])

    def latest(self) -> tuple[list[int], np.ndarray]:
        """Every trial with an observation and its latest score, in trial-id order."""
        ids = sorted(self.last)
        return ids, np.array([self.last[i][1] for i in ids], dtype=float)

    def __repr__(self) -> str:
        best = self.best()
        b = "none" if best is None else f"{best[0]:.6g} (trial {best[1]})"
        return (f"History({len(self.configs)} trials, {self.num_observations} observations at "
                f"{len(self.scores)} fidelities, {len(self.active) + len(self.waiting)} pending, best {b})")

