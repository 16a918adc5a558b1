"""``MethodError``: bad arguments to a method, the leaf every module of ``methods`` may import.

It is defined here, below ``methods.base`` and ``methods.arguments`` (which both raise it), and
re-exported by ``methods.base`` and ``methods``.

Example:
    >>> from blackbox_repo.errors import InputError
    >>> issubclass(MethodError, InputError)
    True
"""
from __future__ import annotations

from blackbox_repo.errors import InputError

__all__ = ["MethodError"]


class MethodError(InputError):
    """Bad arguments to a method (an ``InputError``: exit status 2 on the command line)."""
