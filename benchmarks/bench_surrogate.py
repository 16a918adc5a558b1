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
  - ``space``: no candidates: the method samples the surrogate's own space (here 5^6 cells, of
    which the table holds 2,000), so most configurations are new and each costs one model call.

Tabular and surrogate runs alternate within each repeat; medians are reported since the
machine is shared.

Example::

    .venv/bin/python benchmarks/bench_surrogate.py --n-configs 2000 --repeats 3
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
from nb201_table import ELAPSED_TIME, FIDELITY_NAME, METRIC, OBJECTIVES, build_table  # noqa: E402

from blackbox_repo.blackbox import TabularBlackbox  # noqa: E402
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


def run(bb, method: str, candidates, seed: int) -> dict:
    spec = SIMS[method]
    kw = {"candidates": candidates} if candidates is not None else {}
    sched = make_scheduler(method, bb, seed=seed, **kw)
    gc.collect()
    t0 = time.perf_counter()
    res = simulate(bb, sched, n_workers=spec["n_workers"], stop=spec["stop"], seed=seed)
    total = time.perf_counter() - t0
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
    for model in models:
        t0 = time.perf_counter()
        sur = add_surrogate(table, model, **MODEL_KWARGS[model])
        card = sur.card.to_dict()
        entry: dict = {"add_surrogate_s": round(time.perf_counter() - t0, 2), "card": card, "sims": {}}
        print(sur.card.text(), flush=True)
        t0 = time.perf_counter()
        sur.predict_table()
        entry["predict_table_s"] = round(time.perf_counter() - t0, 3)
        for method in SIMS:
            for scenario, cands in (("rows", rows), ("space", None)):
                tab, srg = [], []
                for r in range(args.repeats):
                    tab.append(run(table, method, rows, seed=r))
                    # a fresh cache of new configurations per repeat: the table-wide batch stays
                    sur._lru.clear()
                    srg.append(run(sur, method, cands, seed=r))
                t_us = median([x["us_per_report"] for x in tab])
                s_us = median([x["us_per_report"] for x in srg])
                entry["sims"][f"{method}/{scenario}"] = {
                    "tabular_us_per_report": round(t_us, 3), "surrogate_us_per_report": round(s_us, 3),
                    "ratio": round(s_us / t_us, 3), "reports_tabular": tab[0]["reports"],
                    "reports_surrogate": srg[0]["reports"], "trials": srg[0]["trials"],
                    "surrogate_cache": sur.cache_info()}
                print(f"  {model:14s} {method:12s} {scenario:5s}  tabular {t_us:8.2f} us/report  "
                      f"surrogate {s_us:8.2f} us/report  ratio {s_us / t_us:6.2f}  "
                      f"({srg[0]['reports']} reports)", flush=True)
        record["models"][model] = entry
    path = save_results("surrogate", record)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
