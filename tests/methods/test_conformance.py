"""Conformance suite: every registered method (and some argument variants) passes
``methods.testing.SchedulerConformance``.

One ``Test<Method>[_<variant>]`` class per case is generated from ``METHODS``, so methods
registered later run here automatically. The checks drive ``simulator.simulate`` on the suite's
synthetic table (see ``methods.testing``).
"""
from __future__ import annotations

from typing import Any

from methods import METHODS
from methods.testing import SchedulerConformance

#: extra argument sets for methods with several behaviours; every method also runs with {}
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "ASHA": [{"type": "promotion"}, {"brackets": 3}, {"type": "promotion", "brackets": 4},
             {"searcher": "tpe"}, {"searcher": "rea"}, {"searcher": "bayesopt"}],
    "SyncHyperband": [{"brackets": 2}, {"searcher": "tpe"}, {"searcher": "rea"}],
    "RandomSearch": [{"allow_duplicates": True}],
    "MOASHA": [{"tie_break": "hypervolume"}, {"tie_break": "crowding"}, {"brackets": 3}, {"searcher": "morea"}],
    "MOREA": [{"tie_break": "crowding"}],
}

#: trials per run for the slow (Gaussian-process) methods; the others use the suite's default
GP_MAX_TRIALS = 20


def _uses_a_gp(name: str, kwargs: dict[str, Any]) -> bool:
    return name == "BayesianOptimization" or kwargs.get("searcher") in ("bayesopt", "gp")


def _class_name(name: str, kwargs: dict[str, Any]) -> str:
    return "Test" + name + "".join(f"_{k}_{v}" for k, v in kwargs.items())


def _cases() -> dict[str, type[SchedulerConformance]]:
    classes = {}
    for name in sorted(METHODS):
        for kwargs in [{}] + VARIANTS.get(name, []):
            attrs: dict[str, Any] = {"method": name, "method_args": kwargs, "__module__": __name__,
                                     "__doc__": f"{name} with {kwargs or 'its defaults'}."}
            if _uses_a_gp(name, kwargs):
                attrs["max_trials"] = GP_MAX_TRIALS
            cls_name = _class_name(name, kwargs)
            classes[cls_name] = type(cls_name, (SchedulerConformance,), attrs)
    return classes


globals().update(_cases())

