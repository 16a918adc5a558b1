"""Labels: the names of studies, methods and benchmarks, which become folder names.

A label starts with a letter or a digit and holds letters, digits and ``_ . + = -`` only, so it
is one safe path component on every filesystem and object store.

Example:
    >>> label_problem("method", "ASHA-stop") is None
    True
    >>> label_problem("benchmark", "../x")
    "benchmark label '../x' is not valid: use letters, digits and _ . + = - (it becomes a folder name; it must not start with '.', '_' or '-')"
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["LABEL", "label_problem"]

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=-]*$")


def label_problem(kind: str, label: Any) -> str | None:
    """Why ``label`` cannot name a ``kind`` (study, method, benchmark), or None when it can."""
    if isinstance(label, str) and LABEL.match(label):
        return None
    return (f"{kind} label {label!r} is not valid: use letters, digits and _ . + = - "
            f"(it becomes a folder name; it must not start with '.', '_' or '-')")
