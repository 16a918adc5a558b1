"""The seeded random sampling every method shares: ``ConfigSampler``.

``ConfigSampler`` pre-draws configurations in batches (vectorised per domain, or a
permutation of candidate indices) so that drawing one costs a few microseconds.

Without replacement (``allow_duplicates=False``, the default) a configuration is never
drawn twice: from ``candidates`` each row is used once, in a seeded random order; from
a finite space each configuration at most once (an infinite space is not checked: a repeat
has probability zero or close to it). Once every configuration has been used the sampler is
exhausted for good and ``next()`` answers ``None`` from then on.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace, values_getter

__all__ = ["ConfigSampler"]


class ConfigSampler:
    """Seeded source of new configurations, from ``candidates`` when given, else the space.

    Configurations are drawn ``batch_size`` at a time; ``peek`` shows the rest of the current
    batch, which a simulator hands to a blackbox that computes curves (a surrogate) to predict
    in one batch: a larger batch means fewer, larger model calls.

    Example:
        >>> import numpy as np
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> s = ConfigSampler(ConfigurationSpace({"a": choice([1, 2])}), np.random.default_rng(0))
        >>> sorted(s.next()["a"] for _ in range(2)), s.next()
        ([1, 2], None)
    """

    def __init__(self, config_space: ConfigurationSpace, rng: np.random.Generator,
                 candidates: Sequence[Mapping[str, Any]] | None = None, allow_duplicates: bool = False,
                 batch_size: int = 1024):
        self.config_space = config_space
        self.rng = rng
        self.candidates = candidates
        self.allow_duplicates = bool(allow_duplicates)
        self.batch_size = int(batch_size)
        self._batch: list = []
        self._pos = 0
        self._exhausted = False
        self._seen: set[tuple] | None = None
        # a configuration's values in a fixed order (itemgetter: one C call), for spotting repeats
        self._values_of = values_getter(list(config_space))
        if candidates is None and not self.allow_duplicates and config_space.is_finite:
            self._seen = set()
        self._space_size = config_space.size if candidates is None else math.inf
        self._permuted = False

    @property
    def exhausted(self) -> bool:
        """True once no new configuration can ever be drawn."""
        return self._exhausted

    def _refill(self) -> None:
        if self.candidates is not None:
            n = len(self.candidates)
            if self.allow_duplicates:
                self._batch = self.rng.integers(n, size=self.batch_size).tolist()
            elif not self._permuted:
                self._batch = self.rng.permutation(n).tolist()
                self._permuted = True
            else:
                self._batch = []
        else:
            self._batch = self.config_space.sample(self.rng, self.batch_size)
        self._pos = 0

    def next(self) -> dict | None:
        """A new configuration, or ``None`` when every configuration has been used."""
        if self._exhausted:
            return None
        while True:
            if self._pos >= len(self._batch):
                self._refill()
                if not self._batch:
                    self._exhausted = True
                    return None
            item = self._batch[self._pos]
            self._pos += 1
            if self.candidates is not None:
                return self.candidates[item]
            if self._seen is None:
                return item
            key = self._values_of(item)
            if key in self._seen:
                continue
            self._seen.add(key)
            if len(self._seen) >= self._space_size:
                # the last unused configuration: hand it out, then nothing is left
                self._batch, self._pos = [], 0
                self._exhausted = True
            return item

    def peek(self) -> list[dict]:
        """The configurations the next calls of ``next()`` will return, in order, as far as
        they are drawn already (the rest of the current batch). It never draws, so the
        random stream -- and everything drawn later -- is the same whether or not it is called.

        Example:
            >>> import numpy as np
            >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
            >>> s = ConfigSampler(ConfigurationSpace({"x": uniform(0, 1)}), np.random.default_rng(0),
            ...                   batch_size=4)
            >>> first = s.next(); ahead = s.peek()
            >>> len(ahead), [s.next() for _ in range(3)] == ahead, s.peek()
            (3, True, [])
        """
        if self._exhausted:
            return []
        rest = self._batch[self._pos:]
        if self.candidates is not None:
            candidates = self.candidates
            return [candidates[i] for i in rest]
        if self._seen is None:
            return rest
        # a finite space drawn without replacement: next() skips repeats and stops when
        # every configuration has been used
        out: list[dict] = []
        ahead: set[tuple] = set()
        values_of = self._values_of
        left = self._space_size - len(self._seen)
        for item in rest:
            if len(out) >= left:
                break
            key = values_of(item)
            if key in self._seen or key in ahead:
                continue
            ahead.add(key)
            out.append(item)
        return out
