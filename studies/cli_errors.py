"""The errors of the ``hposim`` command line, imported by ``studies.cli`` and its subcommand
modules (``studies.cli_*``), which ``studies.cli`` loads: defined here, below both.

Example:
    >>> from blackbox_repo.errors import exit_code
    >>> exit_code(UsageError("--jobs must be a positive integer")), exit_code(CommandError("failed"))
    (2, 1)
"""
from __future__ import annotations

from blackbox_repo.errors import HposimError, InputError

__all__ = ["UsageError", "CommandError"]


class UsageError(InputError):
    """The command line is wrong (exit status 2)."""


class CommandError(HposimError):
    """The command could not be carried out (exit status 1)."""
