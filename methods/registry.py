"""Methods by name: a plain dict ``METHODS`` name -> class, and ``create``.

Example:
    >>> from methods import METHODS
    >>> "RandomSearch" in METHODS
    True
"""
from __future__ import annotations

import difflib
import inspect
from typing import Any, Callable, Sequence

from blackbox_repo.configspace import ConfigurationSpace
from methods.base import MethodError, Scheduler, check_objective_count, parse_objectives

__all__ = ["METHODS", "register", "create", "method_arguments", "multi_objective_methods", "check_objectives"]

METHODS: dict[str, type[Scheduler]] = {}

COMMON_ARGUMENTS = ("metric", "mode", "fidelity_values", "seed", "candidates")


def register(name: str) -> Callable[[type[Scheduler]], type[Scheduler]]:
    """Class decorator adding a scheduler to ``METHODS`` under ``name``."""

    def deco(cls: type[Scheduler]) -> type[Scheduler]:
        if name in METHODS and METHODS[name] is not cls:
            raise MethodError(f"method name {name!r} is already registered by {METHODS[name]!r}")
        METHODS[name] = cls
        return cls

    return deco


def method_arguments(name: str) -> list[str]:
    """The keyword arguments method ``name`` accepts besides the common ones."""
    cls = _lookup(name)
    params = inspect.signature(cls.__init__).parameters
    return [p for p in params if p not in ("self", "config_space", *COMMON_ARGUMENTS)
            and params[p].kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def _lookup(name: str) -> type[Scheduler]:
    try:
        return METHODS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(METHODS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise MethodError(
            f"unknown method {name!r}; registered methods: {sorted(METHODS)}.{hint}") from None


def multi_objective_methods() -> list[str]:
    """Names of the registered methods that optimize several metrics at once.

    Example:
        >>> {"MOASHA", "NSGA2"} <= set(multi_objective_methods())
        True
    """
    return sorted(n for n, cls in METHODS.items() if getattr(cls, "multi_objective", False))


def check_objectives(name: str, metric: Any, mode: Any = "min",
                     objectives: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """``parse_objectives(metric, mode)`` checked for method ``name``: as many metrics as the
    method optimizes (one, or at least two for a multi-objective method) and, when
    ``objectives`` (the blackbox's) are given, every metric among them. Errors name what is
    allowed (``MethodError``, an ``InputError``).

    Example:
        >>> check_objectives("MOASHA", "acc,latency", "max,min", objectives=["acc", "latency", "time"])
        (['acc', 'latency'], ['max', 'min'])
        >>> check_objectives("MOASHA", "acc", "max")         # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        methods.base.MethodError: method 'MOASHA' is multi-objective: it needs at least two metrics ...
    """
    cls = _lookup(name)
    metrics, modes = parse_objectives(metric, mode)
    multi = getattr(cls, "multi_objective", False)
    alternatives = [m for m in sorted(METHODS) if getattr(METHODS[m], "multi_objective", False) is not None
                    and bool(getattr(METHODS[m], "multi_objective", False)) != bool(multi)]
    check_objective_count(name, multi, metrics, alternatives[:12])
    if objectives is not None:
        names = list(objectives)
        for m in metrics:
            if m not in names:
                close = difflib.get_close_matches(m, names, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise MethodError(f"metric {m!r} is not an objective of this blackbox; objectives: {names}.{hint}")
    return metrics, modes


def create(name: str, config_space: ConfigurationSpace, *, metric: str | Sequence[str],
           mode: str | Sequence[str] = "min",
           **kwargs: Any) -> Scheduler:
    """Instantiate a registered method, checking its arguments first.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> create("RandomSearch", ConfigurationSpace({"a": choice([1, 2])}), metric="err").mode
        'min'
    """
    cls = _lookup(name)
    if not isinstance(metric, str) or not isinstance(mode, str) or "," in metric + mode \
            or getattr(cls, "multi_objective", False) is not False:
        check_objectives(name, metric, mode)
    allowed = method_arguments(name)
    bad = [k for k in kwargs if k not in allowed and k not in COMMON_ARGUMENTS]
    if bad:
        hints = []
        for k in bad:
            close = difflib.get_close_matches(k, allowed, n=1)
            if close:
                hints.append(f"{k!r} -> did you mean {close[0]!r}?")
        hint = (" " + "; ".join(hints)) if hints else ""
        raise MethodError(
            f"method {name!r} does not take argument(s) {bad}; valid arguments: "
            f"{sorted(allowed)} plus {list(COMMON_ARGUMENTS)}.{hint}")
    return cls(config_space, metric=metric, mode=mode, **kwargs)
