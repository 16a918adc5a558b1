"""Reading Syne Tune experiment folders, so their results sit next to hposim results.

A Syne Tune experiment folder holds ``metadata.json`` (``metric_names``, ``metric_mode``,
``scheduler_name``, ``entrypoint``, ``st_tuner_creation_timestamp``, plus whatever was passed
as ``metadata=`` to the Tuner, e.g. ``algorithm``, ``benchmark``, ``seed``) and
``results.csv.zip`` or ``results.csv.gz`` (``SYNE_TUNE_RESULTS_FILES``; one row per report: ``trial_id``, ``st_tuner_time``, ``config_<name>``
columns, the metrics, ``st_worker_iter``, ``st_decision``, ...).

Each experiment becomes one run: method = ``algorithm`` (else ``scheduler_name``), benchmark
= ``benchmark`` (else the entrypoint's file name), seed = ``seed`` (else a counter), time =
``st_tuner_time``. Reports are converted to hposim's columns (``trial_id``, the
hyperparameters without ``config_``, ``fidelity``, metrics, ``time``, ``decision``).

Example:
    >>> is_syne_tune_path("/nonexistent")
    False
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Any, Callable, Mapping

import fsspec
import numpy as np
import pandas as pd

from blackbox_repo.errors import InputError

__all__ = ["is_syne_tune_path", "read_syne_tune_runs", "read_experiment", "SYNE_TUNE_RESULTS",
           "SYNE_TUNE_RESULTS_FILES"]

SYNE_TUNE_RESULTS = "results.csv.zip"
#: the results file names Syne Tune writes, with their compression (the first found is read)
SYNE_TUNE_RESULTS_FILES = {"results.csv.zip": "zip", "results.csv.gz": "gzip"}
SYNE_TUNE_METADATA = "metadata.json"


def _experiment_dirs(fs: Any, path: str) -> list[str]:
    if any(fs.exists(f"{path}/{name}") for name in SYNE_TUNE_RESULTS_FILES):
        return [path]
    found = [p for name in SYNE_TUNE_RESULTS_FILES
             for p in fs.glob(f"{path}/*/{name}") + fs.glob(f"{path}/*/*/{name}")]
    return sorted({p.rsplit("/", 1)[0] for p in found})


def is_syne_tune_path(path: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """True when ``path`` is a Syne Tune experiment folder or a folder of them."""
    try:
        fs, p = fsspec.core.url_to_fs(str(path), **dict(storage_options or {}))
        if not fs.isdir(p) or fs.exists(f"{p}/study.yaml"):
            return False
        return bool(_experiment_dirs(fs, p.rstrip("/")))
    except Exception:
        return False


def read_experiment(fs: Any, path: str) -> tuple[dict, pd.DataFrame]:
    """``(metadata, results)`` of one Syne Tune experiment folder, as Syne Tune wrote them."""
    with fs.open(f"{path}/{SYNE_TUNE_METADATA}", "rb") as f:
        meta = json.load(f)
    for name, compression in SYNE_TUNE_RESULTS_FILES.items():
        if fs.exists(f"{path}/{name}"):
            with fs.open(f"{path}/{name}", "rb") as f:
                return meta, pd.read_csv(f, compression=compression)
    raise InputError(f"{path} holds no results file; expected one of {list(SYNE_TUNE_RESULTS_FILES)}")


def _metric_mode(meta: dict, df: pd.DataFrame) -> tuple[str, str]:
    names = meta.get("metric_names") or []
    if isinstance(names, str):
        names = [names]
    mode = meta.get("metric_mode", "min")
    if isinstance(mode, list):
        mode = mode[0] if mode else "min"
    if names:
        return str(names[0]), str(mode)
    skip = {"trial_id", "st_tuner_time", "st_worker_time", "st_worker_timestamp", "st_worker_iter",
            "st_decision", "st_status", "st_tuner_creation_timestamp", "st_tuner_start_timestamp"}
    cands = [c for c in df.columns if c not in skip and not c.startswith("config_")
             and pd.api.types.is_numeric_dtype(df[c])]
    if not cands:
        raise InputError("no metric column found")
    return cands[0], str(mode)


def _to_hposim(meta: dict, df: pd.DataFrame, metric: str) -> pd.DataFrame:
    out = pd.DataFrame({"trial_id": df["trial_id"].astype(int)})
    for c in df.columns:
        if c.startswith("config_"):
            out[c[len("config_"):]] = df[c]
    resource = meta.get("resource_attr") or meta.get("fidelity_attr")
    if resource and resource in df:
        out["fidelity"] = df[resource]
    elif "epoch" in df:
        out["fidelity"] = df["epoch"]
    elif "st_worker_iter" in df:
        out["fidelity"] = df["st_worker_iter"] + 1
    else:
        out["fidelity"] = df.groupby("trial_id").cumcount() + 1
    skip = {"trial_id", "st_tuner_time", "st_decision"}
    for c in df.columns:
        if c not in skip and not c.startswith("config_") and c not in out:
            out[c] = df[c]
    out["time"] = df["st_tuner_time"].astype(float)
    if "st_decision" in df:
        out["decision"] = df["st_decision"].astype(str)
    return out.sort_values(["time", "trial_id"], kind="stable").reset_index(drop=True)


def read_syne_tune_runs(path: str, storage_options: Mapping[str, Any] | None = None
                        ) -> tuple[list[dict], dict[tuple[str, str, int], Callable], str]:
    """One done run per Syne Tune experiment found under ``path``: the rows of
    ``StudyResults.runs``, a reader of each run's reports keyed by (benchmark, method, seed), and
    the study's name (``studies.analysis.load_study`` makes them a ``StudyResults``).

    A folder that cannot be read is skipped with a warning naming it."""
    fs, root = fsspec.core.url_to_fs(str(path), **dict(storage_options or {}))
    root = root.rstrip("/")
    rows, readers = [], {}
    counters: dict[tuple[str, str], int] = {}
    for d in _experiment_dirs(fs, root):
        try:
            meta, raw = read_experiment(fs, d)
            metric, mode = _metric_mode(meta, raw)
            if "st_tuner_time" not in raw or "trial_id" not in raw:
                raise InputError("results lack the columns 'trial_id' and 'st_tuner_time'")
            df = _to_hposim(meta, raw, metric)
        except Exception as e:
            warnings.warn(f"skipping {d}: not a readable Syne Tune experiment ({type(e).__name__}: {e})",
                          stacklevel=2)
            continue
        method = str(meta.get("algorithm") or meta.get("scheduler_name") or "syne-tune")
        entry = meta.get("entrypoint")
        bench = str(meta.get("benchmark") or meta.get("benchmark_name")
                    or (os.path.splitext(os.path.basename(entry))[0] if entry else "syne-tune"))
        if meta.get("seed") is not None:
            seed = int(meta["seed"])
        else:
            seed = counters.get((bench, method), 0)
            counters[(bench, method)] = seed + 1
        v = df[metric].to_numpy(dtype=float) if metric in df else np.array([])
        best = (np.nanmin(v) if mode == "min" else np.nanmax(v)) if np.isfinite(v).any() else np.nan
        rows.append({"benchmark": bench, "method": method, "seed": seed, "status": "done", "metric": metric,
                     "mode": mode, "wall_seconds": float(df["time"].max()) if len(df) else np.nan,
                     "n_trials": int(df["trial_id"].nunique()), "n_reports": int(len(df)), "best": best,
                     "final_time": float(df["time"].max()) if len(df) else np.nan,
                     "decision_time_total": np.nan, "optimum": np.nan, "worst": np.nan,
                     "max_time": meta.get("max_wallclock_time", np.nan), "error": None, "path": d,
                     "source": "syne-tune"})
        readers[(bench, method, seed)] = _frame_reader(df)
    return rows, readers, os.path.basename(root)


def _frame_reader(df: pd.DataFrame):
    def read(columns=None):
        return df.copy() if columns is None else df[[c for c in columns if c in df]].copy()

    return read
