"""The ``hposim`` command line.

``main`` builds one argparse parser; each area of the project contributes its subcommands
through a module listed in ``SUBCOMMAND_MODULES`` that exposes ``register(subparsers)``.
A subcommand sets ``func`` (``args -> int``) with ``parser.set_defaults(func=...)``.

Errors never show a traceback (unless ``--debug``): they print one line
``hposim: error: <message>`` to stderr and exit with 2 for a usage error (bad or missing
arguments, raised as ``UsageError`` or by argparse) or 1 for a runtime error.

Example:
    >>> main(["blackbox", "list"])      # doctest: +SKIP
    0
"""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import Sequence

__all__ = ["main", "build_parser", "SUBCOMMAND_MODULES", "UsageError", "CommandError",
           "EXIT_RUNTIME", "EXIT_USAGE"]

#: modules that each add subcommands with ``register(subparsers)``
SUBCOMMAND_MODULES: tuple[str, ...] = ("studies.cli_blackbox", "studies.cli_simulate", "studies.cli_study",
                                        "studies.cli_methods", "studies.cli_benchmark")

EXIT_RUNTIME = 1
EXIT_USAGE = 2
PROG = "hposim"


class UsageError(Exception):
    """The command line is wrong (exit status 2)."""


class CommandError(Exception):
    """The command could not be carried out (exit status 1)."""


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
    if usage:
        sys.stderr.write(usage)
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hposim`` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    if debug:
        argv.insert(0, "--debug")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as e:
        return _fail(str(e), EXIT_USAGE, e.usage)
    except SystemExit as e:        # --help and --version exit through argparse
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_RUNTIME)
    except UsageError as e:
        if debug:
            traceback.print_exc()
        return _fail(str(e), EXIT_USAGE)
    except Exception as e:  # noqa: BLE001 - every error becomes one line (traceback with --debug)
        if debug:
            traceback.print_exc()
        message = str(e) or type(e).__name__
        if not isinstance(e, (CommandError, ValueError, LookupError, OSError)):
            message = f"{type(e).__name__}: {message}"
        return _fail(message, EXIT_RUNTIME)


if __name__ == "__main__":
    sys.exit(main())
