"""Random search: ``FIFO`` with the random searcher (``methods.sampling.ConfigSampler``).

Without replacement (``allow_duplicates=False``, the default) a configuration is never
suggested twice; once every configuration has been used the method answers ``None``
("nothing now") from then on.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.fifo import FIFO
from methods.registry import register
from methods.searcher import RandomSearcher

__all__ = ["RandomSearch"]


@register("RandomSearch")
class RandomSearch(FIFO):
    """Random search: new configurations drawn uniformly, each run to the largest fidelity.

    Samples from ``candidates`` when given (a table's rows), else from the space. With
    ``allow_duplicates=False`` (default) no configuration is suggested twice; when all are used
    ``suggest`` answers ``None`` for good. It needs no reports (``report_levels() == []``).

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> rs = RandomSearch(ConfigurationSpace({"x": uniform(0, 1)}), metric="loss", seed=1)
        >>> s = rs.suggest(0.0)
        >>> 0 <= s.config["x"] <= 1 and s.max_fidelity == 1
        True
    """

    paper = RandomSearcher.paper

    def __init__(self, config_space: ConfigurationSpace, *, metric: str, mode: str = "min",
                 fidelity_values: Sequence[Any] | None = None, seed: int = 0,
                 candidates: Sequence[Mapping[str, Any]] | None = None, allow_duplicates: bool = False):
        super().__init__(config_space, metric=metric, mode=mode, fidelity_values=fidelity_values,
                         seed=seed, candidates=candidates,
                         searcher=RandomSearcher(allow_duplicates=allow_duplicates))
        self.allow_duplicates = self.searcher.allow_duplicates
        self.sampler = self.searcher.sampler
