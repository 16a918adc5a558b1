"""What produced a run: its effective settings, their fingerprint, and whether a stored run is stale.

Every study run records, in its ``metadata.json`` under ``fingerprint``, the settings that
determine its results as the spec resolves them (``run_settings``): the method (the
registered method a label or preset resolves to, and every argument: the method's
defaults, the preset's fixed arguments and the spec's own), the benchmark (blackbox, task,
metric(s), mode(s), workers, ``blackbox_seed``, the stopping criteria as ``simulator.Stop``
normalizes them, with a named benchmark's overrides applied) and the seed; the sha256 of
their canonical JSON; the hposim version; and ``RESULTS_SEMANTICS_VERSION``.

A stored run is **stale** when the spec now gives other settings for its cell, or when it
was produced under another results semantics version (``provenance`` says what changed,
old -> new). A record written before fingerprints existed has **unknown provenance**: its
settings are derived from the ``RunSpec`` it recorded (so a changed spec is still found)
and its semantics version is unknown.

``RESULTS_SEMANTICS_VERSION``: bump it (here, by one) in the commit that changes what a
seed produces -- the simulator's semantics, a method's decisions or defaults, a blackbox's
values -- so that earlier results are flagged and recomputed, not mixed with new ones
(``docs/architecture.md``, "Run results").

Example:
    >>> from studies.spec import Study
    >>> s = Study.from_dict({"name": "s", "seeds": [0], "methods": {"RS": "RandomSearch"},
    ...     "benchmarks": {"b": {"blackbox": "x/y", "max_time": 60}}})
    >>> run = s.runs()[0]
    >>> run_settings(run)["benchmark"]["stop"], run_settings(run)["method"]["name"]
    ({'max_time': 60.0}, 'RandomSearch')
    >>> fp = fingerprint(run)
    >>> provenance({"fingerprint": fp}, run).stale
    False
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from blackbox_repo.errors import InputError
from simulator.stopping import Stop
from studies.spec import RunSpec

__all__ = ["RESULTS_SEMANTICS_VERSION", "hposim_version", "run_settings", "settings_sha256", "fingerprint",
           "Provenance", "provenance", "StaleGroup", "stale_groups", "format_stale_groups", "StaleRunsError",
           "version_flags", "STALE_POLICIES"]

#: bump by one in the commit that changes what a seed produces (see the module docstring)
RESULTS_SEMANTICS_VERSION = 1

#: what ``run_study`` does with stale runs: refuse (default), recompute them, keep them
STALE_POLICIES = ("refuse", "rerun", "keep")


class StaleRunsError(InputError):
    """Stored runs were produced with other settings than the spec now gives (the message says
    which, what changed, and the flags that choose what to do)."""


@functools.lru_cache(maxsize=1)
def hposim_version() -> str:
    """The installed hposim version (``setup.cfg``'s ``version``), or ``"unknown"``."""
    try:
        return metadata.version("hposim")
    except metadata.PackageNotFoundError:
        return "unknown"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data: numpy scalars as numbers, tuples as lists, objects by their
    repr without memory addresses (so the same object gives the same fingerprint)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, dict) or isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)):      # subclasses (an IntEnum, a numpy float64)
        return value.item() if hasattr(value, "item") else value
    if hasattr(value, "item") and callable(value.item):
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    return _ADDRESS.sub("", repr(value))


@functools.lru_cache(maxsize=256)
def _method_defaults(name: str) -> tuple[str, tuple[tuple[str, Any], ...]] | None:
    """``(registered method, its defaults with the preset's fixed arguments)`` for a method or
    preset name; None for a name this installation does not know."""
    try:
        from methods import METHODS
        from methods.registry import COMMON_ARGUMENTS, resolve_method

        method, fixed, _ = resolve_method(name)
        params = inspect.signature(METHODS[method].__init__).parameters
    except Exception:  # noqa: BLE001 - an unknown name: its arguments are recorded as given
        return None
    defaults = {p: v.default for p, v in params.items()
                if p not in ("self", "config_space", *COMMON_ARGUMENTS) and v.default is not inspect.Parameter.empty
                and v.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)}
    defaults.update(fixed)
    return method, tuple(sorted(defaults.items()))


def _stop(stop: Mapping[str, Any]) -> dict:
    """The stopping criteria as ``simulator.Stop`` normalizes them (``600`` and ``600.0`` agree)."""
    try:
        return dict(Stop(**dict(stop)).active())
    except Exception:  # noqa: BLE001 - invalid criteria: recorded as given
        return dict(stop)


def run_settings(run: RunSpec) -> dict:
    """The settings that determine a run's results, as the spec resolves them (JSON-able).

    ``metric``/``mode`` are the spec's (None: the blackbox's default, which the run records
    in its ``metadata.json``); a saved surrogate is named by its blackbox name."""
    resolved = _method_defaults(run.method_name)
    if resolved is None:
        method, args = run.method_name, dict(run.method_args)
    else:
        method, defaults = resolved
        args = {**dict(defaults), **dict(run.method_args)}
    return _plain({
        "method": {"name": method, "args": dict(sorted(args.items()))},
        "benchmark": {"blackbox": run.blackbox, "task": run.task, "metric": run.metric, "mode": run.mode,
                      "n_workers": run.n_workers, "blackbox_seed": run.blackbox_seed, "stop": _stop(run.stop)},
        "seed": run.seed,
    })


def settings_sha256(settings: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``settings`` (sorted keys, no spaces)."""
    text = json.dumps(_plain(settings), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(run: RunSpec) -> dict:
    """The ``fingerprint`` record of a run computed now: settings, their sha256, versions."""
    settings = run_settings(run)
    return {"settings_sha256": settings_sha256(settings), "settings": settings, "hposim": hposim_version(),
            "semantics": RESULTS_SEMANTICS_VERSION}


@dataclass
class Provenance:
    """What a stored run record says produced it, compared with the settings a spec gives now.

    ``known``: the record has a fingerprint (False: written before fingerprints existed,
    "unknown provenance"); ``stale``: the spec's settings (or the results semantics) differ,
    ``changes`` says how (``"method.args.reduction_factor: 3 -> 4"``); None when no spec run
    was given to compare with.

    Example:
        >>> Provenance(known=False, hposim="0.1.0").label
        'unknown provenance'
    """

    known: bool
    hposim: str | None = None
    semantics: int | None = None
    settings_sha256: str | None = None
    stale: bool | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        if not self.known:
            return "unknown provenance"
        if self.hposim != hposim_version() or self.semantics != RESULTS_SEMANTICS_VERSION:
            return f"hposim {self.hposim} (semantics {self.semantics})"
        return "current"


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, Mapping) or (prefix and not d):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


_UNSET = object()


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    a, b = _flatten(old), _flatten(new)
    out = []
    for k in list(a) + [k for k in b if k not in a]:
        va, vb = a.get(k, _UNSET), b.get(k, _UNSET)
        if va != vb or type(va) is not type(vb):
            show = [("(unset)" if v is _UNSET else repr(v)) for v in (va, vb)]
            out.append(f"{k}: {show[0]} -> {show[1]}")
    return out


def provenance(metadata: Mapping[str, Any] | None, run: RunSpec | None = None) -> Provenance:
    """The provenance of a stored run record (its ``metadata.json``), compared with ``run``
    (the cell as the spec gives it now) when given. Never raises on an old or odd record."""
    meta = metadata or {}
    fp = meta.get("fingerprint")
    if isinstance(fp, Mapping) and isinstance(fp.get("settings"), Mapping):
        settings: Any = fp["settings"]
        prov = Provenance(True, fp.get("hposim"), fp.get("semantics"),
                          fp.get("settings_sha256") or settings_sha256(settings))
    else:                     # written before fingerprints: derive the settings from its RunSpec
        versions = meta.get("versions")
        prov = Provenance(False, versions.get("hposim") if isinstance(versions, Mapping) else None)
        try:
            settings = run_settings(RunSpec.from_dict(meta["run"]))
            prov.settings_sha256 = settings_sha256(settings)
        except Exception:  # noqa: BLE001 - no usable RunSpec either: nothing to compare
            settings = None
    if run is None:
        return prov
    expected = run_settings(run)
    same = settings is None or prov.settings_sha256 == settings_sha256(expected)
    prov.changes = [] if same else _changes(settings, expected)
    if any(c.startswith("method.name:") for c in prov.changes):   # another method: not each argument
        n = sum(c.startswith("method.args.") for c in prov.changes)
        prov.changes = [c for c in prov.changes if not c.startswith("method.args.")] + (
            [f"method.args: {n} differ"] if n else [])
    if prov.known and prov.semantics != RESULTS_SEMANTICS_VERSION:
        prov.changes.append(f"results semantics: {prov.semantics!r} -> {RESULTS_SEMANTICS_VERSION!r}")
    prov.stale = bool(prov.changes)
    return prov


@dataclass
class StaleGroup:
    """Stale runs of one (benchmark, method label) with the same changes.

    Example:
        >>> print(StaleGroup("b", "ASHA", [0, 1], ["method.args.reduction_factor: 3 -> 4"]).format())
        b / ASHA: 2 runs (seeds 0, 1): method.args.reduction_factor: 3 -> 4
    """

    benchmark: str
    method: str
    seeds: list[int]
    changes: list[str]

    def format(self) -> str:
        seeds = ", ".join(str(s) for s in self.seeds[:10]) + (", ..." if len(self.seeds) > 10 else "")
        n = len(self.seeds)
        return (f"{self.benchmark} / {self.method}: {n} run{'s' if n != 1 else ''} (seed{'s' if n != 1 else ''} "
                f"{seeds}): {'; '.join(self.changes)}")


def stale_groups(stale: Mapping[tuple[str, str, int], Provenance]) -> list[StaleGroup]:
    """Stale runs keyed (benchmark, method, seed), grouped by (benchmark, method, changes)."""
    groups: dict[tuple, StaleGroup] = {}
    for (bench, method, seed), prov in sorted(stale.items()):
        key = (bench, method, tuple(prov.changes))
        g = groups.setdefault(key, StaleGroup(bench, method, [], list(prov.changes)))
        g.seeds.append(seed)
    return list(groups.values())


def format_stale_groups(groups: Sequence[StaleGroup], limit: int = 20) -> str:
    lines = [f"  {g.format()}" for g in groups[:limit]]
    if len(groups) > limit:
        lines.append(f"  ... and {len(groups) - limit} more (benchmark, method) groups")
    return "\n".join(lines)


def version_flags(records: Iterable[Provenance]) -> list[str]:
    """Lines naming the runs written by another hposim version or results semantics than this
    one (how many, which versions) and the runs of unknown provenance; empty when none."""
    now, sem = hposim_version(), RESULTS_SEMANTICS_VERSION
    other: dict[tuple[Any, Any], int] = {}
    unknown: dict[Any, int] = {}
    for p in records:
        if not p.known:
            unknown[p.hposim] = unknown.get(p.hposim, 0) + 1
        elif p.hposim != now or p.semantics != sem:
            other[(p.hposim, p.semantics)] = other.get((p.hposim, p.semantics), 0) + 1
    out = []
    if other:
        n = sum(other.values())
        which = ", ".join(f"{c} by hposim {v} (results semantics {s})" for (v, s), c in sorted(
            other.items(), key=lambda kv: str(kv[0])))
        differ = any(s != sem for (_, s) in other)
        out.append(f"{n} run(s) were written by another hposim version than this one (hposim {now}, results "
                   f"semantics {sem}): {which}. "
                   + ("Where the results semantics differ, a seed may give other results now: those runs are "
                      "stale ('hposim study run SPEC --rerun-stale' recomputes them)." if differ else
                      "The results semantics are the same, so a seed gives the same results."))
    if unknown:
        n = sum(unknown.values())
        which = ", ".join(f"{c} by hposim {v or 'unknown'}" for v, c in sorted(unknown.items(), key=lambda kv: str(kv[0])))
        out.append(f"{n} run(s) have unknown provenance ({which}): written before runs recorded the fingerprint "
                   f"of their settings and the results semantics version; their settings were compared using "
                   f"the run spec they recorded.")
    return out
