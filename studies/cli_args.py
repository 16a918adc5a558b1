"""Command-line values shared by the subcommands: repeatable ``KEY=VALUE`` flags.

Example:
    >>> key_values(["reduction_factor=3", "type=stopping", "levels=[1, 3]"], "--method-arg", "reduction_factor=3")
    {'reduction_factor': 3, 'type': 'stopping', 'levels': [1, 3]}
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from studies.cli_errors import UsageError

__all__ = ["key_values"]


def key_values(items: Sequence[str], flag: str, example: str) -> dict[str, Any]:
    """The ``KEY=VALUE`` strings given with ``flag`` as a dict; a VALUE is parsed as JSON when it
    can be (numbers, lists, ``true``), else kept as text. A malformed item or a key given twice is
    a ``UsageError`` naming the flag (``example`` shows a valid item)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"{flag} {item!r} is not KEY=VALUE (e.g. {flag} {example})")
        if key in out:
            raise UsageError(f"{flag} {key!r} is given twice")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out
