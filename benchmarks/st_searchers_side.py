"""Syne Tune 0.13 side of the model-based searcher benchmark; run by ``benchmarks/.venv-syne-tune-013/bin/python``.

One experiment per seed: a baseline of ``syne_tune.optimizer.baselines`` (BayesianOptimization, KDE,
REA or RandomSearch), created as a user would with default arguments: ``metric=valid_error``,
``mode="min"``, ``random_seed=seed``, over the whole cell space of the table (one ``choice`` per
edge, ``st_common.st_spaces``; every configuration of that space is a row of the table, so no
``restrict_configurations`` is needed, as on the Syne Tune 0.16 side). Single-fidelity use: these
are ``FIFOScheduler`` s, every trial runs to the last epoch (200) and reports every epoch; the
searcher learns from the final report only. ``UserBlackboxBackend`` over the exchange table,
``Tuner`` + a counting ``SimulatorCallback`` (the one of ``st_simulator_side.py``), ``n_workers``
workers, stopped at ``--max-time`` simulated seconds. Nothing is stored or printed.

Timed: ``tuner.run()`` only, per experiment (the scheduler is built before). Delays:
``--delays default`` (the default) keeps ``SimulatorConfig()`` (0.05 s delays) and the default
tuner sleep time of 5 s, as a user runs it and as the headline figures of ``st_simulator_side.py``
are made; ``--delays zero`` uses zero delays and ``--sleep-time``.

Prints one JSON record per experiment. Never imports hposim. Example::

    .venv-syne-tune-013/bin/python st_searchers_side.py --exchange data/nb201-synthetic-seed0 \\
        --method BayesianOptimization --seeds 0 1 --max-time 21600
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import (quiet_tuner, add_delay_args, add_run_args, best_final_callback, emit,  # noqa: E402
                       memory_status, peak_rss_mb, private_synetune_folder, read_exchange_meta,
                       st_blackbox_from_exchange)
from st_simulator_side import _counting_callback  # noqa: E402

METHODS = ("BayesianOptimization", "KDE", "REA", "RandomSearch")
# Imported up front with stdout sent to stderr: on import, Syne Tune 0.13 prints hints about missing
# optional dependencies (aws, yahpo, moo) to stdout, which must hold the JSON records only.
ST_MODULES = ("syne_tune.blackbox_repository", "syne_tune.blackbox_repository.simulated_tabular_backend",
              "syne_tune.optimizer.baselines", "syne_tune.tuner")


def make_baseline(method: str, config_space: dict, metric: str, seed: int):
    """The Syne Tune 0.13 baseline ``method`` with its default arguments."""
    from syne_tune.optimizer import baselines

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {METHODS}")
    return getattr(baselines, method)(config_space, metric=metric, mode="min", random_seed=seed)


def simulate(bb, meta: dict, method: str, seed: int, args: argparse.Namespace) -> dict:
    """Run one experiment; the record of ``main``'s docstring."""
    import syne_tune
    import syne_tune.tuner as st_tuner
    from syne_tune.backend.simulator_backend.simulator_backend import SimulatorConfig
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend

    st_tuner.print_best_metric_found = lambda *a, **k: None  # the summary print at the end of run()
    np.random.seed(seed)  # the backend draws each trial's table seed from NumPy's global stream
    metric, max_epoch = meta["metric"], int(max(meta["fidelity_values"]))
    zero = args.delays == "zero"
    backend_kw = ({"simulator_config": SimulatorConfig(0.0, 0.0, 0.0, 0.0, 0.0),
                   "tuner_sleep_time": args.sleep_time} if zero else {})
    backend = UserBlackboxBackend(blackbox=bb, elapsed_time_attr=meta["metric_elapsed_time"],
                                  **backend_kw)
    t_setup = time.perf_counter()
    scheduler = make_baseline(method, bb.configuration_space, metric, seed)
    setup_s = time.perf_counter() - t_setup
    counting = _counting_callback(metric, args.max_time)
    finals = best_final_callback(metric, meta["fidelity_name"], max_epoch, args.max_time)
    tuner = quiet_tuner(backend, scheduler, [counting, finals], max_time=args.max_time,
                        n_workers=args.n_workers, name=f"st13-{method}-{seed}")
    t0 = time.perf_counter()
    tuner.run()
    wall = time.perf_counter() - t0
    return {
        "side": "syne_tune", "syne_tune_version": syne_tune.__version__, "method": method,
        "seed": seed, "wall_seconds": wall, "scheduler_setup_seconds": setup_s,
        "n_trials": int(tuner.tuning_status.num_trials_started),
        "n_trials_reporting": len(counting.trials_reporting),
        "n_trials_final": finals.n_final,
        "n_reports": counting.n_reports, "n_reports_in_budget": counting.n_reports_in_budget,
        "best": float(counting.best), "best_final": finals.best_final,
        "last_report_time": counting.last_time,
        "us_per_report": 1e6 * wall / max(1, counting.n_reports),
        "metric": metric, "max_epoch": max_epoch, "max_time": args.max_time,
        "n_workers": args.n_workers, "delays": args.delays,
        "sleep_time": args.sleep_time if zero else 5.0,
        "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status(),
    }


def main(argv: list[str] | None = None) -> int:
    """One JSON line per experiment with: side, syne_tune_version, method, seed, wall_seconds
    (``tuner.run()``), scheduler_setup_seconds, n_trials (started), n_trials_reporting,
    n_trials_final (trials whose epoch-200 report came within the budget), n_reports (all, incl. the
    few after the budget), n_reports_in_budget, best (smallest metric among reports at simulated
    time <= max_time), best_final (smallest epoch-200 metric among those), last_report_time,
    us_per_report, metric, max_epoch, max_time, n_workers, delays, sleep_time, peak_rss_mb,
    memory_at_end, table_load_seconds, rss_after_table_mb, memory_after_table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", type=Path, required=True, help="exchange folder of the table")
    parser.add_argument("--method", choices=METHODS, required=True)
    add_run_args(parser, default_seeds=[0])
    parser.set_defaults(max_time=21_600.0)
    add_delay_args(parser)
    parser.set_defaults(delays="default")
    args = parser.parse_args(argv)
    with private_synetune_folder("st13-bench-"):
        with contextlib.redirect_stdout(sys.stderr):
            for name in ST_MODULES:
                importlib.import_module(name)
        t0 = time.perf_counter()
        bb = st_blackbox_from_exchange(args.exchange)
        load = {"table_load_seconds": time.perf_counter() - t0,
                "rss_after_table_mb": peak_rss_mb(), "memory_after_table": memory_status()}
        meta = read_exchange_meta(args.exchange)
        for seed in args.seeds:
            emit({**simulate(bb, meta, args.method, seed, args), **load})
    return 0


if __name__ == "__main__":
    sys.exit(main())
