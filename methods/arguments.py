"""Checks of method and searcher arguments: each names the bad value and what is allowed.

Booleans must be booleans (a string "false" is not accepted as False), integers integers
(``True`` is not 1), numbers finite.

Example:
    >>> check_int("population_size", 50, low=2)
    50
    >>> check_int("population_size", 1, low=2)
    Traceback (most recent call last):
    ...
    methods.base.MethodError: population_size must be an integer >= 2, got 1
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Mapping

import numpy as np

from methods.base import MethodError

__all__ = ["check_int", "check_float", "check_bool", "check_choice", "check_keywords"]


def _range_text(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high}"
    return "any value"


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within ``[low, high]``."""
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if ok:
        v = int(value)
        ok = (low is None or v >= low) and (high is None or v <= high)
    if not ok:
        raise MethodError(f"{name} must be an integer {_range_text(low, high)}, got {value!r}")
    return v


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float within the range (bounds open when asked)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        raise MethodError(f"{name} must be a number {_range_text(low, high, low_open, high_open)}, got {value!r}")
    return v


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool: only ``True``/``False`` (and numpy's) are accepted."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise MethodError(f"{name} must be true or false (a boolean), got {value!r}")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise MethodError(f"{name} {value!r} is not valid; allowed: {allowed}")
    return value


def check_keywords(what: str, given: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Raise when ``given`` has keywords outside ``allowed``, with close-match hints."""
    allowed = sorted(allowed)
    bad = [k for k in given if k not in allowed]
    if not bad:
        return
    hints = []
    for k in bad:
        close = difflib.get_close_matches(k, allowed, n=1)
        if close:
            hints.append(f"{k!r} -> did you mean {close[0]!r}?")
    hint = (" " + "; ".join(hints)) if hints else ""
    raise MethodError(f"{what} does not take argument(s) {bad}; valid arguments: {allowed}.{hint}")
