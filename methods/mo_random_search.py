"""Multi-objective random search: random search given several metrics (each trial to the largest fidelity).

Random search ignores the metrics, so it needs nothing but the multi-objective flag: it is the
baseline of every multi-objective comparison (Syne Tune's ``MORandomScalarizationBayesOpt``
aside, its multi-objective baselines are compared against plain random search).
"""
from __future__ import annotations

from methods.random_search import RandomSearch
from methods.registry import register

__all__ = ["MORandomSearch"]


@register("MORandomSearch")
class MORandomSearch(RandomSearch):
    """Random search over several metrics: ``metric`` a list (or ``"a,b"``), one ``mode`` each.

    Every argument and behaviour is ``RandomSearch``'s; only the objectives differ, so that a
    multi-objective study compares its methods against random search on the same metrics.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, uniform
        >>> rs = MORandomSearch(ConfigurationSpace({"x": uniform(0, 1)}), metric="acc,latency",
        ...                     mode="max,min", fidelity_values=[1, 9])
        >>> rs.metric, rs.mode, rs.suggest(0.0).max_fidelity
        (['acc', 'latency'], ['max', 'min'], 9)
    """

    multi_objective = True
