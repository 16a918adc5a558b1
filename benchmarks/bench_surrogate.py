"""Surrogate blackboxes: report cards and the cost of a simulation, surrogate vs table.

The benchmark is the NAS-Bench-201-shaped synthetic table of ``nb201_table.build_table``
(15,625 cells x 3 seeds x 200 epochs x 6 objectives). Each surrogate model (knn,
random_forest, mlp, xgboost) is fitted on a random subset of its rows (default 2,000: the
"fit table") with the whole cell space (5 operations on each of 6 edges) as its
configuration space, and this script

* records each model's report card (held-out errors, Spearman per fidelity, monotonicity,
  fit time, throughput);
* simulates the same method (ASHA, and RandomSearch on full curves) from a table and from
  the surrogate, with the same seeds and workers, and compares the wall time per recorded
  report:

  - ``rows``: every configuration is a tabulated one: the surrogate gets the fit table's rows
    as candidates, and is compared with the fit table itself. It predicts the whole table in
    one batch (timed apart as ``predict_table_s``) and then serves curves from that array;
  - ``space``: the method samples the surrogate's space, so 87% of the configurations are new
    to it, and it is compared with the same benchmark simulated from its table: the whole
    15,625-row table, whose rows the method draws from (``tabular_us_per_report``; the same
    runs are also compared with the 2,000-row fit table, ``vs_fit_table_ratio``, whose
    configurations record more reports per trial). On a cache miss the simulator hands the
    surrogate the configurations the method has already drawn (``Scheduler.upcoming_configs``)
    and the seeds the next trials will run with, and it predicts them in one batch
    (``prefetch``);
  - ``space_no_prefetch``: the same with prefetching switched off, so each new configuration
    costs one single-configuration model call (the cost before prefetching existed);
  - ``space_warm``: the ``space`` run repeated with every curve already cached (same seed, so
    the same configurations): no model call at all, the cost of new configurations without the
    model (sampling the space, hashing and caching configurations).

Each repeat uses another seed; within it, tabular and surrogate runs alternate ``--best-of``
times and the fastest of each counts (identical runs vary by up to 2x in speed on the shared
machine). The cost per report of a set of runs is their total time over their total reports
(pooled: seeds differ in reports per trial), and ``ratio`` is surrogate over table; the
median of the per-seed ratios is recorded as well.

Example::

    .venv/bin/python benchmarks/bench_surrogate.py --n-configs 2000 --repeats 8 --best-of 3
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_common import command_line, machine, median, save_results  # noqa: E402
from nb201_table import ELAPSED_TIME, FIDELITY_NAME, HP_NAMES, METRIC, OBJECTIVES, OPS, build_table  # noqa: E402

from blackbox_repo.blackbox import TabularBlackbox  # noqa: E402
from blackbox_repo.configspace import ConfigurationSpace, choice  # noqa: E402
from blackbox_repo.surrogate import add_surrogate  # noqa: E402
from simulator import make_scheduler, simulate  # noqa: E402

MODEL_KWARGS: dict[str, dict] = {"knn": {}, "random_forest": {}, "mlp": {}, "xgboost": {}}   # the defaults
SIMS = {"ASHA": {"stop": {"max_trials": 1500}, "n_workers": 8},
        "RandomSearch": {"stop": {"max_trials": 300}, "n_workers": 8}}


def tables(seed: int, n_fit: int) -> tuple[TabularBlackbox, TabularBlackbox]:
    """The whole synthetic table and a random subset of ``n_fit`` of its rows (the fit table)."""
    t = build_table(seed)

    def blackbox(rows: np.ndarray, task: str) -> TabularBlackbox:
        return TabularBlackbox(t.hyperparameters.iloc[rows].reset_index(drop=True),
                               np.ascontiguousarray(t.objectives[rows]), t.fidelity_values, list(OBJECTIVES),
                               fidelity_name=FIDELITY_NAME, metric_elapsed_time=ELAPSED_TIME, metric=METRIC,
                               metadata={"name": "nb201-synthetic", "task": task})
    n = t.objectives.shape[0]
    fit_rows = np.sort(np.random.default_rng(seed).choice(n, size=min(n_fit, n), replace=False))
    return blackbox(np.arange(n), f"seed{seed}"), blackbox(fit_rows, f"seed{seed}-{len(fit_rows)}")


SCENARIOS = ("rows", "space", "space_no_prefetch", "space_warm")


def run(bb, method: str, candidates, seed: int, prefetch: bool = True) -> dict:
    spec = SIMS[method]
    kw = {"candidates": candidates} if candidates is not None else {}
    sched = make_scheduler(method, bb, seed=seed, **kw)
    if not prefetch:
        bb.prefetches = False       # the simulator then predicts one configuration per trial
    gc.collect()
    try:
        t0 = time.perf_counter()
        res = simulate(bb, sched, n_workers=spec["n_workers"], stop=spec["stop"], seed=seed)
        total = time.perf_counter() - t0
    finally:
        if not prefetch:
            del bb.prefetches
    n = res.metadata["n_reports"]
    return {"reports": n, "trials": res.metadata["n_trials"], "total_s": total,
            "us_per_report": 1e6 * total / max(n, 1),
            "best": float(np.nanmin(res.results[METRIC].to_numpy())) if n else None}


def best(runs: list[dict], r: int, got: dict) -> None:
    """Keep the faster of the runs of repeat ``r`` (same seed, same work): the machine's speed
    varies by up to 2x between identical runs, and the fastest is the least disturbed."""
    if len(runs) <= r:
        runs.append(got)
    elif got["total_s"] < runs[r]["total_s"]:
        runs[r] = got


def pooled_us(runs: list[dict]) -> float:
    """Wall time per report over several runs: all their time over all their reports (runs
    with different seeds record different numbers of reports per trial)."""
    return 1e6 * sum(x["total_s"] for x in runs) / max(sum(x["reports"] for x in runs), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-configs", type=int, default=2000)
    parser.add_argument("--table-seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=8, help="seeds (one repeat per seed)")
    parser.add_argument("--best-of", type=int, default=3, help="runs per seed; the fastest counts")
    parser.add_argument("--models", default=",".join(MODEL_KWARGS))
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]

    t0 = time.perf_counter()
    full, table = tables(args.table_seed, args.n_configs)
    record: dict = {"command": command_line(), "machine": machine(), "table_shape": list(full.shape),
                    "fit_table_shape": list(table.shape),
                    "table_build_s": round(time.perf_counter() - t0, 2), "models": {}}
    print(f"table {full.shape}, fit table {table.shape}, built in {record['table_build_s']} s", flush=True)
    rows, all_rows = table.configs(), full.configs()
    space = ConfigurationSpace({name: choice(list(OPS)) for name in HP_NAMES})
    for model in models:
        t0 = time.perf_counter()
        sur = add_surrogate(table, model, configuration_space=space, **MODEL_KWARGS[model])
        card = sur.card.to_dict()
        entry: dict = {"add_surrogate_s": round(time.perf_counter() - t0, 2), "card": card, "sims": {}}
        print(sur.card.text(), flush=True)
        t0 = time.perf_counter()
        sur.predict_table()
        entry["predict_table_s"] = round(time.perf_counter() - t0, 3)
        for method in SIMS:
            for scenario in SCENARIOS:
                cands = rows if scenario == "rows" else None
                tab, fit_tab, srg = [], [], []
                for r in range(args.repeats):
                    for _ in range(args.best_of):      # alternate: table, fit table, surrogate
                        if scenario == "rows":
                            best(tab, r, run(table, method, rows, seed=r))
                        else:
                            best(tab, r, run(full, method, all_rows, seed=r))
                            if scenario == "space":
                                best(fit_tab, r, run(table, method, rows, seed=r))
                        # a fresh cache of new configurations per run: the table-wide batch stays
                        sur.clear_cache()
                        if scenario == "space_warm":
                            run(sur, method, None, seed=r)      # caches this seed's configurations
                        before = sur.cache_info()["misses"]
                        got = run(sur, method, cands, seed=r, prefetch=scenario != "space_no_prefetch")
                        got["predicted"] = sur.cache_info()["misses"] - before
                        best(srg, r, got)
                t_us, s_us = pooled_us(tab), pooled_us(srg)
                got = {"tabular_us_per_report": round(t_us, 3), "surrogate_us_per_report": round(s_us, 3),
                       "ratio": round(s_us / t_us, 3),
                       "ratio_median_of_pairs": round(median([b["us_per_report"] / a["us_per_report"]
                                                              for a, b in zip(tab, srg)]), 3), "reports_tabular": tab[0]["reports"],
                       "reports_surrogate": srg[0]["reports"], "trials": srg[0]["trials"],
                       "configs_predicted": srg[0]["predicted"], "surrogate_cache": sur.cache_info()}
                extra = ""
                if fit_tab:
                    f_us = pooled_us(fit_tab)
                    got.update(fit_table_us_per_report=round(f_us, 3), vs_fit_table_ratio=round(s_us / f_us, 3),
                               reports_fit_table=fit_tab[0]["reports"])
                    extra = f"  (vs fit table {f_us:.2f} us/report: {s_us / f_us:.2f})"
                entry["sims"][f"{method}/{scenario}"] = got
                print(f"  {model:14s} {method:12s} {scenario:17s}  tabular {t_us:8.2f} us/report  "
                      f"surrogate {s_us:8.2f} us/report  ratio {s_us / t_us:6.2f}  "
                      f"({tab[0]['reports']} / {srg[0]['reports']} reports){extra}", flush=True)
        record["models"][model] = entry
    path = save_results("surrogate", record)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
