"""``hposim methods`` / ``hposim method list|info|searchers`` / ``hposim searchers``: what can be run.

Example (shell)::

    hposim methods                    # every method: kind, description, paper, arguments=defaults;
                                      # then the presets (ASHA6-STOP, BOHB, ...) and what each expands to
    hposim method info ASHA           # one method in full: docstring, arguments, searchers
    hposim method info ASHA6-STOP     # a preset: its fixed arguments, then its method in full
    hposim searchers                  # every searcher (what to try next), for searcher=NAME

Everything shown comes from ``methods.catalog`` (the classes' docstrings, ``paper``
attributes and constructor signatures). An unknown name is a usage error (exit status 2)
naming the registered names and the closest one.
"""
from __future__ import annotations

import argparse
import inspect
import shutil
import textwrap
from typing import Any, Sequence

from studies.cli_errors import UsageError

__all__ = ["register", "methods_text", "presets_text", "searchers_text", "info_text", "cmd_methods",
           "cmd_searchers", "cmd_info"]

_INDENT = 4


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = "Every registered HPO method: its kind, a one-line description, its paper and its arguments " \
              "with their defaults."
    searchers = "Every registered searcher (what a scheduler tries next), for a method's searcher=NAME."
    p = subparsers.add_parser("methods", help="list the HPO methods and their arguments", description=listing)
    p.set_defaults(func=cmd_methods)
    p = subparsers.add_parser("searchers", help="list the searchers a method can take (searcher=NAME)",
                              description=searchers)
    p.set_defaults(func=cmd_searchers)

    p = subparsers.add_parser("method", help="list the HPO methods or show one in full",
                              description="List the registered HPO methods and searchers, or show one in full.")
    sub = p.add_subparsers(dest="method_command", metavar="<subcommand>")
    sub.required = True
    ls = sub.add_parser("list", help="every method (same as 'hposim methods')", description=listing)
    ls.set_defaults(func=cmd_methods)
    info = sub.add_parser("info", help="one method (or searcher) in full",
                          description="Show one method in full: description, paper, arguments with their "
                                      "defaults, the searchers it accepts, and its documentation. A searcher "
                                      "name shows that searcher (names match exactly first, then "
                                      "case-insensitively: TPE is the method, tpe the searcher).")
    info.add_argument("name", metavar="NAME", help="method or searcher name (case-insensitive)")
    info.set_defaults(func=cmd_info)
    se = sub.add_parser("searchers", help="every searcher (same as 'hposim searchers')", description=searchers)
    se.set_defaults(func=cmd_searchers)


# ---------------------------------------------------------------------------- formatting
def _plain(text: str) -> str:
    """reST literals shown plainly: ````x```` -> ``x``."""
    return text.replace("``", "")


def _width() -> int:
    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))


def _wrap(label: str, text: str, indent: int, width: int) -> list[str]:
    lead = " " * indent
    return textwrap.wrap(text, width=width, initial_indent=f"{lead}{label}",
                         subsequent_indent=lead + " " * len(label), break_on_hyphens=False) or [f"{lead}{label}"]


def _default_text(value: Any) -> str:
    return "(required)" if value is inspect.Parameter.empty else repr(value)


def _common_text() -> str:
    from methods.catalog import common_arguments

    return ", ".join(f"{k} (required)" if v is inspect.Parameter.empty else f"{k}={v!r}"
                     for k, v in common_arguments().items())


def _listing(infos: Sequence[Any], width: int) -> list[str]:
    name_w = max(len(", ".join(i.names)) for i in infos)
    kind_w = max(len(i.kind) for i in infos)
    head = f"{'NAME':<{name_w}}  {'KIND':<{kind_w}}  DESCRIPTION"
    lines = [head]
    for info in infos:
        label = f"{', '.join(info.names):<{name_w}}  {info.kind:<{kind_w}}  "
        lines += textwrap.wrap(_plain(info.summary), width=width, initial_indent=label,
                               subsequent_indent=" " * len(label))
        lines += _wrap("paper: ", info.paper or "(none given)", _INDENT, width)
        lines += _wrap("arguments: ", info.arguments_text() or "(none besides the common ones)", _INDENT, width)
    return lines


def methods_text(width: int | None = None) -> str:
    """The ``hposim methods`` listing.

    Example:
        >>> lines = methods_text(width=100).splitlines()
        >>> lines[0].split(), next(line for line in lines if line.startswith("ASHA ")).split()[:3]
        (['NAME', 'KIND', 'DESCRIPTION'], ['ASHA', 'multi-fidelity', 'Asynchronous'])
    """
    from methods.catalog import all_methods

    width = width or _width()
    lines = _listing(all_methods(), width)
    lines.append("")
    lines += _wrap("", f"Common arguments of every method (set by 'hposim simulate' and studies from the "
                       f"blackbox and the run): {_common_text()}.", 0, width)
    lines += _wrap("", "Methods with a searcher= argument take any searcher ('hposim searchers'), e.g. "
                       "--method ASHA --method-arg searcher=tpe. 'hposim method info NAME' shows a method in "
                       "full; docs/methods.md has the table.", 0, width)
    lines.append("")
    lines += presets_text(width).splitlines()
    return "\n".join(lines)


def presets_text(width: int | None = None) -> str:
    """The presets part of ``hposim methods``: each preset and what it expands to.

    Example:
        >>> lines = presets_text(width=100).splitlines()
        >>> lines[0].split()[:3], next(line for line in lines if line.startswith("ASHA6-STOP ")).split()
        (['PRESET', 'EXPANDS', 'TO'], ['ASHA6-STOP', 'ASHA(type=stopping,', 'brackets=6)'])
    """
    from methods.catalog import all_presets
    from methods.presets import SOURCE

    width = width or _width()
    presets = all_presets()
    name_w = max(len(p.name) for p in presets)
    lines = [f"{'PRESET':<{name_w}}  EXPANDS TO (then what it is)"]
    for p in presets:
        lines.append(f"{p.name:<{name_w}}  {p.expansion.replace(chr(39), '')}")
        text = p.description + ("" if p.available else f" [{p.method} is not registered here]")
        lines += textwrap.wrap(text, width=width, initial_indent=" " * (name_w + 2 + _INDENT),
                               subsequent_indent=" " * (name_w + 2 + _INDENT))
    lines.append("")
    lines += _wrap("", f"A preset is a method with fixed arguments, usable wherever a method name is "
                       f"(--method ASHA6-STOP, a study spec's method: BOHB); names and meanings from {SOURCE}. "
                       f"Other arguments may be set (--method-arg grace_period=3); fixed ones cannot be "
                       f"changed.", 0, width)
    return "\n".join(lines)


def searchers_text(width: int | None = None) -> str:
    """The ``hposim searchers`` listing.

    Example:
        >>> lines = searchers_text(width=100).splitlines()
        >>> next(line for line in lines if line.startswith("random ")).split()[:3]
        ['random', 'searcher', 'Configurations']
    """
    from methods.catalog import all_searchers

    width = width or _width()
    lines = _listing(all_searchers(), width)
    lines.append("")
    lines += _wrap("", "A searcher is chosen with a method's searcher= argument, its own arguments with "
                       "searcher_args=, e.g. --method ASHA --method-arg searcher=tpe --method-arg "
                       "'searcher_args={\"allow_duplicates\": true}', or in a study spec {method: ASHA, "
                       "searcher: tpe}. Names are case-insensitive; aliases are listed together.", 0, width)
    return "\n".join(lines)


def _arguments_block(arguments: dict[str, Any]) -> list[str]:
    if not arguments:
        return [" " * _INDENT + "(none besides the common ones)"]
    w = max(len(k) for k in arguments)
    return [f"{' ' * _INDENT}{k:<{w}} = {_default_text(v)}" for k, v in arguments.items()]


def info_text(name: str, width: int | None = None) -> str:
    """``hposim method info NAME``: a method (or, failing that, a searcher) in full.

    Example:
        >>> print(info_text("randomsearch", width=100))      # doctest: +ELLIPSIS
        RandomSearch: single-fidelity method (methods.random_search.RandomSearch)
        Random search: new configurations drawn uniformly, each run to the largest fidelity.
        <BLANKLINE>
        paper: Bergstra & Bengio 2012, Random Search for Hyper-Parameter Optimization (JMLR)
        ...
        arguments (= defaults):
            allow_duplicates = False
        ...
    """
    from methods.catalog import PresetInfo, all_searchers, describe_any

    width = width or _width()
    info = describe_any(name)
    if isinstance(info, PresetInfo):
        return _preset_info_text(info, width)
    what = "searcher" if info.kind == "searcher" else "method"
    lines = [f"{', '.join(info.names)}: {info.kind}{' ' + what if what == 'method' else ''} ({info.class_path})"]
    lines += textwrap.wrap(_plain(info.summary), width=width)
    lines.append("")
    lines += _wrap("paper: ", info.paper or "(none given)", 0, width)
    lines += _wrap("defaults follow: ", _plain(info.reference) or "(not stated in the docstring)", 0, width)
    lines.append("")
    lines.append("arguments (= defaults):")
    lines += _arguments_block(info.arguments)
    if what == "method":
        lines += _wrap("common arguments: ", _common_text(), 0, width)
    if info.takes_searcher:
        lines.append("")
        lines.append("searchers (searcher=NAME, their arguments as searcher_args={...}):")
        searchers = all_searchers()
        w = max(len(", ".join(s.names)) for s in searchers)
        for s in searchers:
            label = f"{' ' * _INDENT}{', '.join(s.names):<{w}}  "
            lines += textwrap.wrap(_plain(s.summary), width=width, initial_indent=label,
                                   subsequent_indent=" " * len(label))
        lines.append(f"e.g. hposim simulate ... --method {info.name} --method-arg searcher=tpe")
        lines.append(f"     study spec: {info.name}-TPE: {{method: {info.name}, searcher: tpe}}")
    elif what == "searcher":
        lines.append("")
        lines += _wrap("", f"Used through a method's searcher= argument, e.g. --method ASHA --method-arg "
                           f"searcher={info.name}; its arguments go in searcher_args={{...}}.", 0, width)
    lines.append("")
    lines.append("documentation:")
    lines += [(" " * _INDENT + line).rstrip() for line in info.doc.splitlines()]
    return "\n".join(lines)


def _preset_info_text(preset: Any, width: int) -> str:
    """A preset: what it expands to, then its method in full (if registered)."""
    lines = [f"{preset.name}: preset = {preset.expansion}"]
    lines += textwrap.wrap(preset.description, width=width)
    lines += _wrap("", "Its fixed arguments cannot be changed; every other argument of the method may be "
                       "set (--method-arg KEY=VALUE, or in a study spec).", 0, width)
    lines.append("")
    if not preset.available:
        lines.append(f"method {preset.method} is not registered in this installation.")
        return "\n".join(lines)
    return "\n".join(lines) + "\n" + info_text(preset.method, width)


# ---------------------------------------------------------------------------- commands
def cmd_methods(args: argparse.Namespace) -> int:
    print(methods_text())
    return 0


def cmd_searchers(args: argparse.Namespace) -> int:
    print(searchers_text())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from methods.base import MethodError

    try:
        text = info_text(args.name)
    except MethodError as e:      # an unknown name is a usage error
        raise UsageError(str(e)) from None
    print(text)
    return 0
