"""Loading a study into pandas: runs, reports, best-so-far trajectories, aggregates, ranks, tables.

``load_study(path)`` reads an hposim study folder (``<root>/<study>``, any fsspec URL), a
folder of Syne Tune experiments, or a list of such paths (combined). Reports are read
lazily, with column projection, only when asked for.

Trajectories: for every run, the best metric value reported so far, sampled on a grid of
simulated times shared by all runs of a benchmark (``n_points`` points from 0, or log-spaced
from the first report, to the end of the budget). Before a run's first report the value is
NaN. Grid index ``i`` of every benchmark is the same fraction of its budget, which is how
ranks are averaged across benchmarks.

With ``x="evaluations"`` (NePS's x-axis: ``neps.plot`` draws the best loss against the number
of evaluations) the grid is the number of evaluations (reports) so far instead, from 1 to the
largest number of reports of a run of the benchmark, and the column ``evaluations`` replaces
``time``; after its last report a run keeps its final best value, as on the time axis.

Example:
    >>> study = load_study("demo-results/demo")          # doctest: +SKIP
    >>> study.final_table()                               # doctest: +SKIP
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.errors import InputError
from studies.blocks import EARLY_END_REASONS, Blocks, PanelSeeds, complete_blocks, panel_seeds
from studies import syne_tune_io
from studies.fingerprint import provenance
from studies.layout import RESULTS, RunIntegrityError, StudyStore
from studies.run_view import RunResults

__all__ = ["load_study", "StudyResults", "aggregate", "STATS", "X_AXES", "check_x_axis", "x_column",
           "interquartile_mean"]

STATS = ("mean_se", "median_iqr", "iqm")
#: what trajectories are sampled against: simulated seconds, or the number of evaluations (reports)
X_AXES = ("time", "evaluations")
RUN_COLUMNS = ["benchmark", "method", "seed", "status", "metric", "mode", "wall_seconds", "suggest_seconds",
               "n_trials",
               "n_reports", "best", "final_time", "decision_time_total", "optimum", "worst", "max_time",
               "error", "path", "source", "end_reason", "end_time", "metrics", "modes",
               # what produced the run (``studies.fingerprint``)
               "settings_sha256", "provenance", "hposim_version", "semantics_version"]


def interquartile_mean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Mean of the middle 50% of values along ``axis`` (NaNs ignored)."""
    x = np.sort(x, axis=axis)  # NaNs last
    n = np.sum(~np.isnan(x), axis=axis, keepdims=True)
    idx = np.arange(x.shape[axis]).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    lo = np.floor(n * 0.25)
    hi = np.ceil(n * 0.75)
    hi = np.where(hi <= lo, lo + 1, hi)
    mask = (idx >= lo) & (idx < hi) & (idx < n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nansum(np.where(mask, x, 0.0), axis=axis) / np.sum(mask, axis=axis)


def _center_bands(m: np.ndarray, stat: str, n_boot: int, ci: float, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m``: seeds x times. Returns center, lower, upper over seeds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if stat == "mean_se":
            c = np.nanmean(m, axis=0)
            n = np.sum(~np.isnan(m), axis=0)
            se = np.nanstd(m, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
            se = np.where(n > 1, se, 0.0)
            return c, c - se, c + se
        if stat == "median_iqr":
            q = np.nanpercentile(m, [50, 25, 75], axis=0)
            return q[0], q[1], q[2]
        if stat == "iqm":
            c = interquartile_mean(m, axis=0)
            n = m.shape[0]
            if n < 2:
                return c, c, c
            idx = rng.integers(0, n, size=(n_boot, n))
            boots = interquartile_mean(m[idx], axis=1)  # n_boot x times
            a = (1 - ci) / 2 * 100
            lo, hi = np.nanpercentile(boots, [a, 100 - a], axis=0)
            return c, lo, hi
    raise InputError(f"unknown statistic {stat!r}; allowed: {list(STATS)}")


def check_x_axis(x: str) -> str:
    """``x`` if it is one of ``X_AXES``, else an ``InputError`` naming the allowed values.

    Example:
        >>> check_x_axis("evaluations")
        'evaluations'
    """
    if x not in X_AXES:
        raise InputError(f"x-axis {x!r} is not valid; allowed: {', '.join(map(repr, X_AXES))}")
    return x


def x_column(traj: pd.DataFrame) -> str:
    """The x-axis column of a trajectories table: ``evaluations`` or ``time``."""
    return "evaluations" if "evaluations" in traj.columns else "time"


def aggregate(traj: pd.DataFrame, stat: str = "mean_se", value: str = "best", *, n_boot: int = 500,
              ci: float = 0.95, seed: int = 0, fixed_seeds: bool = True) -> pd.DataFrame:
    """Aggregate trajectories over seeds: one row per (benchmark, method, grid point).

    ``stat``: ``mean_se`` (mean, +- standard error), ``median_iqr`` (median, quartiles) or
    ``iqm`` (interquartile mean with a bootstrap ``ci`` interval over seeds).

    With ``fixed_seeds`` (default), the statistic is computed over the same seeds at every grid
    point: it is NaN until every seed of the (benchmark, method) has a value (a run's last
    value is carried forward after it ends), so a best-so-far aggregate never rises (min) or
    falls (max) because the set of seeds changed. ``n`` is the number of seeds used.
    The x-axis column (``time`` or ``evaluations``) is the one of ``traj``.
    """
    if stat not in STATS:
        import difflib

        close = difflib.get_close_matches(stat, STATS, n=1)
        raise InputError(f"unknown statistic {stat!r}; allowed: {list(STATS)}."
                         + (f" Did you mean {close[0]!r}?" if close else ""))
    rng = np.random.default_rng(seed)
    xcol = x_column(traj)
    out = []
    for (bench, method), g in traj.groupby(["benchmark", "method"], sort=False, observed=True):
        m = g.pivot(index="seed", columns="step", values=value)
        steps = m.columns.to_numpy()
        times = g.drop_duplicates("step").set_index("step").loc[steps, xcol].to_numpy()
        values = m.to_numpy(dtype=float)
        c, lo, hi = _center_bands(values, stat, n_boot, ci, rng)
        n = np.sum(~np.isnan(values), axis=0)
        if fixed_seeds:
            partial = n < values.shape[0]
            c, lo, hi = (np.where(partial, np.nan, a) for a in (c, lo, hi))
            n = np.where(partial, 0, n)
        out.append(pd.DataFrame({"benchmark": bench, "method": method, "step": steps, xcol: times,
                                 "center": c, "lower": lo, "upper": hi, "n": n}))
    if not out:
        return pd.DataFrame(columns=["benchmark", "method", "step", xcol, "center", "lower", "upper", "n"])
    return pd.concat(out, ignore_index=True)


@dataclass
class StudyResults:
    """A loaded study: the runs table, and reports, trajectories, ranks and tables on demand.

    Example:
        >>> r = StudyResults(pd.DataFrame(columns=RUN_COLUMNS), {})
        >>> len(r.runs)
        0
    """

    runs: pd.DataFrame
    _readers: dict[tuple[str, str, int], Callable[[Sequence[str] | None], pd.DataFrame]]
    name: str = ""
    spec: str | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ basics
    @property
    def done(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "done"]

    @property
    def benchmarks(self) -> list[str]:
        return list(dict.fromkeys(self.runs["benchmark"]))

    @property
    def methods(self) -> list[str]:
        """Methods in the spec's order (then any others in order of appearance)."""
        found = list(dict.fromkeys(self.runs["method"]))
        order = []
        if self.spec:
            import yaml

            try:
                order = [m for m in (yaml.safe_load(self.spec) or {}).get("methods", {}) if m in found]
            except yaml.YAMLError:
                order = []
        return order + [m for m in found if m not in order]

    def failures(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] != "done"]

    def metric_of(self, benchmark: str) -> tuple[str, str]:
        rows = self.done[self.done["benchmark"] == benchmark]
        if rows.empty:
            rows = self.runs[self.runs["benchmark"] == benchmark]
        r = rows.iloc[0]
        return str(r["metric"]), str(r["mode"] or "min")

    def read_run(self, benchmark: str, method: str, seed: int,
                 columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The reports of one run (only ``columns`` when given)."""
        return self._readers[(benchmark, method, int(seed))](columns)

    def run(self, benchmark: str, method: str, seed: int) -> "RunResults":
        """One run as a ``RunResults`` (``load_run``'s object: ``get_best_result``, the NePS views)."""
        rows = self.runs[(self.runs["benchmark"] == benchmark) & (self.runs["method"] == method)
                         & (self.runs["seed"] == int(seed))]
        if rows.empty:
            raise InputError(f"no run {benchmark}/{method}/{seed} in study {self.name!r}; runs: "
                             f"{len(self.runs)} (see .runs)")
        r = rows.iloc[0]
        df = self.read_run(benchmark, method, seed) if r["status"] == "done" else None
        if df is None:
            df = pd.DataFrame(columns=["trial_id", "fidelity", "time"])
        meta = {"metric": r["metric"], "mode": r["mode"], "status": r["status"]}
        return RunResults(df, meta, str(r["path"]))

    def reports(self, columns: Sequence[str] | None = None, benchmarks: Sequence[str] | None = None,
                methods: Sequence[str] | None = None) -> pd.DataFrame:
        """All reports of done runs as one DataFrame with ``benchmark, method, seed`` columns.

        Only the requested ``columns`` are read from each file (missing ones are left out)."""
        frames = []
        for r in self.done.itertuples(index=False):
            if (benchmarks and r.benchmark not in benchmarks) or (methods and r.method not in methods):
                continue
            df = self.read_run(r.benchmark, r.method, r.seed, columns)
            if df is None:
                continue
            df.insert(0, "seed", r.seed)
            df.insert(0, "method", r.method)
            df.insert(0, "benchmark", r.benchmark)
            frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["benchmark", "method", "seed", *(columns or [])])
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ trajectories
    def trajectories(self, n_points: int = 100, log_x: bool = False, x: str = "time") -> pd.DataFrame:
        """Best-so-far of every done run on a per-benchmark grid of simulated times
        (``x="evaluations"``: of numbers of evaluations, i.e. reports so far).

        Columns: benchmark, method, seed, step (grid index), time (seconds; ``evaluations``
        instead with ``x="evaluations"``), best (the metric), regret (normalized to [0, 1] when
        the benchmark's optimum is known, else NaN).
        """
        check_x_axis(x)
        key = ("traj", n_points, log_x, x)
        if key in self._cache:
            return self._cache[key]
        frames = []
        for bench in self.benchmarks:
            rows = self.done[self.done["benchmark"] == bench]
            if rows.empty:
                continue
            metric, mode = self.metric_of(bench)
            curves = []
            for r in rows.itertuples(index=False):
                df = self.read_run(r.benchmark, r.method, r.seed, ["time", metric])
                if df is None or metric not in df:
                    continue
                t = df["time"].to_numpy(dtype=float)
                v = df[metric].to_numpy(dtype=float)
                order = np.argsort(t, kind="stable")
                t, v = t[order], v[order]
                v = np.where(np.isnan(v), np.inf if mode == "min" else -np.inf, v)
                best = np.minimum.accumulate(v) if mode == "min" else np.maximum.accumulate(v)
                best = np.where(np.isinf(best), np.nan, best)
                curves.append((r, t if x == "time" else np.arange(1.0, len(t) + 1), best))
            if not curves:
                continue
            if x == "evaluations":
                n_max = float(max((len(t) for _, t, _ in curves), default=1) or 1)
                grid = np.geomspace(1.0, n_max, n_points) if log_x else np.linspace(1.0, n_max, n_points)
                frames += self._on_grid(bench, rows, curves, grid, "evaluations")
                continue
            t_end = np.nanmax([r.max_time if pd.notna(r.max_time) else (t[-1] if len(t) else 0.0)
                               for r, t, _ in curves])
            if not np.isfinite(t_end) or t_end <= 0:
                t_end = max((t[-1] for _, t, _ in curves if len(t)), default=1.0) or 1.0
            if log_x:
                t_pos = [t[t > 0][0] for _, t, _ in curves if np.any(t > 0)]
                t0 = max(min(t_pos) if t_pos else t_end / 1e3, t_end / 1e6)
                grid = np.geomspace(t0, t_end, n_points)
            else:
                grid = np.linspace(0.0, t_end, n_points)
            frames += self._on_grid(bench, rows, curves, grid, "time")
        cols = ["benchmark", "method", "seed", "step", x, "best", "regret"]
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        self._cache[key] = out
        return out

    @staticmethod
    def _on_grid(bench: str, rows: pd.DataFrame, curves: list, grid: np.ndarray, xcol: str) -> list[pd.DataFrame]:
        """Each run's best-so-far (``curves``: run, x positions, best) sampled on ``grid``."""
        opt = rows["optimum"].dropna()
        worst = rows["worst"].dropna()
        frames = []
        for r, t, best in curves:
            i = np.searchsorted(t, grid, side="right") - 1
            vals = np.where(i >= 0, best[np.clip(i, 0, None)] if len(best) else np.nan, np.nan)
            if len(opt) and len(worst) and float(worst.iloc[0]) != float(opt.iloc[0]):
                o, w = float(opt.iloc[0]), float(worst.iloc[0])
                regret = (vals - o) / (w - o)
            else:
                regret = np.full(len(grid), np.nan)
            frames.append(pd.DataFrame({"benchmark": bench, "method": r.method, "seed": r.seed,
                                        "step": np.arange(len(grid)), xcol: grid, "best": vals,
                                        "regret": regret}))
        return frames

    def aggregate(self, stat: str = "mean_se", value: str = "best", n_points: int = 100,
                  log_x: bool = False, x: str = "time", **kw: Any) -> pd.DataFrame:
        """Center and band per method over time (``x="evaluations"``: over the number of
        evaluations), over each benchmark's fixed set of seeds.

        Per benchmark, the seeds are those where every method with a done run there is done
        (``panel_seeds``); the statistic starts once all of them have a first report."""
        traj = self.trajectories(n_points, log_x, x)
        keep = np.zeros(len(traj), dtype=bool)
        for bench in self.benchmarks:
            panel = self.panel(bench)
            in_bench = (traj["benchmark"] == bench).to_numpy()
            if panel.shared:
                keep |= in_bench & traj["seed"].isin(panel.seeds).to_numpy()
            else:
                keep |= in_bench
        return aggregate(traj[keep], stat, value, **kw)

    # ------------------------------------------------------------------ blocks
    def blocks(self, methods: Sequence[str] | None = None) -> Blocks:
        """The (benchmark, seed) blocks where every compared method has a done run (see ``studies.blocks``)."""
        key = ("blocks", tuple(methods) if methods is not None else None)
        if key not in self._cache:
            self._cache[key] = complete_blocks(self.runs, self.methods if methods is None else methods,
                                               self.benchmarks)
        return self._cache[key]

    def panel(self, benchmark: str) -> PanelSeeds:
        """What a figure panel of ``benchmark`` shows: methods, fixed seeds, methods not shown and why."""
        return panel_seeds(self.runs, benchmark, self.methods)

    def ended_early(self) -> pd.DataFrame:
        """Done runs the simulator ended before the end of the time axis: with a time budget
        (``max_time``), any end before it (table exhausted, max_trials, target, ...); without
        one, a table that ran out. Columns: benchmark, method, seed, end_reason, end_time."""
        cols = ["benchmark", "method", "seed", "end_reason", "end_time"]
        d = self.done
        if "end_reason" not in d:
            return pd.DataFrame(columns=cols)
        budget = pd.to_numeric(d["max_time"], errors="coerce")
        before = budget.notna() & (d["end_time"] < budget * (1 - 1e-9))
        early = d["end_time"].notna() & ((d["end_reason"] == "exhausted")
                                         | (d["end_reason"].isin(EARLY_END_REASONS) & before))
        return d.loc[early, cols].reset_index(drop=True)

    # ------------------------------------------------------------------ ranks
    def ranks(self, n_points: int = 100, log_x: bool = False, x: str = "time") -> pd.DataFrame:
        """Rank of each method per benchmark over time (1 = best), averaged over seeds.

        Only the blocks of ``blocks()`` count: the (benchmark, seed) pairs where every compared
        method has a done run. At each grid point and block, the methods are ranked by
        best-so-far (ties share the average rank; a run with no report yet ranks last); ranks
        are then averaged over the benchmark's blocks. Columns: benchmark, method, step, time
        (``evaluations`` with ``x="evaluations"``), rank.
        """
        traj = self.trajectories(n_points, log_x, x)
        if traj.empty:
            return pd.DataFrame(columns=["benchmark", "method", "step", x, "rank"])
        blocks = self.blocks()
        frames = []
        for bench, g in traj.groupby("benchmark", sort=False):
            seeds = blocks.seeds(bench)
            g = g[g["seed"].isin(seeds) & g["method"].isin(blocks.methods)]
            if g.empty:
                continue
            _, mode = self.metric_of(bench)
            wide = g.pivot_table(index=["seed", "step"], columns="method", values="best", dropna=False)
            wide = wide.reindex(columns=blocks.methods)
            score = wide.to_numpy(dtype=float) * (1 if mode == "min" else -1)
            score = np.where(np.isnan(score), np.inf, score)
            ranks = pd.DataFrame(score, index=wide.index, columns=wide.columns).rank(axis=1, method="average")
            mean = ranks.groupby(level="step").mean()
            times = g.drop_duplicates("step").set_index("step")[x]
            long = mean.reset_index().melt(id_vars="step", var_name="method", value_name="rank")
            long[x] = times.loc[long["step"]].to_numpy()
            long.insert(0, "benchmark", bench)
            frames.append(long[["benchmark", "method", "step", x, "rank"]])
        if not frames:
            return pd.DataFrame(columns=["benchmark", "method", "step", x, "rank"])
        return pd.concat(frames, ignore_index=True)

    def average_rank(self, n_points: int = 100, log_x: bool = False, x: str = "time") -> pd.DataFrame:
        """Rank per method averaged over benchmarks (each over its blocks), against the fraction
        of the budget (0..1; with ``x="evaluations"``, of each benchmark's largest number of
        evaluations). Every method is averaged over the same benchmarks and blocks."""
        r = self.ranks(n_points, log_x, x)
        if r.empty:
            return pd.DataFrame(columns=["method", "step", "fraction", "rank"])
        out = r.groupby(["method", "step"], sort=False)["rank"].mean().reset_index()
        out["fraction"] = out["step"] / max(n_points - 1, 1)
        return out

    # ------------------------------------------------------------------ final results
    def final_values(self, blocks_only: bool = False) -> pd.DataFrame:
        """Best-so-far at the end of the budget: benchmark, method, seed, best, regret.

        ``blocks_only``: only the compared methods on the blocks of ``blocks()``."""
        traj = self.trajectories()
        if traj.empty:
            return pd.DataFrame(columns=["benchmark", "method", "seed", "best", "regret"])
        last = traj[traj["step"] == traj["step"].max()]
        if blocks_only:
            b = self.blocks()
            keys = pd.MultiIndex.from_frame(last[["benchmark", "seed"]])
            last = last[keys.isin(b.blocks) & last["method"].isin(b.methods).to_numpy()]
        return last[["benchmark", "method", "seed", "best", "regret"]].reset_index(drop=True)

    def final_table(self) -> pd.DataFrame:
        """Per benchmark and method: mean, s.e., median of the final best value and normalized
        regret over the benchmark's common seeds (those where every method with a done run there
        is done, ``panel``; ``n``), failures, and the average final rank over the benchmark's
        blocks (``n_blocks``; NaN for a method or benchmark left out of the blocks)."""
        fv = self.final_values()
        common = pd.Series(False, index=fv.index)
        for bench in self.benchmarks:
            panel = self.panel(bench)
            in_bench = fv["benchmark"] == bench
            common |= in_bench & (fv["seed"].isin(panel.seeds) if panel.shared else True)
        fv = fv[common]
        ranks = self.ranks()
        final_rank = ranks[ranks["step"] == ranks["step"].max()] if not ranks.empty else ranks
        rows = []
        for (bench, method), g in fv.groupby(["benchmark", "method"], sort=False):
            v = g["best"].to_numpy(dtype=float)
            n = int(np.sum(~np.isnan(v)))
            rk = final_rank[(final_rank["benchmark"] == bench) & (final_rank["method"] == method)]["rank"]
            failed = int(((self.runs["benchmark"] == bench) & (self.runs["method"] == method)
                          & (self.runs["status"] != "done")).sum())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rows.append({"benchmark": bench, "method": method, "metric": self.metric_of(bench)[0],
                             "mode": self.metric_of(bench)[1], "mean": np.nanmean(v),
                             "se": np.nanstd(v, ddof=1) / np.sqrt(n) if n > 1 else 0.0,
                             "median": np.nanmedian(v), "regret": np.nanmean(g["regret"].to_numpy(dtype=float)),
                             "rank": float(rk.iloc[0]) if len(rk) else np.nan, "n": n, "failed": failed,
                             "n_blocks": len(self.blocks().seeds(bench))})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ decision time
    def decision_times(self) -> pd.DataFrame:
        """Per done run: the scheduler's measured decision time, ``suggest()`` calls included (where
        a model-based method spends its time) as well as the decisions on reports.

        Columns: ``total_s`` (suggest + report decisions, s), ``suggest_s``, ``report_s``,
        ``n_decisions`` (reports decided + trials started) and ``per_decision_ms``. Runs written
        without the suggest time (Syne Tune imports, old runs) count their report decisions only.
        """
        rows = []
        for r in self.done.itertuples(index=False):
            df = self.read_run(r.benchmark, r.method, r.seed, ["decision_time"])
            if df is None or "decision_time" not in df:
                continue
            d = df["decision_time"].to_numpy(dtype=float)
            calls = d[np.isfinite(d) & (d > 0)]
            report = float(calls.sum())
            suggest = getattr(r, "suggest_seconds", None)
            suggest = float(suggest) if suggest is not None and np.isfinite(suggest) else 0.0
            n_trials = getattr(r, "n_trials", None)
            starts = int(n_trials) if suggest > 0 and n_trials is not None and np.isfinite(n_trials) else 0
            n = len(calls) + starts
            total = report + suggest
            rows.append({"benchmark": r.benchmark, "method": r.method, "seed": r.seed, "total_s": total,
                         "suggest_s": suggest, "report_s": report, "n_decisions": n,
                         "per_decision_ms": 1000 * total / n if n else np.nan,
                         "wall_seconds": r.wall_seconds})
        return pd.DataFrame(rows, columns=["benchmark", "method", "seed", "total_s", "suggest_s", "report_s",
                                           "n_decisions", "per_decision_ms", "wall_seconds"])

    # ------------------------------------------------------------------ combining
    def select(self, methods: Sequence[str] | None = None, benchmarks: Sequence[str] | None = None
               ) -> "StudyResults":
        """A view restricted to some methods and/or benchmarks."""
        keep = np.ones(len(self.runs), dtype=bool)
        if methods is not None:
            keep &= self.runs["method"].isin(list(methods)).to_numpy()
        if benchmarks is not None:
            keep &= self.runs["benchmark"].isin(list(benchmarks)).to_numpy()
        runs = self.runs[keep].reset_index(drop=True)
        keys = set(zip(runs["benchmark"], runs["method"], runs["seed"]))
        return StudyResults(runs, {k: v for k, v in self._readers.items() if k in keys}, name=self.name,
                            spec=self.spec)

    def __add__(self, other: "StudyResults") -> "StudyResults":
        readers = {**self._readers, **other._readers}
        runs = pd.concat([self.runs, other.runs], ignore_index=True)
        dup = runs.duplicated(["benchmark", "method", "seed"], keep="last")
        if dup.any():
            warnings.warn(f"{int(dup.sum())} run(s) appear in several sources; keeping the last", stacklevel=2)
            runs = runs[~dup].reset_index(drop=True)
        return StudyResults(runs, readers, name=self.name or other.name, spec=self.spec or other.spec)


# ---------------------------------------------------------------------------- loading
def _hposim_reader(store: StudyStore, run_dir: str) -> Callable[[Sequence[str] | None], pd.DataFrame | None]:
    def read(columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        import pyarrow.parquet as pq

        path = f"{run_dir}/{RESULTS}"
        try:
            with store.fs.open(path, "rb") as f:
                pf = pq.ParquetFile(f)
                names = pf.schema_arrow.names
                cols = None if columns is None else [c for c in columns if c in names]
                return pf.read(columns=cols).to_pandas()
        except Exception as e:  # verified when the study was loaded: it changed since
            raise RunIntegrityError(f"{store._display(path)} cannot be read ({type(e).__name__}: {e}); it "
                                    f"passed its checksum when the study was loaded, so it changed since: "
                                    f"run 'hposim study verify'") from e

    return read


def _runs_row(st: Any, source: str = "hposim") -> dict:
    meta = st.metadata or {}
    run = meta.get("run", {})
    s = meta.get("summary", {})
    info = meta.get("benchmark_info", {})
    err = meta.get("error") or {}
    stop = run.get("stop", {}) or {}
    return {**_end_of_run(meta), "benchmark": st.benchmark, "method": st.method, "seed": st.seed, "status": st.status,
            "metric": meta.get("metric", run.get("metric")), "mode": meta.get("mode", run.get("mode")) or "min",
            "wall_seconds": meta.get("wall_seconds"),
            "suggest_seconds": (meta.get("simulation") or {}).get("suggest_seconds", meta.get("suggest_seconds")),
            "n_trials": s.get("n_trials"),
            "n_reports": s.get("n_reports"), "best": s.get("best"), "final_time": s.get("final_time"),
            "decision_time_total": s.get("decision_time_total"), "optimum": info.get("optimum"),
            "worst": info.get("worst"), "max_time": stop.get("max_time"),
            "error": st.problem if st.status == "corrupt" else (f"{err.get('type')}: {err.get('message')}"
                                                                 if err else None), "path": st.path,
            "source": source, "metrics": meta.get("metrics"), "modes": meta.get("modes"), **_provenance_columns(meta)}


def _provenance_columns(meta: Mapping[str, Any]) -> dict:
    p = provenance(meta)
    return {"settings_sha256": p.settings_sha256, "provenance": p.label, "hposim_version": p.hposim,
            "semantics_version": p.semantics}


def _end_of_run(meta: Mapping[str, Any]) -> dict:
    """Why and when the simulator ended a run (``simulation.end_reason`` / ``end_time``)."""
    sim = meta.get("simulation") or {}
    end = pd.to_numeric(sim.get("end_time"), errors="coerce")
    return {"end_reason": sim.get("end_reason"), "end_time": float(end) if pd.notna(end) else np.nan}


def _load_hposim(path: str, storage_options: Mapping[str, Any] | None) -> StudyResults:
    store = StudyStore.from_study_path(path, storage_options)
    store.check_readable()
    # every done run's results file is hashed here, where the study is first read in this process
    states = store.read_states(warn=False, verify=True)
    rows, readers = [], {}
    for key in sorted(states):
        st = states[key]
        rows.append(_runs_row(st))
        if st.status == "done":
            readers[key] = _hposim_reader(store, st.path)
    corrupt = [st for st in states.values() if st.status == "corrupt"]
    if corrupt:
        names = ", ".join(f"{st.benchmark}/{st.method}/{st.seed}" for st in corrupt[:5])
        more = f" and {len(corrupt) - 5} more" if len(corrupt) > 5 else ""
        warnings.warn(f"{len(corrupt)} corrupt run(s) of {store.url} are EXCLUDED from the analysis "
                      f"({names}{more}): {corrupt[0].problem}. 'hposim study verify' lists them; "
                      f"'hposim study run' recomputes them", stacklevel=3)
    return StudyResults(_runs_frame(rows), readers, name=store.study, spec=store.read_spec())


def _runs_frame(rows: list[dict]) -> pd.DataFrame:
    """``StudyResults.runs`` from one dict per run (``RUN_COLUMNS``; missing numbers are NaN)."""
    runs = pd.DataFrame(rows, columns=RUN_COLUMNS)
    for c in ("wall_seconds", "suggest_seconds", "best", "final_time", "decision_time_total", "optimum", "worst",
              "max_time"):
        runs[c] = pd.to_numeric(runs[c], errors="coerce")
    return runs


def load_study(path: "str | Sequence[str]", storage_options: Mapping[str, Any] | None = None
               ) -> StudyResults:
    """Load an hposim study folder ``<root>/<study>`` (any fsspec URL), a folder of Syne Tune
    experiments, or a list of such paths (combined into one study)."""
    if not isinstance(path, (str, bytes)) and hasattr(path, "__iter__"):
        paths = [str(p) for p in path]
        if not paths:
            raise InputError("load_study needs at least one path")
        out = load_study(paths[0], storage_options)
        for p in paths[1:]:
            out = out + load_study(p, storage_options)
        return out
    path = str(path)
    if syne_tune_io.is_syne_tune_path(path, storage_options):
        rows, readers, name = syne_tune_io.read_syne_tune_runs(path, storage_options)
        return StudyResults(_runs_frame(rows), readers, name=name)
    return _load_hposim(path, storage_options)
