"""Configurations proposed by an outside library, mapped onto a table's rows: ``CandidateMatcher``.

Optuna samplers and Syne Tune searchers sample the whole space; a tabulated blackbox knows only
its rows (the ``candidates``). Each proposal is mapped to an unused row: the row with the very
values when there is one and it is unused, else the nearest unused row in the features of
``blackbox_repo.configspace.FeatureEncoder`` (ranges and ordinals in ``[0, 1]``, choices one-hot;
Euclidean distance, ties to the lower row). Every row is handed out once; when all are used
the matcher is exhausted.

Example:
    >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
    >>> m = CandidateMatcher(ConfigurationSpace({"x": uniform(0, 1)}), [{"x": 0.1}, {"x": 0.5}, {"x": 0.9}])
    >>> m.take({"x": 0.45}), m.take({"x": 0.45}), m.take({"x": 0.45}), m.take({"x": 0.45})
    ({'x': 0.5}, {'x': 0.1}, {'x': 0.9}, None)
    >>> m.exhausted
    True
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from blackbox_repo.configspace import ConfigurationSpace, FeatureEncoder, values_getter

__all__ = ["CandidateMatcher"]


class CandidateMatcher:
    """Hands out each candidate once: the one equal to a proposal, else the nearest unused one.

    ``take(config)`` returns the candidate dict itself (not a copy), or ``None`` when every
    candidate is used; ``release(candidate)`` makes a candidate available again (a suggestion
    that never ran).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> m = CandidateMatcher(ConfigurationSpace({"a": choice(["p", "q"])}), [{"a": "p"}, {"a": "q"}])
        >>> first = m.take({"a": "q"}); m.release(first); m.take({"a": "q"}) is first
        True
    """

    def __init__(self, config_space: ConfigurationSpace, candidates: Sequence[Mapping[str, Any]]):
        self.config_space = config_space
        self.candidates = list(candidates)
        self._key = values_getter(config_space.names)
        self._rows: dict[tuple, list[int]] = {}
        for i, c in enumerate(self.candidates):
            self._rows.setdefault(self._key(c), []).append(i)
        self._row_of = {id(c): i for i, c in enumerate(self.candidates)}
        self._used = np.zeros(len(self.candidates), dtype=bool)
        self._n_used = 0
        self._encoder = FeatureEncoder(config_space)
        self._X: np.ndarray | None = None       # candidates' features, encoded on the first miss

    @property
    def exhausted(self) -> bool:
        """True when every candidate has been handed out (and not released)."""
        return self._n_used >= len(self.candidates)

    def take(self, config: Mapping[str, Any]) -> dict | None:
        """The unused candidate equal to ``config``, else the nearest unused one; ``None`` when none is left."""
        if self.exhausted:
            return None
        for row in self._rows.get(self._key(config), ()):
            if not self._used[row]:
                return self._mark(row)
        if self._X is None:
            self._X = self._encoder.encode(self.candidates)
        x = self._encoder.encode_one(config)
        d = ((self._X - x) ** 2).sum(axis=1)
        d[self._used] = np.inf
        return self._mark(int(np.argmin(d)))

    def release(self, candidate: Mapping[str, Any]) -> None:
        """``candidate`` (a dict ``take`` returned) is available again."""
        row = self._row_of.get(id(candidate))
        if row is not None and self._used[row]:
            self._used[row] = False
            self._n_used -= 1

    def _mark(self, row: int) -> dict:
        self._used[row] = True
        self._n_used += 1
        return self.candidates[row]
