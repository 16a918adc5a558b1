"""Multi-objective analysis of a study: Pareto fronts and hypervolume over time.

A benchmark is multi-objective when its runs were made with several metrics (``metric: [a, b]``,
``mode: [max, min]`` in the spec; the runs' metadata keep ``metrics`` and ``modes``, the
``metrics``/``modes`` columns of ``StudyResults.runs``). Every report of a run counts -- as in
the single-objective trajectories, where every report's metric counts -- with each metric
oriented so that lower is better ("max" metrics negated) for the computations; tables and
figures show the original values.

**Reference point** (``reference_points``), per benchmark and stated in every output: over all
reports of all done runs of the benchmark (every method and seed), per metric the worst value
observed plus 10% of the observed range (range 0: plus 1), in the metric's direction -- for a
"min" metric ``max + 0.1 (max - min)``, for a "max" metric ``min - 0.1 (max - min)``. Every
observed point then dominates it strictly, so each report adds volume, the reference is the
same for all methods and seeds of a benchmark, and it does not depend on the order of runs.
Reports with a NaN metric are left out.

**Hypervolume over time** (``hypervolume_trajectories``): for every done run, the exact
hypervolume (``methods.pareto.hypervolume``) of the reports made up to each time of the grid
the single-objective trajectories use (``n_points`` times from 0, or log-spaced, to the end of
the budget), and ``normalized``: that hypervolume divided by the hypervolume of all reports of
the benchmark (the best front known, 1 = as good as every run together). Aggregate it over seeds
with ``studies.analysis.aggregate(traj, stat, value="hypervolume")``, as trajectories are.

Example:
    >>> from studies.analysis import load_study
    >>> study = load_study("results/mo-study")                   # doctest: +SKIP
    >>> reference_points(study)                                  # doctest: +SKIP
    >>> aggregate(hypervolume_trajectories(study), "mean_se", value="hypervolume")   # doctest: +SKIP
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from methods.pareto import hypervolume, non_dominated_mask
from studies.analysis import StudyResults, aggregate

__all__ = ["objectives_of", "multi_objective_benchmarks", "run_scores", "reference_points", "front_of", "pareto_front",
           "pareto_fronts", "hypervolume_trajectories", "final_hypervolumes", "aggregate"]

#: the reference point's margin beyond the worst observed value, as a fraction of the range
MARGIN = 0.1


def _as_list(value: Any) -> list | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return list(value) if isinstance(value, (list, tuple)) else None


def objectives_of(study: StudyResults, benchmark: str) -> tuple[list[str], list[str]] | None:
    """``(metrics, modes)`` of a multi-objective benchmark (from its runs), else ``None``."""
    runs = study.runs
    if "metrics" not in runs:
        return None
    rows = runs[runs["benchmark"] == benchmark]
    for metrics, modes in zip(rows["metrics"], rows["modes"]):
        metrics, modes = _as_list(metrics), _as_list(modes)
        if metrics and len(metrics) > 1:
            return [str(m) for m in metrics], [str(m) for m in (modes or ["min"] * len(metrics))]
    return None


def multi_objective_benchmarks(study: StudyResults) -> list[str]:
    """The study's benchmarks that were run with several metrics, in the study's order."""
    return [b for b in study.benchmarks if objectives_of(study, b) is not None]


def _signs(modes: Sequence[str]) -> np.ndarray:
    return np.array([1.0 if m == "min" else -1.0 for m in modes])


def run_scores(study: StudyResults, benchmark: str, method: str, seed: int,
               extra: Sequence[str] = ()) -> tuple[pd.DataFrame, np.ndarray]:
    """The reports of one run with every metric finite, in time order, and their score matrix
    (reports x metrics, lower is better)."""
    metrics, modes = _require(study, benchmark)
    cols = ["time", *metrics, *[c for c in extra if c not in metrics]]
    df = study.read_run(benchmark, method, seed, cols)
    if df is None or any(m not in df for m in metrics):
        return pd.DataFrame(columns=cols), np.zeros((0, len(metrics)))
    values = df[metrics].to_numpy(dtype=float)
    keep = np.isfinite(values).all(axis=1)
    df = df[keep]
    order = np.argsort(df["time"].to_numpy(dtype=float), kind="stable")
    df = df.iloc[order].reset_index(drop=True)
    return df, df[metrics].to_numpy(dtype=float) * _signs(modes)


def _require(study: StudyResults, benchmark: str) -> tuple[list[str], list[str]]:
    found = objectives_of(study, benchmark)
    if found is None:
        raise ValueError(f"benchmark {benchmark!r} was not run with several metrics; multi-objective "
                         f"benchmarks of this study: {multi_objective_benchmarks(study)}")
    return found


def _benchmark_scores(study: StudyResults, benchmark: str) -> np.ndarray:
    """Every finite score vector of every done run of the benchmark (cached)."""
    key = ("mo_scores", benchmark)
    if key not in study._cache:
        rows = study.done[study.done["benchmark"] == benchmark]
        parts = [run_scores(study, benchmark, r.method, r.seed)[1] for r in rows.itertuples(index=False)]
        k = len(_require(study, benchmark)[0])
        study._cache[key] = np.vstack(parts) if parts else np.zeros((0, k))
    return study._cache[key]


def _reference(study: StudyResults, benchmark: str) -> np.ndarray:
    Y = _benchmark_scores(study, benchmark)
    if len(Y) == 0:
        return np.full(Y.shape[1], np.nan)
    hi, lo = Y.max(axis=0), Y.min(axis=0)
    span = hi - lo
    return hi + np.where(span > 0, MARGIN * span, 1.0)


def reference_points(study: StudyResults) -> pd.DataFrame:
    """Per multi-objective benchmark and metric: the mode and the reference point's value (in
    the metric's own units and direction), and the rule it follows.

    Columns: benchmark, metric, mode, reference, worst_observed, best_observed, rule.
    """
    rows = []
    for bench in multi_objective_benchmarks(study):
        metrics, modes = _require(study, bench)
        signs = _signs(modes)
        Y = _benchmark_scores(study, bench)
        ref = _reference(study, bench) * signs
        worst = (Y.max(axis=0) * signs) if len(Y) else np.full(len(metrics), np.nan)
        best = (Y.min(axis=0) * signs) if len(Y) else np.full(len(metrics), np.nan)
        for j, (m, mode) in enumerate(zip(metrics, modes)):
            rows.append({"benchmark": bench, "metric": m, "mode": mode, "reference": float(ref[j]),
                         "worst_observed": float(worst[j]), "best_observed": float(best[j]),
                         "rule": f"worst observed {m} over all runs of the benchmark "
                                 f"{'+' if mode == 'min' else '-'} {MARGIN:.0%} of its observed range"})
    return pd.DataFrame(rows, columns=["benchmark", "metric", "mode", "reference", "worst_observed",
                                       "best_observed", "rule"])


def front_of(reports: pd.DataFrame, metrics: Sequence[str], modes: Sequence[str]) -> pd.DataFrame:
    """The rows of a results table (e.g. ``SimulationResult.results``) on its Pareto front for
    ``metrics`` with ``modes``; rows with a NaN metric are left out. Sorted by the first metric.

    Example:
        >>> df = pd.DataFrame({"acc": [0.9, 0.8, 0.95, 0.7], "latency": [2.0, 1.0, 3.0, 1.5]})
        >>> front_of(df, ["acc", "latency"], ["max", "min"])["acc"].tolist()
        [0.8, 0.9, 0.95]
    """
    values = reports[list(metrics)].to_numpy(dtype=float)
    keep = np.isfinite(values).all(axis=1)
    rows, Y = reports[keep], values[keep] * _signs(modes)
    if len(rows) == 0:
        return rows
    return rows[non_dominated_mask(Y)].sort_values(list(metrics)[0], kind="stable")


def pareto_front(study: StudyResults, benchmark: str, method: str, seed: int) -> pd.DataFrame:
    """The reports of one run on its Pareto front (every report of the run counts), sorted by
    the first metric. Columns: trial_id, fidelity, time and the metrics (original values)."""
    df, Y = run_scores(study, benchmark, method, seed, extra=("trial_id", "fidelity"))
    if len(df) == 0:
        return df
    front = df[non_dominated_mask(Y)]
    metrics = _require(study, benchmark)[0]
    return front.sort_values([metrics[0], "time"], kind="stable").reset_index(drop=True)


def pareto_fronts(study: StudyResults, benchmark: str, pooled: bool = True) -> pd.DataFrame:
    """The Pareto front of every method on ``benchmark``: with ``pooled`` the front of all its
    seeds' reports together (one front per method), else one front per run (a ``seed`` column).
    Columns: method, seed (-1 when pooled), the metrics, time."""
    metrics, modes = _require(study, benchmark)
    frames = []
    rows = study.done[study.done["benchmark"] == benchmark]
    for method in [m for m in study.methods if m in set(rows["method"])]:
        parts = []
        for r in rows[rows["method"] == method].itertuples(index=False):
            df, _ = run_scores(study, benchmark, method, r.seed)
            parts.append(df.assign(seed=r.seed))
        if not parts:
            continue
        runs = [pd.concat(parts, ignore_index=True)] if pooled else parts
        for df in runs:
            if df.empty:
                continue
            Y = df[metrics].to_numpy(dtype=float) * _signs(modes)
            front = df[non_dominated_mask(Y)].drop_duplicates(metrics)
            if pooled:
                front = front.assign(seed=-1)
            frames.append(front[["seed", *metrics, "time"]].assign(method=method))
    cols = ["method", "seed", *metrics, "time"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols].sort_values(["method", "seed", metrics[0]],
                                                                  kind="stable").reset_index(drop=True)


def _grid(study: StudyResults, benchmark: str, runs: list[tuple[Any, np.ndarray]], n_points: int,
          log_x: bool) -> np.ndarray:
    """The single-objective trajectories' grid: to the budget's end (max_time, else the last report)."""
    ends = [r.max_time if pd.notna(r.max_time) else (t[-1] if len(t) else 0.0) for r, t in runs]
    t_end = float(np.nanmax(ends)) if ends else 1.0
    if not np.isfinite(t_end) or t_end <= 0:
        t_end = max((t[-1] for _, t in runs if len(t)), default=1.0) or 1.0
    if log_x:
        t_pos = [t[t > 0][0] for _, t in runs if np.any(t > 0)]
        t0 = max(min(t_pos) if t_pos else t_end / 1e3, t_end / 1e6)
        return np.geomspace(t0, t_end, n_points)
    return np.linspace(0.0, t_end, n_points)


def _hypervolume_curve(t: np.ndarray, Y: np.ndarray, grid: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Hypervolume of the reports made up to each grid time (NaN before the first report): the
    front is carried from one grid time to the next with the reports made in between."""
    out = np.full(len(grid), np.nan)
    ends = np.searchsorted(t, grid, side="right")
    front = Y[:0]
    start = 0
    for i, end in enumerate(ends.tolist()):
        if end == 0:
            continue
        if end > start:
            cand = np.vstack([front, Y[start:end]])
            front = cand[non_dominated_mask(cand)]
            start = end
        out[i] = hypervolume(front, ref)
    return out


def hypervolume_trajectories(study: StudyResults, n_points: int = 100, log_x: bool = False) -> pd.DataFrame:
    """Hypervolume so far of every done run of every multi-objective benchmark on the grid of
    the single-objective trajectories. Columns: benchmark, method, seed, step, time,
    hypervolume, normalized (divided by the hypervolume of all the benchmark's reports). The
    reference point of each benchmark is in ``attrs["reference_points"]`` (``reference_points``)."""
    key = ("mo_hv", n_points, log_x)
    if key in study._cache:
        return study._cache[key]
    frames = []
    for bench in multi_objective_benchmarks(study):
        ref = _reference(study, bench)
        if not np.isfinite(ref).all():
            continue
        best = hypervolume(_benchmark_scores(study, bench), ref)
        rows = study.done[study.done["benchmark"] == bench]
        runs, data = [], []
        for r in rows.itertuples(index=False):
            df, Y = run_scores(study, bench, r.method, r.seed)
            t = df["time"].to_numpy(dtype=float)
            runs.append((r, t))
            data.append(Y)
        grid = _grid(study, bench, runs, n_points, log_x)
        for (r, t), Y in zip(runs, data):
            hv = _hypervolume_curve(t, Y, grid, ref)
            frames.append(pd.DataFrame({"benchmark": bench, "method": r.method, "seed": r.seed,
                                        "step": np.arange(n_points), "time": grid, "hypervolume": hv,
                                        "normalized": hv / best if best > 0 else np.nan}))
    cols = ["benchmark", "method", "seed", "step", "time", "hypervolume", "normalized"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out.attrs["reference_points"] = reference_points(study).to_dict("records")
    study._cache[key] = out
    return out


def final_hypervolumes(study: StudyResults, n_points: int = 100) -> pd.DataFrame:
    """Per multi-objective benchmark and method: the hypervolume at the end of the budget,
    mean and standard error over seeds, the normalized mean, the number of seeds, and the
    reference point (as text, metric=value)."""
    traj = hypervolume_trajectories(study, n_points)
    if traj.empty:
        return pd.DataFrame(columns=["benchmark", "method", "mean", "se", "normalized", "n", "reference"])
    last = traj[traj["step"] == traj["step"].max()]
    refs = reference_points(study)
    rows = []
    for (bench, method), g in last.groupby(["benchmark", "method"], sort=False):
        v = g["hypervolume"].to_numpy(dtype=float)
        n = int(np.sum(np.isfinite(v)))
        r = refs[refs["benchmark"] == bench]
        rows.append({"benchmark": bench, "method": method, "mean": float(np.nanmean(v)) if n else np.nan,
                     "se": float(np.nanstd(v, ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
                     "normalized": float(np.nanmean(g["normalized"].to_numpy(dtype=float))) if n else np.nan,
                     "n": n, "reference": ", ".join(f"{m}={v:.6g}" for m, v in zip(r["metric"], r["reference"]))})
    return pd.DataFrame(rows)
