"""``hposim benchmark list``: the named benchmarks (``studies.benchmarks``) and whether each
can run offline now.

Example (shell)::

    hposim benchmark list                  # every named benchmark
    hposim benchmark list 'nas201*' --offline
"""
from __future__ import annotations

import argparse
import fnmatch
from typing import Sequence

from studies.benchmarks import BENCHMARKS, BenchmarkDefinition, local_tasks, offline_status

__all__ = ["register", "list_rows", "list_text"]

HEADER = ("name", "blackbox/task", "metric", "mode", "workers", "budget", "offline now")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("benchmark", help="named benchmarks for study specs",
                              description="Named benchmarks: a blackbox task with its metric, mode, "
                                          "number of workers and budget, usable by name in a study spec.")
    sub = p.add_subparsers(dest="benchmark_command", metavar="<subcommand>")
    sub.required = True
    ls = sub.add_parser("list", help="every named benchmark and whether it is available offline",
                        description="List the named benchmarks: blackbox/task, metric, mode, workers, "
                                    "budget, and whether the blackbox is on this machine now (cached or "
                                    "embedded); for the others, the command that fetches it.")
    ls.add_argument("patterns", nargs="*", metavar="PATTERN",
                    help="only names matching one of these shell patterns (e.g. 'lcbench-*')")
    ls.add_argument("--offline", action="store_true", help="only the benchmarks available offline now")
    ls.set_defaults(func=cmd_list)


def list_rows(definitions: Sequence[BenchmarkDefinition], offline_only: bool = False) -> list[tuple[str, ...]]:
    """One row of ``HEADER`` per definition (the last cell says where it is, or how to get it)."""
    records = local_tasks()
    rows = []
    for d in definitions:
        ok, where = offline_status(d, records)
        if offline_only and not ok:
            continue
        ref = f"{d.blackbox}/{d.task}" + (f" ({d.surrogate} surrogate)" if d.surrogate else "")
        rows.append((d.name, ref, d.metric, d.mode, str(d.n_workers), d.budget(),
                     f"yes ({where})" if ok else "no: " + " && ".join(d.get_commands())))
    return rows


def list_text(patterns: Sequence[str] = (), offline_only: bool = False) -> str:
    """The text of ``hposim benchmark list``."""
    defs = [d for n, d in BENCHMARKS.items()
            if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not defs:
        return f"no named benchmark matches {' '.join(patterns)}; `hposim benchmark list` shows all"
    rows = list_rows(defs, offline_only)
    if not rows:
        return "none of these benchmarks is available offline; drop --offline to see how to fetch them"
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(HEADER)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [HEADER, *rows]]
    n_ok = sum(r[-1].startswith("yes") for r in rows)
    lines.append(f"{len(rows)} benchmarks, {n_ok} available offline now. Use them by name in a study spec: "
                 f"benchmarks: [{rows[0][0]}, ...] or {{{rows[0][0]}: {{n_workers: 8}}}}")
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    print(list_text(args.patterns, args.offline))
    return 0
