"""Settings records built from plain dicts, with errors that name unknown keys.

Example:
    >>> import dataclasses
    >>> @dataclasses.dataclass
    ... class Pace:
    ...     speed: float = 1.0
    >>> from_mapping(Pace, {"speed": 2.0}, ValueError, "pace settings")
    Pace(speed=2.0)
    >>> from_mapping(Pace, {"sped": 2.0}, ValueError, "pace settings")
    Traceback (most recent call last):
    ...
    ValueError: unknown pace settings ['sped']; valid: ['speed']. 'sped' -> did you mean 'speed'?
"""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Mapping, TypeVar, cast

__all__ = ["from_mapping"]

T = TypeVar("T")


def from_mapping(cls: type[T], value: Mapping[str, Any], error: type[Exception], what: str) -> T:
    """``cls(**value)`` for a dataclass ``cls``; unknown keys raise ``error`` naming them, the
    valid ones and the closest match."""
    names = [f.name for f in dataclasses.fields(cast(Any, cls))]
    bad = [k for k in value if k not in names]
    if bad:
        hints = [f"{k!r} -> did you mean {c[0]!r}?" for k in bad
                 if (c := difflib.get_close_matches(str(k), names, n=1))]
        hint = (" " + "; ".join(hints)) if hints else ""
        raise error(f"unknown {what} {bad}; valid: {names}.{hint}")
    return cls(**dict(value))
