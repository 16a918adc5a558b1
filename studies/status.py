"""The state of every cell of a stored study: done, failed, corrupt, running or missing.

``corrupt``: the run's files no longer match the checksums in its ``metadata.json`` (every
done run's results file is hashed); it is left out of analyses and recomputed by the next
``hposim study run``.

The cells come from the study's ``study.yaml`` (so never-started runs show as missing);
runs found on storage but not in the spec are listed too.

Example:
    >>> table = study_status("results/demo")            # doctest: +SKIP
    >>> print(format_status(table))                      # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from studies.layout import StudyStore
from studies.spec import Study

__all__ = ["study_status", "format_status", "STATUSES"]

STATUSES = ("done", "failed", "corrupt", "running", "missing")


def study_status(path: str, storage_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per cell: benchmark, method, seed, status, wall_seconds, error."""
    store = StudyStore.from_study_path(path, storage_options)
    store.check_readable()
    states = store.read_states(warn=False, verify=True)
    running = store.running()
    keys: list[tuple[str, str, int]] = []
    spec = store.read_spec()
    if spec:
        import yaml

        try:
            keys = [r.key for r in Study.from_dict(yaml.safe_load(spec), max_runs=None).runs()]
        except Exception:  # a spec this version cannot parse: fall back to what is stored
            keys = []
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
        rows.append({"benchmark": k[0], "method": k[1], "seed": k[2], "status": status,
                     "wall_seconds": (meta or {}).get("wall_seconds"), "error": text})
    return pd.DataFrame(rows, columns=["benchmark", "method", "seed", "status", "wall_seconds", "error"])


def format_status(table: pd.DataFrame, details: bool = True) -> str:
    """A text summary: totals, then done/failed/corrupt/running/missing per (benchmark, method)."""
    counts = {s: int((table["status"] == s).sum()) for s in STATUSES}
    shown = [s for s in STATUSES if s != "corrupt" or counts[s]]     # "corrupt" only when there are some
    lines = [f"{len(table)} runs: " + ", ".join(f"{counts[s]} {s}" for s in shown)]
    if table.empty:
        return lines[0]
    grid = (table.groupby(["benchmark", "method"], sort=False)["status"].value_counts()
            .unstack(fill_value=0).reindex(columns=list(shown), fill_value=0).reset_index())
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
    return "\n".join(lines)
