"""Checks of method and searcher arguments: each names the bad value and what is allowed.

Booleans must be booleans: ``True``/``False``, or the words a command line or a YAML file
gives (``"true"``/``"false"``, ``"yes"``/``"no"``, ``"1"``/``"0"``, any case) and the integers 1/0;
any other value, e.g. the string ``"maybe"``, is an error (never "non-empty, so true").
Integers must be integers (``True`` is not 1), numbers finite, seeds in ``[0, 2**32 - 1]``.

Example:
    >>> check_int("population_size", 50, low=2)
    50
    >>> check_int("population_size", 1, low=2)
    Traceback (most recent call last):
    ...
    methods.errors.MethodError: population_size must be an integer >= 2, got 1
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from methods.errors import MethodError

__all__ = ["check_int", "check_float", "check_bool", "check_choice", "check_keywords", "check_seed",
           "SEED_MAX", "BOOL_WORDS"]

#: the largest seed accepted (numpy's and scikit-learn's seeds are 32-bit)
SEED_MAX = 2**32 - 1
#: the words accepted for a boolean argument (lower case)
BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


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
    """``value`` as a bool: ``True``/``False`` (numpy's too), a word of ``BOOL_WORDS`` (any
    case, e.g. ``"False"`` from ``--method-arg allow_duplicates=False``) or the integer 1/0.

    Example:
        >>> check_bool("allow_duplicates", "False"), check_bool("allow_duplicates", "YES")
        (False, True)
        >>> check_bool("allow_duplicates", "off")
        Traceback (most recent call last):
        ...
        methods.errors.MethodError: allow_duplicates must be a boolean: true or false (also yes/no, 1/0), got 'off'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in BOOL_WORDS:
        return BOOL_WORDS[value.strip().lower()]
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise MethodError(f"{name} must be a boolean: true or false (also yes/no, 1/0), got {value!r}")


def check_seed(name: str, value: Any, error: type[Exception] = MethodError) -> int:
    """``value`` as a seed: an integer in ``[0, SEED_MAX]``. ``name`` is what the message calls
    it: a parameter (``seed`` -> ``seed=-1``) or a command-line flag (``--seed`` -> ``--seed -1``).

    Example:
        >>> check_seed("--seed", -1)
        Traceback (most recent call last):
        ...
        methods.errors.MethodError: --seed -1 is not valid; a seed must be an integer in [0, 4294967295]
    """
    if not isinstance(value, bool) and isinstance(value, (int, np.integer)) and 0 <= value <= SEED_MAX:
        return int(value)
    shown = f"{name} {value!r}" if name.startswith("-") else f"{name}={value!r}"
    raise error(f"{shown} is not valid; a seed must be an integer in [0, {SEED_MAX}]")


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise MethodError(f"{name} {value!r} is not valid; allowed: {allowed}")
    return value


def check_keywords(what: str, given: Mapping[str, Any], allowed: Iterable[str], also: Sequence[str] = ()
                   ) -> None:
    """Raise when ``given`` has keywords outside ``allowed`` and ``also`` (accepted too, listed
    after the others, never hinted), with close-match hints."""
    allowed = sorted(allowed)
    bad = [k for k in given if k not in allowed and k not in also]
    if not bad:
        return
    hints = []
    for k in bad:
        close = difflib.get_close_matches(k, allowed, n=1)
        if close:
            hints.append(f"{k!r} -> did you mean {close[0]!r}?")
    hint = (" " + "; ".join(hints)) if hints else ""
    plus = f" plus {list(also)}" if also else ""
    raise MethodError(f"{what} does not take argument(s) {bad}; valid arguments: {allowed}{plus}.{hint}")
