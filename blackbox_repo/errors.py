"""hposim's error model: one root, four kinds a user can catch, one exit code each.

Every package raises subclasses of these (``BlackboxError``, ``MethodError``,
``StudySpecError``, ...), so a caller can catch a *kind* without knowing which module
failed, and the command line maps each kind to one exit status:

=====================  =====  ===================================================
kind                   exit   meaning
=====================  =====  ===================================================
``InputError``         2      bad input: an argument, a spec, a table, a name
``ProtocolError``      1      a scheduler broke the scheduler protocol
``IntegrityError``     3      a file hposim wrote no longer matches its checksum
``StorageError``       4      storage or network unavailable (S3, downloads, locks)
=====================  =====  ===================================================

A regression found by ``hposim study compare`` exits with 1 too (see the README).
This module imports nothing, so every layer may import it.

Example:
    >>> from blackbox_repo.errors import HposimError, InputError, exit_code
    >>> class MyError(InputError):
    ...     pass
    >>> isinstance(MyError("bad"), (HposimError, ValueError)), exit_code(MyError("bad"))
    (True, 2)
"""
from __future__ import annotations

__all__ = ["HposimError", "InputError", "ProtocolError", "IntegrityError", "StorageError",
           "EXIT_REGRESSION", "EXIT_INPUT", "EXIT_INTEGRITY", "EXIT_STORAGE", "exit_code"]

EXIT_REGRESSION = 1
EXIT_INPUT = 2
EXIT_INTEGRITY = 3
EXIT_STORAGE = 4


class HposimError(Exception):
    """The root of every error hposim raises on purpose."""

    exit_code: int = 1


class InputError(HposimError, ValueError):
    """Bad input: the message names the value and what is allowed."""

    exit_code = EXIT_INPUT


class ProtocolError(HposimError, RuntimeError):
    """A scheduler (or searcher) broke the protocol: the message says which call and what it returned."""

    exit_code = 1


class IntegrityError(HposimError):
    """A file hposim wrote and trusts does not match its recorded checksum (or cannot be parsed)."""

    exit_code = EXIT_INTEGRITY


class StorageError(HposimError, OSError):
    """Storage or network unavailable: a bucket, a download source, a lock that cannot be taken."""

    exit_code = EXIT_STORAGE


def exit_code(error: BaseException) -> int:
    """The command-line exit status for ``error`` (1 for anything that is not an ``HposimError``)."""
    return error.exit_code if isinstance(error, HposimError) else 1
