"""Which seed of the blackbox each new trial runs with.

A blackbox with several seeds (e.g. three training runs per configuration) gives each new
trial one of them, drawn uniformly from the run's own random stream, in the order trials
start. ``TrialSeeds`` draws them in blocks of 1,024 and can show the next ones before they
are used (``upcoming``), so a blackbox that computes curves (a surrogate) can compute the
seed a trial will read in the same batch as its configuration. Looking ahead never changes
the seeds: the blocks are drawn in the same order whenever they are drawn. With a budget of
trials (``max_trials``), ``upcoming`` shows no more seeds than trials left to start, so a
blackbox is never asked to compute curves for trials that cannot run.

Example:
    >>> import numpy as np
    >>> seeds = TrialSeeds(np.random.default_rng(0), num_seeds=3)
    >>> ahead = seeds.upcoming(4)
    >>> [seeds.next() for _ in range(4)] == ahead
    True
    >>> TrialSeeds(np.random.default_rng(0), num_seeds=3, fixed=2).upcoming(3)
    [2, 2, 2]
    >>> len(TrialSeeds(np.random.default_rng(0), num_seeds=3, max_trials=2).upcoming(5))
    2
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["TrialSeeds", "BLOCK"]

#: seeds drawn at a time
BLOCK = 1024


class TrialSeeds:
    """The blackbox seeds of new trials, in start order: ``fixed`` for every trial when
    given, 0 for a blackbox with one seed, else uniform draws from ``rng`` in
    ``[0, num_seeds)``; ``max_trials`` (optional) bounds what ``upcoming`` shows.

    Example:
        >>> import numpy as np
        >>> seeds = TrialSeeds(np.random.default_rng(1), num_seeds=3, max_trials=10)
        >>> ahead = seeds.upcoming(5)
        >>> [seeds.next() for _ in range(5)] == ahead, all(0 <= s < 3 for s in ahead)
        (True, True)
        >>> len(seeds.upcoming(100)), TrialSeeds(np.random.default_rng(1), num_seeds=1).next()
        (5, 0)
    """

    __slots__ = ("_rng", "_n", "_pool", "_pos", "_fixed", "_left")

    def __init__(self, rng: np.random.Generator, num_seeds: int, fixed: int | None = None,
                 max_trials: int | None = None):
        self._rng = rng
        self._n = int(num_seeds)
        self._fixed = int(fixed) if fixed is not None else (0 if self._n <= 1 else None)
        self._pool: list[int] = []
        self._pos = 0
        self._left = max_trials if max_trials is not None else sys.maxsize

    def next(self) -> int:
        """The seed of the next new trial."""
        self._left -= 1
        if self._fixed is not None:
            return self._fixed
        if self._pos == len(self._pool):
            self._refill()
        self._pos += 1
        return self._pool[self._pos - 1]

    def upcoming(self, n: int) -> list[int]:
        """The seeds the next ``n`` new trials will get (fewer when fewer trials are left),
        without using them."""
        n = max(0, min(n, self._left))
        if self._fixed is not None:
            return [self._fixed] * n
        while len(self._pool) - self._pos < n:
            self._refill()
        return self._pool[self._pos:self._pos + n]

    def _refill(self) -> None:
        self._pool = self._pool[self._pos:] + self._rng.integers(0, self._n, size=BLOCK).tolist()
        self._pos = 0
