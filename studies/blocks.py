"""Comparison blocks: the (benchmark, seed) pairs where every compared method has a done run.

Ranks, average ranks, the critical-difference diagram and paired comparisons use only these
blocks, so a method that failed somewhere is never ranked on fewer problems than the others.
``complete_blocks`` also says what it left out and why, in words that tables and figures print
(``Blocks.note()``); ``panel_seeds`` does the same for one benchmark's panel of a figure.

Example:
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"benchmark": "b", "method": ["A", "B", "A", "B"], "seed": [0, 0, 1, 1],
    ...                      "status": ["done", "done", "done", "failed"]})
    >>> b = complete_blocks(runs)
    >>> b.blocks, b.note()
    ([('b', 0)], '1 of 2 (benchmark, seed) blocks where all 2 methods (A, B) have a done run; left out: b seed 1 (B failed)')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd

__all__ = ["Blocks", "complete_blocks", "panel_seeds", "PanelSeeds", "EARLY_END_REASONS"]

#: simulator end reasons that stop a run before its time budget
EARLY_END_REASONS = ("exhausted", "max_trials", "max_completed", "max_reports", "max_cost", "target", "no_progress")


def _status_counts(runs: pd.DataFrame) -> str:
    """``'3 failed, 1 corrupt'`` for the runs given (no done run among them)."""
    counts = runs["status"].value_counts()
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "no run stored"


def _why_not_done(runs: pd.DataFrame, method: str) -> str:
    rows = runs[runs["method"] == method]
    if rows.empty:
        return f"{method} missing"
    return f"{method} {'/'.join(sorted(set(rows['status'])))}"


@dataclass
class Blocks:
    """The blocks a comparison uses and what it leaves out.

    ``left_out_methods``: method -> why (no done run at all); ``left_out_benchmarks``:
    benchmark -> why (no seed where every compared method is done); ``left_out_blocks``:
    (benchmark, seed) -> which methods are not done there (blocks of benchmarks that keep
    some blocks).

    Example:
        >>> Blocks(["A", "B"], ["b"], [("b", 0), ("b", 1)], 2).note()
        '2 of 2 (benchmark, seed) blocks where all 2 methods (A, B) have a done run'
    """

    methods: list[str]
    benchmarks: list[str]
    blocks: list[tuple[str, int]]
    n_candidates: int
    left_out_methods: dict[str, str] = field(default_factory=dict)
    left_out_benchmarks: dict[str, str] = field(default_factory=dict)
    left_out_blocks: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def seeds(self, benchmark: str) -> list[int]:
        """The seeds of ``benchmark`` that are blocks."""
        return [s for b, s in self.blocks if b == benchmark]

    def left_out(self) -> list[str]:
        """One phrase per thing left out (methods, benchmarks, then blocks grouped by benchmark)."""
        out = [f"method {m} ({why})" for m, why in self.left_out_methods.items()]
        out += [f"benchmark {b} ({why})" for b, why in self.left_out_benchmarks.items()]
        by_bench: dict[str, list[tuple[int, str]]] = {}
        for (b, s), why in self.left_out_blocks.items():
            by_bench.setdefault(b, []).append((s, why))
        # benchmarks that lost the same seeds for the same reasons are named together
        same: dict[tuple[str, str], list[str]] = {}
        for b, items in by_bench.items():
            whys = "; ".join(dict.fromkeys(w for _, w in items))
            seeds = f"seed{'s' if len(items) > 1 else ''} {', '.join(str(s) for s, _ in items)}"
            same.setdefault((seeds, whys), []).append(b)
        for (seeds, whys), benches in same.items():
            if len(benches) == 1:
                out.append(f"{benches[0]} {seeds} ({whys})")
            elif len(benches) <= 3:
                out.append(f"{seeds} of {', '.join(benches)} ({whys})")
            else:
                out.append(f"{seeds} of {len(benches)} benchmarks ({', '.join(benches[:2])}, ...) ({whys})")
        return out

    def note(self) -> str:
        """The sentence tables and figures print: how many blocks, which methods, what was left out."""
        text = (f"{self.n_blocks} of {self.n_candidates} (benchmark, seed) blocks where all "
                f"{len(self.methods)} methods ({', '.join(self.methods)}) have a done run")
        left = self.left_out()
        return text + ("; left out: " + "; ".join(left) if left else "")


def complete_blocks(runs: pd.DataFrame, methods: Sequence[str] | None = None,
                    benchmarks: Sequence[str] | None = None) -> Blocks:
    """The (benchmark, seed) blocks of ``runs`` (columns benchmark, method, seed, status) where
    every compared method has a done run.

    Compared methods: ``methods`` (default: every method of ``runs``, in order of appearance)
    that have at least one done run; the others are left out with their run counts. The seeds of
    a benchmark are those stored for it by any method."""
    methods = list(dict.fromkeys(runs["method"])) if methods is None else list(methods)
    benchmarks = list(dict.fromkeys(runs["benchmark"])) if benchmarks is None else list(benchmarks)
    runs = runs[runs["benchmark"].isin(benchmarks) & runs["method"].isin(methods)]
    done = runs[runs["status"] == "done"]
    left_methods = {}
    for m in methods:
        if not (done["method"] == m).any():
            left_methods[m] = "no done run: " + _status_counts(runs[runs["method"] == m])
    compared = [m for m in methods if m not in left_methods]
    done_keys = set(zip(done["benchmark"], done["method"], done["seed"]))
    blocks: list[tuple[str, int]] = []
    left_benchmarks: dict[str, str] = {}
    left_blocks: dict[tuple[str, int], str] = {}
    n_candidates = 0
    for b in benchmarks:
        rb = runs[runs["benchmark"] == b]
        seeds = sorted(set(int(s) for s in rb["seed"]))
        n_candidates += len(seeds)
        missing = {}
        for s in seeds:
            absent = [m for m in compared if (b, m, s) not in done_keys]
            if absent:
                rs = rb[rb["seed"] == s]
                missing[s] = ", ".join(_why_not_done(rs, m) for m in absent)
            else:
                blocks.append((b, s))
        if compared and missing and len(missing) == len(seeds):
            whys = {}
            for m in compared:
                rows = rb[rb["method"] == m]
                if not ((rows["status"] == "done").any()):
                    whys[m] = f"{m}: " + _status_counts(rows)
            left_benchmarks[b] = ("no seed where every method is done"
                                  + (" (" + "; ".join(whys.values()) + ")" if whys else ""))
        else:
            left_blocks.update({(b, s): why for s, why in missing.items()})
    kept = [b for b in benchmarks if any(bb == b for bb, _ in blocks)]
    return Blocks(compared, kept, blocks, n_candidates, left_methods, left_benchmarks, left_blocks)


@dataclass
class PanelSeeds:
    """What one benchmark's panel shows: the methods with a done run there, the fixed set of
    seeds where all of them are done, and the methods not shown (with why).

    Example:
        >>> PanelSeeds(["A"], [0, 1], {"B": "no done run: 2 failed"}).caption()
        '2 seeds; not shown: B (no done run: 2 failed)'
    """

    methods: list[str]
    seeds: list[int]
    not_shown: dict[str, str] = field(default_factory=dict)
    shared: bool = True

    def caption(self) -> str:
        text = (f"{len(self.seeds)} seed{'s' if len(self.seeds) != 1 else ''}" if self.shared else
                "seed sets differ per method")
        if self.not_shown:
            text += "; not shown: " + ", ".join(f"{m} ({why})" for m, why in self.not_shown.items())
        return text


def panel_seeds(runs: pd.DataFrame, benchmark: str, methods: Sequence[str]) -> PanelSeeds:
    """The panel of ``benchmark``: methods with a done run there; seeds where all of them are
    done (when no seed has all of them, each method keeps its own done seeds: ``shared=False``)."""
    rb = runs[runs["benchmark"] == benchmark]
    done = rb[rb["status"] == "done"]
    shown = [m for m in methods if (done["method"] == m).any()]
    not_shown = {m: "no done run: " + _status_counts(rb[rb["method"] == m]) for m in methods if m not in shown}
    per = [set(int(s) for s in done[done["method"] == m]["seed"]) for m in shown]
    common = sorted(set.intersection(*per)) if per else []
    if per and not common:
        return PanelSeeds(shown, sorted(set.union(*per)), not_shown, shared=False)
    return PanelSeeds(shown, common, not_shown)
