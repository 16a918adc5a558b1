"""NePS-style outputs of a study's runs, written on demand (never alongside each run).

NePS keeps, per run, ``all_losses_and_configs.txt``, ``best_loss_trajectory.txt``,
``best_loss_with_config_trajectory.txt`` and ``summary_csv/{config_data,run_status}.csv``.
hposim stores each run as one Parquet file, and writes these views only when asked:

- ``export_study(path, out, "neps")``: those five files per run, under
  ``<out>/<benchmark>/<method>/<seed>/`` (``hposim study export --format neps``);
- ``export_study(path, out, "csv")``: three files for the whole study, one row per evaluation,
  improvement or run, with ``benchmark, method, seed`` columns: ``all_losses_and_configs.csv``,
  ``best_loss_trajectory.csv`` and ``run_status.csv`` (``hposim study export --format csv``).

``run_status_table(study)`` is also the ``run_status.csv`` of ``hposim study report``: one row
per run with NePS's ``neps.status`` numbers (configurations evaluated, errors, best loss, best
configuration).

Example:
    >>> export_study("results/demo", "neps-out", "neps")     # doctest: +SKIP
    150
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import fsspec
import numpy as np
import pandas as pd

from blackbox_repo.errors import InputError
from studies.analysis import StudyResults, load_study
from studies.run_view import RunResults

__all__ = ["export_study", "run_status_table", "neps_files", "EXPORT_FORMATS"]

#: ``hposim study export --format``: one folder of NePS files per run, or three CSVs per study
EXPORT_FORMATS = ("neps", "csv")
_RULE = "-" * 79


def _blocks(table: pd.DataFrame) -> str:
    """NePS's text blocks (config id, fidelity, time, loss, config, a rule), one per row."""
    cfg = [c for c in table.columns if c.startswith("config.")]
    names = [c[len("config."):] for c in cfg]
    configs = zip(*(table[c].tolist() for c in cfg)) if cfg else iter([()] * len(table))
    fid = table["fidelity"].tolist() if "fidelity" in table else [None] * len(table)
    times = table["time"].tolist() if "time" in table else [None] * len(table)
    out = []
    for cid, f, t, loss, values in zip(table["config_id"].tolist(), fid, times, table["loss"].tolist(), configs):
        lines = [f"Config ID: {int(cid)}"]
        if f is not None:
            lines.append(f"Fidelity: {f}")
        if t is not None:
            lines.append(f"Time: {float(t):.6g}")
        lines += [f"Loss: {float(loss)}", f"Config: {dict(zip(names, values))!r}", _RULE, ""]
        out.append("\n".join(lines))
    return "".join(out)


def neps_files(run: RunResults) -> dict[str, bytes]:
    """The files NePS keeps for a run, by relative name: the three text files and
    ``summary_csv/config_data.csv`` (every evaluation, ascending loss) and
    ``summary_csv/run_status.csv`` (``description,value`` rows of ``neps.status``)."""
    table = run.all_losses_and_configs()
    best = run.best_loss_trajectory()
    summary = run.status_summary()
    status = pd.DataFrame({"description": list(summary),
                           "value": [json.dumps(v) if isinstance(v, dict) else v for v in summary.values()]})
    config_data = table.sort_values("loss", kind="stable", na_position="last")
    return {
        "all_losses_and_configs.txt": _blocks(table).encode(),
        "best_loss_trajectory.txt": "".join(f"{float(v)}\n" for v in best["loss"]).encode(),
        "best_loss_with_config_trajectory.txt": _blocks(best).encode(),
        "summary_csv/config_data.csv": config_data.to_csv(index=False).encode(),
        "summary_csv/run_status.csv": status.to_csv(index=False).encode(),
    }


def run_status_table(study: StudyResults) -> pd.DataFrame:
    """Per run: benchmark, method, seed, status, metric, mode, trials, reports, best metric,
    failed trials, simulated time, wall time, error, and (NePS's ``neps.status``) the best
    loss, the best trial (``best_config_id``) and its configuration (``best_config``, JSON)."""
    rows = []
    for r in study.runs.itertuples(index=False):
        failed_trials, best_id, best_config, best_loss = np.nan, None, None, np.nan
        if r.status == "done":
            s = study.run(r.benchmark, r.method, r.seed).status_summary()
            failed_trials, best_id, best_loss = s["num_error"], s["best_config_id"], s["best_loss"]
            best_config = json.dumps(s["best_config"], default=str) if s["best_config"] is not None else None
        rows.append({"benchmark": r.benchmark, "method": r.method, "seed": r.seed, "status": r.status,
                     "metric": r.metric, "mode": r.mode, "n_trials": r.n_trials, "n_reports": r.n_reports,
                     "best": r.best, "failed_trials": failed_trials, "simulated_time": r.final_time,
                     "wall_seconds": r.wall_seconds, "error": r.error, "best_loss": best_loss,
                     "best_config_id": best_id, "best_config": best_config})
    return pd.DataFrame(rows)


def _study_tables(study: StudyResults) -> dict[str, pd.DataFrame]:
    every, best = [], []
    for r in study.done.itertuples(index=False):
        run = study.run(r.benchmark, r.method, r.seed)
        key = {"benchmark": r.benchmark, "method": r.method, "seed": r.seed, "metric": r.metric}
        for frames, table in ((every, run.all_losses_and_configs()), (best, run.best_loss_trajectory())):
            frames.append(pd.concat([pd.DataFrame(key, index=table.index), table], axis=1))
    cols = ["benchmark", "method", "seed", "metric", "evaluation", "config_id", "loss"]
    return {"all_losses_and_configs.csv": pd.concat(every, ignore_index=True) if every else pd.DataFrame(columns=cols),
            "best_loss_trajectory.csv": pd.concat(best, ignore_index=True) if best else pd.DataFrame(columns=cols),
            "run_status.csv": run_status_table(study)}


def export_study(path: "str | StudyResults", out: str, fmt: str = "neps", *,
                 storage_options: Mapping[str, Any] | None = None) -> int:
    """Write the NePS views of the study at ``path`` into ``out`` (any fsspec URL): ``"neps"``,
    five files per done run; ``"csv"``, three CSV files for the study. Returns the number of
    done runs exported."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"export format {fmt!r} is not valid; allowed: {', '.join(map(repr, EXPORT_FORMATS))}")
    study = load_study(path, storage_options) if isinstance(path, str) else path
    fs, base = fsspec.core.url_to_fs(str(out), **dict(storage_options or {}))
    base = base.rstrip("/")

    def write(files: Mapping[str, bytes], folder: str) -> None:
        for name, data in files.items():
            path = f"{folder}/{name}"
            fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            fs.pipe_file(path, data)

    if fmt == "csv":
        write({name: t.to_csv(index=False).encode() for name, t in _study_tables(study).items()}, base)
    else:                      # run by run: one run's files in memory at a time
        for r in study.done.itertuples(index=False):
            write(neps_files(study.run(r.benchmark, r.method, r.seed)), f"{base}/{r.benchmark}/{r.method}/{r.seed}")
    return len(study.done)

