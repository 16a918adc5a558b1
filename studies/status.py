"""The state of every cell of a stored study: done, failed, corrupt, running or missing.

``corrupt``: the run's files no longer match the checksums in its ``metadata.json`` (every
done run's results file is hashed); it is left out of analyses and recomputed by the next
``hposim study run``.

The cells come from the study's ``study.yaml`` (so never-started runs show as missing);
runs found on storage but not in the spec are listed too.

Provenance (``studies.fingerprint``): a done run is ``stale`` when the settings it recorded
differ from those ``study.yaml`` gives its cell (kept by ``study run --keep-stale``; the
``changes`` column says what changed, old -> new); runs written by another hposim version or
results semantics, and runs of unknown provenance (written before fingerprints), are named.

Example:
    >>> table = study_status("results/demo")            # doctest: +SKIP
    >>> print(format_status(table))                      # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from studies.fingerprint import Provenance, format_stale_groups, provenance, stale_groups, version_flags
from studies.layout import StudyStore
from studies.spec import RunSpec, Study

__all__ = ["study_status", "format_status", "provenance_lines", "STATUSES", "COLUMNS"]

STATUSES = ("done", "failed", "corrupt", "running", "missing")
COLUMNS = ["benchmark", "method", "seed", "status", "wall_seconds", "error", "stale", "changes", "provenance",
           "hposim_version", "semantics_version"]


def study_status(path: str, storage_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per cell: benchmark, method, seed, status, wall_seconds, error, and the run
    record's provenance: stale (a done run whose recorded settings differ from the spec's),
    changes (old -> new), provenance (``current``, ``hposim <v> (semantics <s>)`` or ``unknown
    provenance``), hposim_version, semantics_version."""
    store = StudyStore.from_study_path(path, storage_options)
    store.check_readable()
    states = store.read_states(warn=False, verify=True)
    running = store.running()
    spec_runs: dict[tuple[str, str, int], RunSpec] = {}
    spec = store.read_spec()
    if spec:
        import yaml

        try:
            spec_runs = {r.key: r for r in Study.from_dict(yaml.safe_load(spec), max_runs=None).runs()}
        except Exception:  # a spec this version cannot parse: fall back to what is stored
            spec_runs = {}
    keys = list(spec_runs)
    keys += [k for k in sorted(states) if k not in set(keys)]
    keys += [k for k in sorted(running) if k not in set(keys)]
    rows = []
    for k in keys:
        st = states.get(k)
        if st is not None and st.status == "done":
            status = "done"
        elif k in running:
            status = "running"
        elif st is not None:
            status = st.status
        else:
            status = "missing"
        meta = st.metadata if st is not None else {}
        err = (meta or {}).get("error") or {}
        if st is not None and st.status == "corrupt" and status == "corrupt":
            text = st.problem
        else:
            text = f"{err.get('type')}: {err.get('message')}" if err else None
        prov = provenance(meta, spec_runs.get(k)) if meta else None
        stale = bool(prov is not None and prov.stale and status == "done")
        rows.append({"benchmark": k[0], "method": k[1], "seed": k[2], "status": status,
                     "wall_seconds": (meta or {}).get("wall_seconds"), "error": text, "stale": stale,
                     "changes": "; ".join(prov.changes) if stale and prov is not None else None,
                     "provenance": prov.label if prov is not None else None,
                     "hposim_version": prov.hposim if prov is not None else None,
                     "semantics_version": prov.semantics if prov is not None else None})
    return pd.DataFrame(rows, columns=COLUMNS)


def format_status(table: pd.DataFrame, details: bool = True) -> str:
    """A text summary: totals, then done/failed/corrupt/running/missing (and stale, when some are)
    per (benchmark, method), the failures, the stale runs and what changed, other versions."""
    counts = {s: int((table["status"] == s).sum()) for s in STATUSES}
    shown = [s for s in STATUSES if s != "corrupt" or counts[s]]     # "corrupt" only when there are some
    lines = [f"{len(table)} runs: " + ", ".join(f"{counts[s]} {s}" for s in shown)]
    if table.empty:
        return lines[0]
    grid = (table.groupby(["benchmark", "method"], sort=False)["status"].value_counts()
            .unstack(fill_value=0).reindex(columns=list(shown), fill_value=0).reset_index())
    stale = table[table["stale"].fillna(False).astype(bool)] if "stale" in table else table.iloc[:0]
    if len(stale):                                   # "stale" (a part of "done") only when there are some
        per = stale.groupby(["benchmark", "method"], sort=False).size()
        grid["stale"] = [int(per.get((b, m), 0)) for b, m in zip(grid["benchmark"], grid["method"])]
        shown = shown + ["stale"]
    w_b = max(9, *(len(str(b)) for b in grid["benchmark"]))
    w_m = max(6, *(len(str(m)) for m in grid["method"]))
    lines.append(f"{'benchmark':<{w_b}}  {'method':<{w_m}}  " + "  ".join(f"{s:>7}" for s in shown))
    for r in grid.itertuples(index=False):
        lines.append(f"{r.benchmark:<{w_b}}  {r.method:<{w_m}}  "
                     + "  ".join(f"{getattr(r, s):>7}" for s in shown))
    if details:
        for status in ("failed", "corrupt"):
            for r in table[table["status"] == status].itertuples(index=False):
                lines.append(f"{status} {r.benchmark}/{r.method}/{r.seed}: {r.error}")
    return "\n".join(lines + provenance_lines(table, stale))


def provenance_lines(table: pd.DataFrame, stale: pd.DataFrame) -> list[str]:
    """The stale runs per (benchmark, method) and why; runs of other versions or unknown provenance."""
    lines = []
    if len(stale):
        provs = {(r.benchmark, r.method, r.seed): Provenance(True, stale=True, changes=[str(r.changes)])
                 for r in stale.itertuples(index=False)}
        lines.append(f"stale: {len(stale)} done run(s) were produced with other settings than study.yaml gives "
                     f"(kept with --keep-stale; 'hposim study run SPEC --rerun-stale' recomputes them), per "
                     f"benchmark / method, old -> new:")
        lines.append(format_stale_groups(stale_groups(provs)))
    if "provenance" in table:
        done = table[(table["status"] == "done") & table["provenance"].notna()]
        records = [Provenance(r.provenance != "unknown provenance", None if pd.isna(r.hposim_version) else
                              r.hposim_version, None if pd.isna(r.semantics_version) else int(r.semantics_version))
                   for r in done.itertuples(index=False)]
        lines += [f"versions: {line}" for line in version_flags(records)]
    return lines
