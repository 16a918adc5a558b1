"""One run, browsable the way Ray Tune users expect.

``load_run(path)`` opens ``<root>/<study>/<benchmark>/<method>/<seed>`` (any fsspec URL), or a
single-run Parquet file written by ``hposim simulate --out`` (or a run's ``results.parquet``),
and returns a ``RunResults``: ``get_best_result(metric, mode, scope)`` with Ray Tune's scopes
(``SCOPES``), ``get_dataframe(...)`` (last report per trial, or the best one by a metric), each
trial's ``metrics_dataframe`` and ``path``, ``errors`` and the best trial's ``config``; and the
NePS views ``all_losses_and_configs()``, ``best_loss_trajectory()`` and ``status_summary()``.

Example:
    >>> run = load_run("demo-results/demo/mlp-digits/ASHA/0")     # doctest: +SKIP
    >>> best = run.get_best_result()                               # doctest: +SKIP
    >>> best.config, best.metrics["valid_error"]                   # doctest: +SKIP
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import fsspec
import numpy as np
import pandas as pd

from blackbox_repo.errors import InputError
from simulator.results import decode_run
from studies.layout import METADATA, RESULTS, RunIntegrityError, results_problem

__all__ = ["load_run", "RunResults", "TrialResult", "RUN_BOOKKEEPING_COLUMNS", "NotARunError", "SCOPES"]

#: ``get_best_result(scope=...)``: what of each trial's reports is compared (as in Ray Tune)
SCOPES = ("last", "all", "avg", "last-5-avg", "last-10-avg")


class NotARunError(InputError, FileNotFoundError):
    """``load_run`` was given a folder that holds no run (no ``metadata.json``), or a file that
    is not an hposim run file."""


#: results columns that are neither hyperparameters nor objectives
RUN_BOOKKEEPING_COLUMNS = ("trial_id", "fidelity", "time", "worker", "decision", "blackbox_seed",
                           "decision_time")


@dataclass
class TrialResult:
    """One trial (like Ray Tune's ``Result``): its config, chosen metrics, history, error and path.

    ``metrics`` is the report selected by the query that returned this trial (its last
    report, or its best one); ``metrics_dataframe`` holds every report of the trial; ``path``
    is the run's folder or file (a trial has no folder of its own).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"trial_id": [0, 0, 1], "lr": [0.1, 0.1, 0.01], "fidelity": [1, 2, 1],
        ...                    "time": [1.0, 2.0, 1.5], "loss": [0.5, 0.3, 0.6],
        ...                    "decision": ["continue", "complete", "stop"]})
        >>> trial = RunResults(df, {"metric": "loss", "mode": "min"})[1]
        >>> trial
        TrialResult(trial_id=1, status='stopped', config={'lr': 0.01})
        >>> trial.metrics, len(trial.metrics_dataframe)
        ({'loss': 0.6, 'fidelity': 1, 'time': 1.5}, 1)
    """

    trial_id: int
    config: dict
    metrics: dict
    metrics_dataframe: pd.DataFrame
    status: str
    error: str | None = None
    path: str = ""

    def __repr__(self) -> str:
        return f"TrialResult(trial_id={self.trial_id}, status={self.status!r}, config={self.config})"


class RunResults:
    """The reports of one run with Ray-Tune-like accessors.

    ``metric`` and ``mode`` default to the run's own.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"trial_id": [0, 0, 1], "lr": [0.1, 0.1, 0.01], "fidelity": [1, 2, 1],
        ...                    "time": [1.0, 2.0, 1.5], "loss": [0.5, 0.3, 0.6],
        ...                    "decision": ["continue", "complete", "stop"]})
        >>> run = RunResults(df, {"metric": "loss", "mode": "min", "status": "done"})
        >>> run, run.config
        (RunResults('', status='done', trials=2, metric='loss', mode='min'), {'lr': 0.1})
        >>> run.get_best_result().metrics
        {'loss': 0.3, 'fidelity': 2, 'time': 2.0}
    """

    def __init__(self, results: pd.DataFrame, metadata: Mapping[str, Any], path: str = ""):
        self.results = results
        self.metadata = dict(metadata)
        self.path = path
        self.metric = self.metadata.get("metric") or self.metadata.get("run", {}).get("metric")
        self.mode = self.metadata.get("mode") or self.metadata.get("run", {}).get("mode") or "min"
        self.status = self.metadata.get("status", "done")
        cols = list(results.columns)
        if "trial_id" in cols and "fidelity" in cols and cols.index("fidelity") > cols.index("trial_id"):
            self.config_columns = cols[cols.index("trial_id") + 1:cols.index("fidelity")]
        else:
            self.config_columns = [c for c in cols if c.startswith("config/")]
        self.metric_columns = [c for c in cols if c not in self.config_columns
                               and c not in RUN_BOOKKEEPING_COLUMNS]

    # ------------------------------------------------------------------ trials
    def __len__(self) -> int:
        return int(self.results["trial_id"].nunique()) if len(self.results) else 0

    def __iter__(self) -> Iterator[TrialResult]:
        for tid in sorted(self.results["trial_id"].unique()):
            yield self.trial(int(tid))

    def __getitem__(self, i: int) -> TrialResult:
        return self.trial(int(sorted(self.results["trial_id"].unique())[i]))

    def _status(self, rows: pd.DataFrame) -> str:
        if "decision" not in rows or rows.empty:
            return "unknown"
        last = str(rows["decision"].iloc[-1])
        return {"complete": "completed", "stop": "stopped", "pause": "paused", "failed": "failed",
                "continue": "running"}.get(last, last)

    def trial(self, trial_id: int, row: pd.Series | None = None) -> TrialResult:
        rows = self.results[self.results["trial_id"] == trial_id]
        if rows.empty:
            raise KeyError(f"trial {trial_id} is not in this run; trials: 0..{len(self) - 1}")
        if row is None:
            row = rows.iloc[-1]
        config = {c: _py(row[c]) for c in self.config_columns}
        metrics = {c: _py(row[c]) for c in self.metric_columns + ["fidelity", "time"] if c in row.index}
        status = self._status(rows)
        error = None
        if status == "failed":
            error = (f"trial {trial_id} failed at {self.metadata.get('benchmark_info', {}).get('fidelity_name', 'fidelity')}"
                     f"={_py(rows['fidelity'].iloc[-1])}: the blackbox has no value (NaN) there")
        return TrialResult(int(trial_id), config, metrics, rows.reset_index(drop=True), status, error, self.path)

    # ------------------------------------------------------------------ Ray-Tune-like queries
    def _metric_mode(self, metric: str | None, mode: str | None) -> tuple[str, str]:
        metric = metric or self.metric
        mode = mode or (self.mode if metric == self.metric else "min")
        if metric not in self.results.columns:
            import difflib

            close = difflib.get_close_matches(str(metric), self.metric_columns, n=1)
            raise InputError(f"unknown metric {metric!r}; this run reports {self.metric_columns}."
                             + (f" Did you mean {close[0]!r}?" if close else ""))
        if mode not in ("min", "max"):
            raise InputError(f"mode {mode!r} is not valid; allowed: 'min' or 'max'")
        return metric, mode

    def get_dataframe(self, filter_metric: str | None = None, filter_mode: str | None = None) -> pd.DataFrame:
        """One row per trial: its last report, or (with ``filter_metric``) its best report."""
        df = self.results
        if df.empty:
            return df.copy()
        if filter_metric is None:
            out = df.groupby("trial_id", sort=True).tail(1)
        else:
            metric, mode = self._metric_mode(filter_metric, filter_mode)
            v = df[metric].to_numpy(dtype=float)
            key = np.where(np.isnan(v), np.inf, v if mode == "min" else -v)
            order = np.lexsort((key, df["trial_id"].to_numpy()))
            out = df.iloc[order].groupby("trial_id", sort=True).head(1)
        out = out.sort_values("trial_id").reset_index(drop=True)
        return out.rename(columns={c: f"config/{c}" for c in self.config_columns})

    def get_best_result(self, metric: str | None = None, mode: str | None = None,
                        scope: str = "last") -> TrialResult:
        """The best trial by ``metric``, comparing per trial (as Ray Tune's ``scope``): its last
        report (``"last"``), its best report (``"all"``), the mean of all its reports
        (``"avg"``) or of its last 5 or 10 (``"last-5-avg"``, ``"last-10-avg"``; NaNs ignored).
        ``metrics`` is the trial's best report for ``"all"``, else its last report."""
        if scope not in SCOPES:
            import difflib

            close = difflib.get_close_matches(str(scope), SCOPES, n=1)
            raise InputError(f"scope {scope!r} is not valid; allowed: {', '.join(map(repr, SCOPES))}"
                             + (f". Did you mean {close[0]!r}?" if close else ""))
        metric, mode = self._metric_mode(metric, mode)
        table = self.get_dataframe() if scope != "all" else self.get_dataframe(metric, mode)
        if table.empty:
            raise InputError(f"run {self.path or ''} has no reports")
        if scope.endswith("avg"):
            window = len(self.results) if scope == "avg" else int(scope.split("-")[1])
            per_trial = self.results.groupby("trial_id", sort=True).tail(window)
            with np.errstate(all="ignore"):
                v = per_trial.groupby("trial_id", sort=True)[metric].mean().to_numpy(dtype=float)
        else:
            v = table[metric].to_numpy(dtype=float)
        if not np.isfinite(v).any():
            raise InputError(f"no trial of run {self.path} reported a finite {metric!r}")
        i = int(np.nanargmin(v) if mode == "min" else np.nanargmax(v))
        tid = int(table["trial_id"].iloc[i])
        rows = self.results[self.results["trial_id"] == tid]
        row = rows[rows["time"] == table["time"].iloc[i]].iloc[-1] if "time" in rows else rows.iloc[-1]
        return self.trial(tid, row)

    # ------------------------------------------------------------------ NePS-like views
    def all_losses_and_configs(self, metric: str | None = None, mode: str | None = None) -> pd.DataFrame:
        """Every evaluation (report) in time order, as NePS's ``all_losses_and_configs``:
        ``evaluation`` (1, 2, ...), ``config_id`` (the trial id), ``fidelity``, ``time``,
        ``loss`` (the metric, negated in ``max`` mode so that lower is better; NaN when the
        evaluation failed), the metric columns, ``decision``, and ``config.<name>`` per
        hyperparameter."""
        metric, mode = self._metric_mode(metric, mode)
        df = self.results.sort_values("time", kind="stable") if "time" in self.results else self.results
        v = df[metric].to_numpy(dtype=float)
        out = pd.DataFrame({"evaluation": np.arange(1, len(df) + 1), "config_id": df["trial_id"].to_numpy()})
        for c in ("fidelity", "time"):
            if c in df:
                out[c] = df[c].to_numpy()
        out["loss"] = v if mode == "min" else -v
        for c in self.metric_columns:
            out[c] = df[c].to_numpy()
        if "decision" in df:
            out["decision"] = df["decision"].astype(str).to_numpy()
        for c in self.config_columns:
            out[f"config.{c}"] = df[c].to_numpy()
        return out

    def best_loss_trajectory(self, metric: str | None = None, mode: str | None = None) -> pd.DataFrame:
        """The evaluations that improved the best loss so far (NePS's ``best_loss_trajectory``),
        with the columns of ``all_losses_and_configs``."""
        table = self.all_losses_and_configs(metric, mode)
        loss = table["loss"].to_numpy(dtype=float)
        best_before = np.minimum.accumulate(np.concatenate([[np.inf], np.where(np.isnan(loss), np.inf, loss)]))[:-1]
        return table[loss < best_before].reset_index(drop=True)

    def status_summary(self, metric: str | None = None, mode: str | None = None) -> dict[str, Any]:
        """What ``neps.status`` reports, under NePS's names: ``num_evaluated_configs`` (trials),
        ``num_evaluations`` (reports), ``num_error`` (failed trials), ``best_loss``,
        ``best_config_id`` and ``best_config``; plus ``metric``, ``mode`` and ``best_value``
        (the metric itself, not negated)."""
        metric, mode = self._metric_mode(metric, mode)
        df = self.results
        if "time" in df and not df["time"].is_monotonic_increasing:
            df = df.iloc[np.argsort(df["time"].to_numpy(dtype=float), kind="stable")]
        failed = df.loc[df["decision"].astype(str) == "failed", "trial_id"].nunique() if "decision" in df else 0
        out: dict[str, Any] = {"metric": metric, "mode": mode, "num_evaluated_configs": len(self),
                               "num_evaluations": len(df), "num_error": int(failed), "best_loss": np.nan,
                               "best_value": np.nan, "best_config_id": None, "best_config": None}
        v = df[metric].to_numpy(dtype=float)
        loss = v if mode == "min" else -v
        if np.isfinite(loss).any():
            i = int(np.nanargmin(loss))
            row = df.iloc[i]
            out.update(best_loss=float(loss[i]), best_value=float(v[i]), best_config_id=int(row["trial_id"]),
                       best_config={c: _py(row[c]) for c in self.config_columns})
        return out

    @property
    def config(self) -> dict:
        """The configuration of the best trial (run's metric and mode, best report)."""
        return self.get_best_result(scope="all").config

    @property
    def errors(self) -> list[str]:
        """The run's error (if it failed), then one message per failed trial."""
        out = []
        err = self.metadata.get("error")
        if err:
            out.append(f"{err.get('type')}: {err.get('message')}\n{err.get('traceback', '')}".strip())
        if "decision" in self.results:
            failed = self.results[self.results["decision"].astype(str) == "failed"]["trial_id"].unique()
            out += [self.trial(int(t)).error for t in failed]
        return out

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    @property
    def num_terminated(self) -> int:
        return sum(t.status in ("completed", "stopped") for t in self)

    def __repr__(self) -> str:
        return (f"RunResults({self.path!r}, status={self.status!r}, trials={len(self)}, "
                f"metric={self.metric!r}, mode={self.mode!r})")


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def load_run(path: str, storage_options: Mapping[str, Any] | None = None) -> RunResults:
    """Open one run: a study run folder (``.../<benchmark>/<method>/<seed>``) or a single-run
    Parquet file (``hposim simulate --out run.parquet``, or a run's ``results.parquet``), on any
    fsspec URL."""
    fs, p = fsspec.core.url_to_fs(str(path).rstrip("/"), **dict(storage_options or {}))
    if fs.isfile(p):
        return _load_run_file(fs, p, str(path))
    try:
        meta = json.loads(fs.cat_file(f"{p}/{METADATA}"))
    except FileNotFoundError:
        raise NotARunError(f"{path} is not a run folder: no {METADATA} (expected "
                           f"<root>/<study>/<benchmark>/<method>/<seed>, or a run file written by "
                           f"'hposim simulate --out')") from None
    except ValueError as e:
        raise RunIntegrityError(f"{path}/{METADATA} is corrupt: {e}") from None
    if meta.get("status") == "done":
        try:
            data = fs.cat_file(f"{p}/{RESULTS}")
        except FileNotFoundError:
            data = FileNotFoundError("no such file")
        problem = results_problem(meta, data)
        if problem:
            raise RunIntegrityError(f"run {path} is corrupt: {problem}; 'hposim study run' recomputes it")
        results = decode_run(data, f"{path}/{RESULTS}").results
    else:
        results = pd.DataFrame(columns=["trial_id", "fidelity", "time"])
    return RunResults(results, meta, str(path))


def _load_run_file(fs: Any, p: str, path: str) -> RunResults:
    """A run from its Parquet file alone: the metadata is the one stored in the file."""
    data = fs.cat_file(p)
    try:
        run = decode_run(data, path)
    except Exception as e:   # not Parquet at all (pyarrow's errors), or Parquet without hposim's key
        raise NotARunError(f"{path} is not an hposim run file ({type(e).__name__}: {e}); give a file "
                           f"written by 'hposim simulate --out' or a run folder") from None
    meta = {"status": "done", **run.metadata}
    return RunResults(run.results, meta, path)
