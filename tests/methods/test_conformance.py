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
VARIANTS.update({
    "MOBSTER": [{"model": "independent"}, {"type": "promotion"}, {"type": "promotion", "model": "independent"}],
    "HyperTune": [{"model": "joint"}, {"type": "promotion", "brackets": 4}],
    "SyncMOBSTER": [{"model": "joint"}],
})

#: trials per run for the slow (Gaussian-process) methods; the others use the suite's default
GP_MAX_TRIALS = 20
#: trials per run for the GP methods with type="promotion" and the synchronous ones
GP_PROMOTION_MAX_TRIALS = 60


def _uses_a_gp(name: str, kwargs: dict[str, Any]) -> bool:
    return (name in ("BayesianOptimization", "MOBSTER", "SyncMOBSTER", "HyperTune")
            or kwargs.get("searcher") in ("bayesopt", "gp"))


def _class_name(name: str, kwargs: dict[str, Any]) -> str:
    return "Test" + name + "".join(f"_{k}_{v}" for k, v in kwargs.items())


def _cases() -> dict[str, type[SchedulerConformance]]:
    classes = {}
    for name in sorted(METHODS):
        for kwargs in [{}] + VARIANTS.get(name, []):
            attrs: dict[str, Any] = {"method": name, "method_args": kwargs, "__module__": __name__,
                                     "__doc__": f"{name} with {kwargs or 'its defaults'}."}
            if _uses_a_gp(name, kwargs):
                # promotion fills the rungs up to the top only with more trials (a third of them
                # reach rung 3, a ninth rung 9, ...; 30% of the synthetic configurations fail)
                attrs["max_trials"] = (GP_PROMOTION_MAX_TRIALS if kwargs.get("type") == "promotion"
                                       or name == "SyncMOBSTER" else GP_MAX_TRIALS)
            cls_name = _class_name(name, kwargs)
            classes[cls_name] = type(cls_name, (SchedulerConformance,), attrs)
    return classes


VARIANTS.update({"SyncBOHB": [{"brackets": 1}],
                 "AsyncBOHB": [{"type": "promotion"}, {"type": "promotion", "brackets": 3}]})
globals().update(_cases())

