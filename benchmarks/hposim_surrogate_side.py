"""hposim side of the surrogate simulation benchmark; run by the main venv's python (``.venv/bin/python``).

Mirror of ``st_surrogate_side.py``: reads the fit table from the exchange files, fits hposim's
surrogate (``blackbox_repo.surrogate.add_surrogate``, default settings) with the whole cell space as
configuration space, then, per seed, simulates ASHA (stopping, grace period / reduction factor as
given, max fidelity = the last epoch: the settings ``hposim_side.simulate_runs`` uses to match Syne
Tune's ASHA) with ``simulator.simulate`` on ``n_workers`` workers until ``--max-time`` simulated
seconds. The surrogate's cache of predicted curves is cleared before each experiment
(``sur.clear_cache()``), so every experiment predicts its new configurations itself. Timed: the
``simulate`` call per experiment (loop and results table), and the surrogate fit once.

Prints one JSON line: the fit time and one record per experiment. Never imports Syne Tune. Example::

    .venv/bin/python benchmarks/hposim_surrogate_side.py \\
        --exchange benchmarks/data/nb201-synthetic-seed0-fit2000-rng0 --model knn --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hposim_side import tabular_from_exchange  # noqa: E402
from st_common import add_run_args, emit, memory_status, peak_rss_mb  # noqa: E402

MODELS = ("knn", "random_forest")


def fit_surrogate(exchange: Path, model: str):
    """(hposim surrogate blackbox, fit seconds) of the exchange table, whole cell space."""
    from blackbox_repo.surrogate import add_surrogate

    table = tabular_from_exchange(exchange)
    # ``tabular_from_exchange`` gives the table the whole cell space (one choice over all
    # operations per edge); passed explicitly as the surrogate's space
    t0 = time.perf_counter()
    sur = add_surrogate(table, model, configuration_space=table.configuration_space)
    return sur, time.perf_counter() - t0


def run_experiment(sur, *, seed: int, n_workers: int, max_time: float, grace_period: int,
                   reduction_factor: float) -> dict:
    from simulator import make_scheduler, simulate

    sur.clear_cache()
    scheduler = make_scheduler("ASHA", sur, seed=seed, type="stopping", grace_period=grace_period,
                               reduction_factor=reduction_factor,
                               max_fidelity=int(sur.fidelity_values[-1]))
    before = sur.cache_info()["misses"]
    gc.collect()
    t0 = time.perf_counter()
    res = simulate(sur, scheduler, n_workers=n_workers, stop={"max_time": max_time}, seed=seed)
    wall = time.perf_counter() - t0
    results = res.results
    in_budget = results[results["time"] <= max_time]
    n_reports = int(len(results))
    return {
        "side": "hposim", "method": "ASHA", "seed": seed, "wall_seconds": wall,
        "loop_seconds": float(res.metadata["wall_seconds"]),
        "n_reports": n_reports, "n_reports_in_budget": int(len(in_budget)),
        "n_trials": int(res.metadata["n_trials"]),
        "n_trials_reporting": int(in_budget["trial_id"].nunique()),
        "configs_predicted": int(sur.cache_info()["misses"] - before),
        "best": float(in_budget[sur.metric].min()) if len(in_budget) else float("nan"),
        "last_report_time": float(in_budget["time"].max()) if len(in_budget) else 0.0,
        "reports_per_s": n_reports / wall if wall > 0 else float("nan"),
        "us_per_report": 1e6 * wall / max(1, n_reports),
        "peak_rss_mb": peak_rss_mb(), "max_time": max_time, "n_workers": n_workers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", type=Path, required=True,
                        help="exchange folder of the fit table (both sides read the same one)")
    parser.add_argument("--model", choices=MODELS, default="knn", help="surrogate model (hposim defaults)")
    add_run_args(parser, default_seeds=[0])
    parser.add_argument("--grace-period", type=int, default=1, help="ASHA grace period")
    parser.add_argument("--reduction-factor", type=float, default=3.0, help="ASHA reduction factor")
    args = parser.parse_args(argv)
    sur, fit_s = fit_surrogate(args.exchange, args.model)
    experiments = []
    for seed in args.seeds:
        rec = run_experiment(sur, seed=seed, n_workers=args.n_workers, max_time=args.max_time,
                             grace_period=args.grace_period, reduction_factor=args.reduction_factor)
        rec["model"] = args.model
        experiments.append(rec)
    emit({"side": "hposim", "model": args.model, "fit_seconds": fit_s,
          "fit_rows": int(sur.table.shape[0]), "num_seeds": int(sur.num_seeds),
          "experiments": experiments, "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
