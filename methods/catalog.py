"""What every registered method and searcher is: for ``hposim methods`` and ``docs/methods.md``.

Everything is read from the classes themselves, so the listing cannot drift from the code:

- the one-line description is the first line of the class docstring, the full docstring
  follows it;
- the paper is the class attribute ``paper``;
- the arguments and their defaults come from the constructor's signature
  (``inspect.signature``); the arguments every method shares (``COMMON_ARGUMENTS``:
  ``metric``, ``mode``, ``fidelity_values``, ``seed``, ``candidates``, filled in by
  ``hposim simulate`` and studies) are listed once, by ``common_arguments()``;
- the reference implementation is read from the docstring's "Defaults follow <reference> ..."
  (or "defaults of <reference>"): the text up to the first parenthesis, comma, colon, semicolon
  or full stop;
- the kind is derived from what the scheduler asks of the simulator: a probe instance on a
  one-hyperparameter space with fidelities 1, 3, 9, 27 is asked ``report_levels()``; ``[]``
  (it sees a trial's report only when the trial ends, so it can neither stop nor pause it
  early) is a *single-fidelity* method, anything else (rung levels, or ``None`` for every
  level) a *multi-fidelity* one. Searchers are of kind *searcher*;
- the searchers a method accepts: every registered searcher if its constructor takes
  ``searcher=``, none otherwise.

Searchers registered under several names (aliases) are one entry listing all its names.
Presets (``methods.presets``: a method with fixed arguments, e.g. ``ASHA6-STOP``) are listed by
``all_presets()`` with what each expands to and its method's kind, in a table of their own.

The table of ``docs/methods.md`` is generated; regenerate it with
``python -m methods.catalog --write docs/methods.md`` (``python -m methods.catalog`` prints it).

Example:
    >>> info = describe("randomsearch")
    >>> info.name, info.kind, info.arguments
    ('RandomSearch', 'single-fidelity', {'allow_duplicates': False})
    >>> describe("ASHA").kind, "random" in describe("ASHA").searchers
    ('multi-fidelity', True)
"""
from __future__ import annotations

import argparse
import difflib
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from methods.base import MethodError, Scheduler
from methods.presets import PRESETS, SOURCE as PRESETS_SOURCE, Preset
from methods.registry import COMMON_ARGUMENTS, METHODS, MULTI_FIDELITY, SINGLE_FIDELITY, method_kind
from methods.searcher import SEARCHERS, Searcher, searcher_arguments

__all__ = ["MethodInfo", "PresetInfo", "all_presets", "describe_preset", "method_kind", "SINGLE_FIDELITY",
           "MULTI_FIDELITY", "SEARCHER", "describe", "describe_searcher",
           "describe_any", "all_methods", "all_searchers", "common_arguments", "markdown_table", "TABLE_BEGIN",
           "TABLE_END", "replace_table", "main"]

SEARCHER = "searcher"
_KIND_ORDER = {SINGLE_FIDELITY: 0, MULTI_FIDELITY: 1, SEARCHER: 2}

#: the markers around the generated table in docs/methods.md
TABLE_BEGIN = "<!-- BEGIN GENERATED TABLE: python -m methods.catalog --write docs/methods.md -->"
TABLE_END = "<!-- END GENERATED TABLE -->"

_REFERENCE = re.compile(r"[Dd]efaults (?:follow|of)\s+(.+?)(?:\s\(|[),;:]|\.\s|\.$)", re.DOTALL)


@dataclass(frozen=True)
class MethodInfo:
    """A registered method or searcher as users see it.

    ``names`` holds every registered name (aliases of a searcher; the one name of a method),
    ``name`` the first; ``arguments`` maps each constructor argument (besides the common
    ones) to its default; ``searchers`` the searcher names the method accepts as ``searcher=``.

    Example:
        >>> info = describe_searcher("RANDOM")
        >>> info.names, info.kind, info.arguments_text()
        (('random',), 'searcher', 'allow_duplicates=False')
    """

    name: str
    names: tuple[str, ...]
    kind: str
    summary: str
    paper: str
    reference: str
    arguments: dict[str, Any] = field(hash=False)
    doc: str
    class_path: str
    searchers: tuple[str, ...] = ()
    #: True for a method (or searcher) that optimizes several metrics at once
    multi_objective: bool = False

    @property
    def takes_searcher(self) -> bool:
        """True for a method that takes ``searcher=`` (and ``searcher_args=``)."""
        return bool(self.searchers)

    def arguments_text(self, separator: str = ", ") -> str:
        """``name=default`` for every argument (defaults as Python literals)."""
        return separator.join(f"{k}={v!r}" for k, v in self.arguments.items())


def _docstring(cls: type) -> str:
    # the class's own docstring (inspect.getdoc would fall back to a base class's)
    return inspect.cleandoc(cls.__dict__.get("__doc__") or "")


def _reference(doc: str) -> str:
    match = _REFERENCE.search(doc)
    return " ".join(match.group(1).split()) if match else ""


def _method_arguments(cls: type[Any]) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params
            if p.name not in ("self", "config_space", *COMMON_ARGUMENTS)
            and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _searcher_names(multi_objective: bool = False) -> tuple[str, ...]:
    """Every registered searcher name; for a multi-objective method only those that rank several
    metrics (or ignore them)."""
    return tuple(name for info in all_searchers() for name in info.names
                 if not multi_objective or SEARCHERS[name].multi_objective or not SEARCHERS[name].uses_observations)


def _method_info(name: str, cls: type[Scheduler]) -> MethodInfo:
    doc = _docstring(cls)
    arguments = _method_arguments(cls)
    return MethodInfo(name=name, names=(name,), kind=method_kind(cls), summary=doc.split("\n", 1)[0],
                      paper=cls.paper, reference=_reference(doc), arguments=arguments, doc=doc,
                      class_path=f"{cls.__module__}.{cls.__qualname__}",
                      searchers=(_searcher_names(bool(getattr(cls, "multi_objective", False)))
                                 if "searcher" in arguments else ()),
                      multi_objective=bool(getattr(cls, "multi_objective", False)))


def _searcher_info(cls: type[Searcher]) -> MethodInfo:
    doc = _docstring(cls)
    return MethodInfo(name=cls.names[0], names=tuple(cls.names), kind=SEARCHER, summary=doc.split("\n", 1)[0],
                      paper=cls.paper, reference=_reference(doc), arguments=searcher_arguments(cls), doc=doc,
                      class_path=f"{cls.__module__}.{cls.__qualname__}",
                      multi_objective=bool(getattr(cls, "multi_objective", False)))


def _find(name: str, names: Sequence[str], what: str) -> str:
    if not isinstance(name, str):
        raise MethodError(f"a {what} name must be a string, got {name!r}; registered {what}s: {sorted(names)}")
    if name in names:
        return name
    folded = {n.casefold(): n for n in names}
    if name.casefold() in folded:
        return folded[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1)
    hint = f" Did you mean {folded[close[0]]!r}?" if close else ""
    raise MethodError(f"unknown {what} {name!r}; registered {what}s: {sorted(names, key=str.casefold)}.{hint}")


@dataclass(frozen=True)
class PresetInfo:
    """A preset as users see it: its name, what it expands to and whether its method is registered.

    Example:
        >>> info = describe_preset("asha6-stop")
        >>> info.name, info.expansion, info.kind
        ('ASHA6-STOP', "ASHA(type='stopping', brackets=6)", 'multi-fidelity')
    """

    name: str
    method: str
    args: dict[str, Any] = field(hash=False)
    expansion: str
    description: str
    #: the method's kind, or "" when the method is not registered in this installation
    kind: str

    @property
    def available(self) -> bool:
        return self.method in METHODS


def _preset_info(preset: Preset) -> PresetInfo:
    cls = METHODS.get(preset.method)
    return PresetInfo(name=preset.name, method=preset.method, args=dict(preset.args),
                      expansion=preset.expansion(), description=preset.description,
                      kind=method_kind(cls) if cls is not None else "")


def all_presets() -> list[PresetInfo]:
    """Every preset, in the order of Syne Tune's tutorial."""
    return [_preset_info(p) for p in PRESETS.values()]


def describe_preset(name: str) -> PresetInfo:
    """The preset ``name`` (case-insensitive)."""
    return _preset_info(PRESETS[_find(name, list(PRESETS), "preset")])


def describe(name: str) -> MethodInfo:
    """The registered method ``name`` (case-insensitive; an unknown name raises ``MethodError``
    with the registered names and the closest one)."""
    found = _find(name, list(METHODS), "method")
    return _method_info(found, METHODS[found])


def describe_searcher(name: str) -> MethodInfo:
    """The searcher registered as ``name`` (any of its aliases, case-insensitive)."""
    return _searcher_info(SEARCHERS[_find(name, list(SEARCHERS), "searcher")])


def describe_any(name: str) -> MethodInfo | PresetInfo:
    """The method or searcher ``name``: an exact name first (method, then searcher), then the
    same case-insensitively, so ``"TPE"`` is the method and ``"tpe"`` the searcher. An unknown
    name raises ``MethodError`` listing the methods and the searchers, with the closest name.

    Example:
        >>> describe_any("RandomSearch").kind, describe_any("Random").kind
        ('single-fidelity', 'searcher')
    """
    if name in METHODS:
        return describe(name)
    if name in SEARCHERS:
        return describe_searcher(name)
    if name in PRESETS:
        return describe_preset(name)
    for lookup in (describe, describe_searcher, describe_preset):
        try:
            return lookup(name)
        except MethodError:
            pass
    names = list(METHODS) + list(SEARCHERS) + list(PRESETS)
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(str(name).casefold(), list(folded), n=1)
    hint = f" Did you mean {folded[close[0]]!r}?" if close else ""
    raise MethodError(f"unknown method or searcher {name!r} (nor a preset); registered methods: "
                      f"{sorted(METHODS, key=str.casefold)}; searchers: {sorted(SEARCHERS)}; presets: "
                      f"{list(PRESETS)}.{hint}")


def all_methods() -> list[MethodInfo]:
    """Every registered method: single-fidelity ones first, then by name."""
    infos = [_method_info(name, cls) for name, cls in METHODS.items()]
    return sorted(infos, key=lambda i: (_KIND_ORDER[i.kind], i.name.casefold()))


def all_searchers() -> list[MethodInfo]:
    """Every registered searcher class once (its aliases in ``names``), in registration order."""
    classes = list(dict.fromkeys(SEARCHERS.values()))
    return [_searcher_info(cls) for cls in classes]


def common_arguments() -> dict[str, Any]:
    """The arguments every method takes, with their defaults (``inspect.Parameter.empty`` for
    the required ``metric``)."""
    params = inspect.signature(Scheduler.__init__).parameters
    return {name: params[name].default for name in COMMON_ARGUMENTS}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else "—"


def markdown_table() -> str:
    """The table of ``docs/methods.md``: every method, then every searcher (with its aliases)."""
    lines = ["| name | kind | paper | arguments = defaults | defaults follow |",
             "| --- | --- | --- | --- | --- |"]
    for info in all_methods() + all_searchers():
        name = ", ".join(f"`{n}`" for n in info.names)
        arguments = "<br>".join(f"`{k}={v!r}`" for k, v in info.arguments.items())
        kind = f"{info.kind}, multi-objective" if info.multi_objective else info.kind
        lines.append(f"| {name} | {kind} | {_cell(info.paper)} | {_cell(arguments)} | "
                     f"{_cell(info.reference.replace('``', '`'))} |")
    common = ", ".join(f"`{k}`" if v is inspect.Parameter.empty else f"`{k}={v!r}`"
                       for k, v in common_arguments().items())
    lines += ["", f"Every method also takes the common arguments {common} (`metric` is required); "
                  f"`hposim simulate` and studies fill them in from the blackbox and the run."]
    lines += ["", f"Presets: a method with fixed arguments, usable wherever a method name is (the names and "
                  f"meanings of {PRESETS_SOURCE}); the other arguments keep the method's defaults and may be "
                  f"set, the fixed ones cannot be changed.", "",
              "| preset | expands to | kind | description |", "| --- | --- | --- | --- |"]
    for p in all_presets():
        kind = p.kind or "(method not registered)"
        lines.append(f"| `{p.name}` | `{p.expansion}` | {kind} | {_cell(p.description)} |")
    return "\n".join(lines) + "\n"


def replace_table(text: str, table: str) -> str:
    """``text`` with the part between ``TABLE_BEGIN`` and ``TABLE_END`` replaced by ``table``.

    Example:
        >>> text = replace_table(f"intro\\n{TABLE_BEGIN}\\nold\\n{TABLE_END}\\n", "new\\n")
        >>> text.splitlines()[2:]
        ['new', '<!-- END GENERATED TABLE -->']
    """
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin:
        raise MethodError(f"the text has no {TABLE_BEGIN!r} ... {TABLE_END!r} section to replace")
    return text[:begin + len(TABLE_BEGIN)] + "\n" + table + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m methods.catalog [--write FILE]``: print the table, or replace it in FILE."""
    parser = argparse.ArgumentParser(prog="python -m methods.catalog", description=main.__doc__)
    parser.add_argument("--write", metavar="FILE", help="replace the generated table in FILE "
                        "(between its BEGIN/END GENERATED TABLE markers)")
    args = parser.parse_args(argv)
    if args.write is None:
        sys.stdout.write(markdown_table())
        return 0
    path = Path(args.write)
    path.write_text(replace_table(path.read_text(), markdown_table()))
    print(f"wrote the table of {len(METHODS)} methods, {len(all_searchers())} searchers and {len(PRESETS)} "
          f"presets to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
