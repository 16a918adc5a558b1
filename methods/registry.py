"""Methods by name: a plain dict ``METHODS`` name -> class, presets, and ``create``.

A name is a registered method or a preset (``methods.presets.PRESETS``: a method with fixed
arguments, e.g. ``ASHA6-STOP``). Names match exactly (a method before a preset); a name that
matches only when case is ignored is refused with a hint (``asha`` -> did you mean 'ASHA'?).

Example:
    >>> from methods import METHODS
    >>> "RandomSearch" in METHODS
    True
    >>> resolve_method("ASHA-PROM")[:2]
    ('ASHA', {'type': 'promotion', 'brackets': 1})
"""
from __future__ import annotations

import difflib
import functools
import inspect
from typing import Any, Callable, Sequence

from blackbox_repo.configspace import ConfigurationSpace, uniform
from methods.arguments import check_keywords
from methods.base import MethodError, Scheduler, check_objective_count, parse_objectives
from methods.presets import PRESETS, Preset
from methods.rungs import resolve_levels

__all__ = ["METHODS", "register", "create", "method_arguments", "resolve_method", "method_names",
           "multi_objective_methods", "check_objectives", "method_kind", "SINGLE_FIDELITY",
           "MULTI_FIDELITY"]

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
    """The keyword arguments method (or preset) ``name`` accepts besides the common ones; a
    preset's fixed arguments are not among them."""
    method, fixed, _ = resolve_method(name)
    params = inspect.signature(METHODS[method].__init__).parameters
    return [p for p in params if p not in ("self", "config_space", *COMMON_ARGUMENTS) and p not in fixed
            and params[p].kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]


def method_names() -> list[str]:
    """Every name ``create`` accepts: the registered methods, then the presets not named like one."""
    return list(METHODS) + [p for p in PRESETS if p not in METHODS]


def _unknown(name: Any) -> MethodError:
    names = method_names()
    folded = str(name).casefold()
    same = [n for n in names if n.casefold() == folded]
    if same:
        hint = " Did you mean " + " or ".join(repr(n) for n in same) + "? (names are case-sensitive)"
    else:
        close = difflib.get_close_matches(folded, [n.casefold() for n in names], n=1)
        hint = f" Did you mean {next(n for n in names if n.casefold() == close[0])!r}?" if close else ""
    return MethodError(f"unknown method {name!r}; registered methods: {sorted(METHODS, key=str.casefold)}; "
                       f"presets: {list(PRESETS)}.{hint}")


def resolve_method(name: str) -> tuple[str, dict[str, Any], Preset | None]:
    """``(method name, fixed arguments, preset or None)`` for a method or preset name (exact match,
    a method before a preset); an unknown name raises ``MethodError`` with the names and a hint."""
    if not isinstance(name, str):
        raise MethodError(f"a method name must be a string, got {name!r}")
    if name in METHODS:
        return name, {}, None
    preset = PRESETS.get(name)
    if preset is None:
        raise _unknown(name)
    if preset.method not in METHODS:
        raise MethodError(f"preset {name!r} stands for {preset.expansion()}, but method {preset.method!r} is "
                          f"not registered in this installation; registered methods: "
                          f"{sorted(METHODS, key=str.casefold)}")
    return preset.method, dict(preset.args), preset


SINGLE_FIDELITY = "single-fidelity"
MULTI_FIDELITY = "multi-fidelity"
_PROBE_LEVELS = [1, 3, 9, 27]


def _kind(cls: type[Scheduler]) -> str:
    space = ConfigurationSpace({"x": uniform(0.0, 1.0)})
    candidates = [{"x": 0.1}, {"x": 0.4}, {"x": 0.7}]
    try:
        metric = ["loss", "time"] if getattr(cls, "multi_objective", False) else "loss"
        probe = cls(space, metric=metric, fidelity_values=_PROBE_LEVELS, seed=0, candidates=candidates)
    except MethodError as e:
        raise MethodError(f"cannot tell the kind of method {cls.__name__}: it rejects the probe (one "
                          f"uniform hyperparameter, fidelities {_PROBE_LEVELS}, three candidates): {e}") from e
    levels = probe.report_levels()
    return SINGLE_FIDELITY if levels is not None and len(levels) == 0 else MULTI_FIDELITY


@functools.lru_cache(maxsize=None)
def method_kind(cls: type[Scheduler]) -> str:
    """``SINGLE_FIDELITY`` or ``MULTI_FIDELITY`` for a method class (probed once, then cached);
    ``MethodError`` if the probe is refused."""
    return _kind(cls)


def _is_multi_fidelity(cls: type[Scheduler]) -> bool | None:
    """True/False for a multi-/single-fidelity method (its ``method_kind``), None if unknown."""
    try:
        return method_kind(cls) == MULTI_FIDELITY
    except MethodError:
        return None


def _check_fidelities(name: str, method: str, kwargs: dict[str, Any], several: bool = False) -> None:
    """A multi-fidelity method needs more than one fidelity (checked when ``fidelity_values`` is given);
    ``several``: several metrics (the methods suggested instead take several)."""
    fidelities = kwargs.get("fidelity_values")
    if fidelities is None:
        return
    try:
        n = len(fidelities)
    except TypeError:
        return                                          # the scheduler reports the bad value
    if n == 1 and _is_multi_fidelity(METHODS[method]):
        what = f"preset {name!r} ({PRESETS[name].expansion()})" if name != method else f"method {name!r}"
        single = sorted(m for m, c in METHODS.items() if _is_multi_fidelity(c) is False
                        and (not several or getattr(c, "multi_objective", False) is not False))
        raise MethodError(
            f"{what} is multi-fidelity (it stops or pauses trials at rung levels), but there is a single "
            f"fidelity ({_plain(fidelities)!r}: a single-fidelity blackbox); use a single-fidelity method: "
            f"{single}")


def _check_brackets_fit(name: str, preset: Preset, kwargs: dict[str, Any]) -> None:
    """A preset fixing ``brackets`` needs that many rung levels; say what would fit."""
    brackets = preset.args.get("brackets")
    fidelities = kwargs.get("fidelity_values")
    if not isinstance(brackets, int) or brackets <= 1 or fidelities is None:
        return
    rf = kwargs.get("reduction_factor", 3)
    try:
        levels = resolve_levels(fidelities, kwargs.get("grace_period"), rf, kwargs.get("max_fidelity"))
    except MethodError:
        return                                          # the scheduler reports the bad value
    if brackets <= len(levels):
        return
    others = ", ".join(f"{k}={v!r}" for k, v in preset.args.items() if k != "brackets")
    grace = "" if kwargs.get("grace_period") is None else f", grace_period={kwargs['grace_period']!r}"
    raise MethodError(
        f"preset {name!r} ({preset.expansion()}) needs {brackets} brackets, but the fidelity grid "
        f"({len(fidelities)} levels up to {_plain(fidelities)[-1]!r}) with reduction_factor={rf!r}{grace} has "
        f"the rung levels {levels}: at most {len(levels)} brackets. What would fit: {preset.method} with "
        f"{others + ', ' if others else ''}brackets <= {len(levels)} (e.g. brackets={len(levels)})")


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
        methods.errors.MethodError: method 'MOASHA' is multi-objective: it needs at least two metrics ...
    """
    cls = METHODS[resolve_method(name)[0]]
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
    """Instantiate a registered method or preset, checking its arguments first.

    ``name``: a method or a preset (exact; see ``resolve_method``). A preset's fixed arguments
    are added (one given with another value is refused); a multi-fidelity method given a single
    fidelity in ``fidelity_values`` is refused (a single-fidelity blackbox), as is a preset whose
    fixed ``brackets`` the rung levels of ``fidelity_values`` do not allow (the message says what
    would fit). Every error is a ``MethodError`` (an ``InputError``) naming the value.

    Example:
        >>> from blackbox_repo.configspace import ConfigurationSpace, choice
        >>> create("RandomSearch", ConfigurationSpace({"a": choice([1, 2])}), metric="err").mode
        'min'
    """
    method, fixed, preset = resolve_method(name)
    cls = METHODS[method]
    for k, v in kwargs.items():
        if k in fixed and not _same(v, fixed[k]):
            assert preset is not None                   # only a preset fixes arguments
            raise MethodError(
                f"preset {name!r} ({preset.expansion()}) fixes {k}={fixed[k]!r}; it cannot be overridden "
                f"(got {k}={v!r}); use method {method!r} to choose {k}")
    if not isinstance(metric, str) or not isinstance(mode, str) or "," in metric + mode \
            or getattr(cls, "multi_objective", False) is not False:
        check_objectives(method, metric, mode)
    check_keywords(f"method {name!r}", kwargs, method_arguments(method), also=COMMON_ARGUMENTS)
    kwargs = {**kwargs, **fixed}
    several = isinstance(metric, (list, tuple)) and len(metric) > 1 or isinstance(metric, str) and "," in metric
    _check_fidelities(name, method, kwargs, several)
    if preset is None:
        return cls(config_space, metric=metric, mode=mode, **kwargs)
    _check_brackets_fit(name, preset, kwargs)
    try:
        return cls(config_space, metric=metric, mode=mode, **kwargs)
    except MethodError as e:
        raise MethodError(f"preset {name!r} ({preset.expansion()}): {e}") from None


def _plain(values: Any) -> list:
    """A sequence of fidelities as plain Python values (``np.int64(3)`` -> ``3``)."""
    return [v.item() if hasattr(v, "item") else v for v in values]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
