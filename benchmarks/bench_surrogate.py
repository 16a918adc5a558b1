"""Surrogate blackboxes: report cards and the cost of a simulation, surrogate vs table.

On a moderately sized NAS-Bench-201-shaped synthetic table (``nb201_table.build_table``,
default 2,000 configurations x 3 seeds x 200 epochs x 6 objectives) this script

* fits each surrogate model (knn, random_forest, mlp, xgboost) and records its report card
  (held-out errors, Spearman per fidelity, monotonicity, fit time, throughput);
* simulates the same method (ASHA, and RandomSearch on full curves) on the table and on each
  surrogate, with the same seeds, and compares the wall time per recorded report:

  - ``rows``: the scheduler gets the table's rows as candidates, so every configuration is a
    tabulated one; the surrogate predicts the whole table in one batch (timed apart as
    ``predict_table_s``) and then serves curves from that array;
  - ``space``: no candidates: the method samples the surrogate's own space, the whole
    NAS-Bench-201 cell space (5 operations on each of 6 edges, 15,625 cells, of which the table
    holds 2,000; the table's own space would be the 2,500 cells its first rows span), so most
    configurations are new. On a cache miss the simulator hands the surrogate the configurations
    the method has already drawn (``Scheduler.upcoming_configs``), and it predicts them in one
    batch (``prefetch``);
  - ``space_no_prefetch``: the same with prefetching switched off, so each new configuration
    costs one single-configuration model call (the cost before prefetching existed);
  - ``space_warm``: the ``space`` run repeated with every curve already cached (same seed, so
    the same configurations): no model call at all, the cost of new configurations without the
    model (sampling the space, hashing and caching configurations).

Tabular and surrogate runs alternate within each repeat; medians are reported since the
machine is shared.

Example::

    .venv/bin/python benchmarks/bench_surrogate.py --n-configs 2000 --repeats 5
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

MODEL_KWARGS = {"knn": {}, "random_forest": {"n_estimators": 50}, "mlp": {},
                "xgboost": {"n_estimators": 150}}
SIMS = {"ASHA": {"stop": {"max_trials": 1500}, "n_workers": 8},
        "RandomSearch": {"stop": {"max_trials": 300}, "n_workers": 8}}


def table_blackbox(n_configs: int, seed: int) -> TabularBlackbox:
    t = build_table(seed, n_configs=n_configs)
    return TabularBlackbox(t.hyperparameters, t.objectives, t.fidelity_values, list(OBJECTIVES),
                           fidelity_name=FIDELITY_NAME, metric_elapsed_time=ELAPSED_TIME, metric=METRIC,
                           metadata={"name": "nb201-synthetic", "task": f"seed{seed}-{n_configs}"})


SCENARIOS = ("rows", "space", "space_no_prefetch", "space_warm")


def run(bb, method: str, candidates, seed: int, prefetch: bool = True) -> dict:
    spec = SIMS[method]
    kw = {"candidates": candidates} if candidates is not None else {}
    sched = make_scheduler(method, bb, seed=seed, **kw)
    if not prefetch:
        bb.prefetch = None          # the simulator then predicts one configuration per trial
    gc.collect()
    try:
        t0 = time.perf_counter()
        res = simulate(bb, sched, n_workers=spec["n_workers"], stop=spec["stop"], seed=seed)
        total = time.perf_counter() - t0
    finally:
        if not prefetch:
            del bb.prefetch
    n = res.metadata["n_reports"]
    return {"reports": n, "trials": res.metadata["n_trials"], "total_s": total,
            "us_per_report": 1e6 * total / max(n, 1),
            "best": float(np.nanmin(res.results[METRIC].to_numpy())) if n else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-configs", type=int, default=2000)
    parser.add_argument("--table-seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODEL_KWARGS))
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]

    t0 = time.perf_counter()
    table = table_blackbox(args.n_configs, args.table_seed)
    record: dict = {"command": command_line(), "machine": machine(), "table_shape": list(table.shape),
                    "table_build_s": round(time.perf_counter() - t0, 2), "models": {}}
    print(f"table {table.shape} built in {record['table_build_s']} s", flush=True)
    rows = table.configs()
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
                tab, srg = [], []
                for r in range(args.repeats):
                    tab.append(run(table, method, rows, seed=r))
                    # a fresh cache of new configurations per repeat: the table-wide batch stays
                    sur._lru.clear()
                    if scenario == "space_warm":
                        run(sur, method, None, seed=r)      # caches this seed's configurations
                    before = sur.cache_info()["misses"]
                    srg.append(run(sur, method, cands, seed=r, prefetch=scenario != "space_no_prefetch"))
                    srg[-1]["predicted"] = sur.cache_info()["misses"] - before
                t_us = median([x["us_per_report"] for x in tab])
                s_us = median([x["us_per_report"] for x in srg])
                entry["sims"][f"{method}/{scenario}"] = {
                    "tabular_us_per_report": round(t_us, 3), "surrogate_us_per_report": round(s_us, 3),
                    "ratio": round(s_us / t_us, 3), "reports_tabular": tab[0]["reports"],
                    "reports_surrogate": srg[0]["reports"], "trials": srg[0]["trials"],
                    "configs_predicted": srg[0]["predicted"], "surrogate_cache": sur.cache_info()}
                print(f"  {model:14s} {method:12s} {scenario:17s}  tabular {t_us:8.2f} us/report  "
                      f"surrogate {s_us:8.2f} us/report  ratio {s_us / t_us:6.2f}  "
                      f"({srg[0]['reports']} reports)", flush=True)
        record["models"][model] = entry
    path = save_results("surrogate", record)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
