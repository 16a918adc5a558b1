"""The ``hposim`` command line.

``main`` builds one argparse parser; each area of the project contributes its subcommands
through a module listed in ``SUBCOMMAND_MODULES`` that exposes ``register(subparsers)``.
A subcommand sets ``func`` (``args -> int``) with ``parser.set_defaults(func=...)``.

Errors never show a traceback (unless ``--debug``): they print one line
``hposim: error: <message>`` to stderr and exit with the status of their kind in
``blackbox_repo.errors`` (the README's exit-status table):

====  ==========================================================================
0     success (``study compare``: the candidate is not worse)
1     a comparison found a regression, a run failed, a scheduler broke the protocol
      (``ProtocolError``), or an unexpected error
2     bad input: arguments (argparse usage errors, ``UsageError``), specs, tables,
      names (``InputError``)
3     integrity: a file hposim wrote no longer matches its checksum (``IntegrityError``)
4     storage or network unavailable (``StorageError``)
130   interrupted (Ctrl-C)
141   the output pipe was closed (``hposim ... | head``), like a shell's SIGPIPE
====  ==========================================================================

Example:
    >>> main(["blackbox", "list"])      # doctest: +SKIP
    0
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from typing import Sequence

from blackbox_repo.errors import EXIT_INPUT, HposimError, exit_code
from studies.cli_errors import CommandError, UsageError

__all__ = ["main", "build_parser", "SUBCOMMAND_MODULES", "UsageError", "CommandError",
           "EXIT_RUNTIME", "EXIT_USAGE", "EXIT_INTERRUPTED", "EXIT_BROKEN_PIPE"]

#: modules that each add subcommands with ``register(subparsers)``
SUBCOMMAND_MODULES: tuple[str, ...] = ("studies.cli_blackbox", "studies.cli_simulate", "studies.cli_study",
                                        "studies.cli_methods", "studies.cli_benchmark")

EXIT_RUNTIME = 1
EXIT_USAGE = EXIT_INPUT
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141      # 128 + SIGPIPE, what a shell reports for ``cmd | head``
PROG = "hposim"


class _ArgumentError(Exception):
    def __init__(self, message: str, usage: str):
        super().__init__(message)
        self.usage = usage


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are raised, so ``main`` prints them uniformly."""

    def error(self, message: str):  # type: ignore[override]
        raise _ArgumentError(message, self.format_usage())


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Simulation-first benchmarking of hyperparameter optimization on tabulated "
                    "benchmarks.",
        epilog="Run 'hposim <command> --help' for the options of a command.")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", parser_class=Parser)
    subparsers.required = True
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def _fail(message: str, code: int, usage: str | None = None) -> int:
    try:
        if usage:
            sys.stderr.write(usage)
        sys.stderr.write(f"{PROG}: error: {message}\n")
    except BrokenPipeError:    # stderr is a closed pipe too: the exit status says it
        pass
    return code


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    """Warnings on the command line: one line ``hposim: warning: ...`` (no source location)."""
    return f"{PROG}: warning: {message}\n"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into a closed pipe is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests capture it): nothing to flush
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hposim`` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if debug:
        argv.insert(0, "--debug")
    warnings.formatwarning = _format_warning
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as e:
        return _fail(str(e), EXIT_USAGE, e.usage)
    except SystemExit as e:        # --help and --version exit through argparse
        return int(e.code or 0)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()         # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:        # ``hposim ... | head``: the reader has all it wanted
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as e:  # noqa: BLE001 - every error becomes one line (traceback with --debug)
        if debug:
            traceback.print_exc()
        message = str(e) or type(e).__name__
        if not isinstance(e, (HposimError, ValueError, LookupError, OSError)):
            message = f"{type(e).__name__}: {message}"
        return _fail(message, exit_code(e))


if __name__ == "__main__":
    sys.exit(main())
