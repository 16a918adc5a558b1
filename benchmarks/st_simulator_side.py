"""Syne Tune 0.16 side of the simulator benchmark; run by ``benchmarks/.venv-syne-tune/bin/python``.

One experiment per seed: ``UserBlackboxBackend`` over a ``BlackboxTabular`` built from the exchange
files, ``Tuner`` + ``SimulatorCallback``, RandomSearch or ASHA from ``syne_tune.optimizer.baselines``,
``n_workers`` workers, stopped at ``--max-time`` simulated seconds. Nothing is stored or printed:
``save_tuner=False``, the callback keeps no result rows and writes no CSV, the tuner's output
logger and its final summary print are silenced. The callback only counts reports and trials and
tracks the best metric among reports made at simulated time <= ``--max-time`` (O(1) per report).

Timed: ``tuner.run()`` only (the simulation loop), per experiment. Settings:
``--delays default`` keeps ``SimulatorConfig()`` (0.05 s delays) and the default tuner sleep time
of 5 s, as a user runs it; ``--delays zero`` uses zero delays and ``--sleep-time`` (e.g. 0.1 s),
Syne Tune's time artifacts removed as far as it allows (for the agreement check).

Never imports hposim. Example::

    .venv-syne-tune/bin/python st_simulator_side.py --exchange data/nb201-synthetic-seed0 \\
        --method ASHA --seeds 0 1 2 --max-time 72000
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import (emit, memory_status, peak_rss_mb, read_exchange_meta,  # noqa: E402
                       st_blackbox_from_exchange)


def _quiet_logger():
    """A ``TunerLogger`` whose ``print_*`` methods do nothing."""
    from syne_tune.tuner_logger import TunerLogger

    names = {n: (lambda self, *a, **k: None) for n in dir(TunerLogger) if n.startswith("print")}
    return type("QuietTunerLogger", (TunerLogger,), names)()


def _counting_callback(metric: str, max_time: float):
    """``SimulatorCallback`` that stores nothing: counts reports/trials and tracks the best metric."""
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.constants import ST_TUNER_TIME

    class CountingSimulatorCallback(SimulatorCallback):
        def __init__(self):
            super().__init__()
            self.n_reports = 0
            self.n_reports_in_budget = 0
            self.best = math.inf
            self.trials_reporting: set[int] = set()
            self.last_time = 0.0

        def on_trial_result(self, trial, status, result, decision):
            self.n_reports += 1
            t = result[ST_TUNER_TIME]
            if t <= max_time:
                self.n_reports_in_budget += 1
                self.trials_reporting.add(trial.trial_id)
                v = result[metric]
                if v < self.best:
                    self.best = v
                if t > self.last_time:
                    self.last_time = t

        def store_results(self):
            pass

    return CountingSimulatorCallback()


def make_scheduler(method: str, config_space: dict, *, metric: str, fidelity_name: str, max_t: int,
                   seed: int, grace_period: int, reduction_factor: float):
    from syne_tune.optimizer.baselines import ASHA, RandomSearch

    if method == "RandomSearch":
        return RandomSearch(config_space, metrics=[metric], do_minimize=True, random_seed=seed)
    if method == "ASHA":
        return ASHA(config_space, metric=metric, time_attr=fidelity_name, max_t=max_t,
                    do_minimize=True, random_seed=seed, grace_period=grace_period,
                    reduction_factor=reduction_factor)
    raise ValueError(f"unknown method {method!r}; allowed: 'RandomSearch', 'ASHA'")


def run_experiment(bb, meta: dict, *, method: str, seed: int, n_workers: int, max_time: float,
                   delays: str, sleep_time: float, grace_period: int, reduction_factor: float) -> dict:
    import syne_tune.tuner as st_tuner
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_backend import SimulatorConfig
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend

    st_tuner.print_best_metric_found = lambda *a, **k: None  # the final summary print
    np.random.seed(seed)  # the backend draws each trial's table seed from NumPy's global stream
    metric, fid = meta["metric"], meta["fidelity_name"]
    if delays == "zero":
        sim_config = SimulatorConfig(0.0, 0.0, 0.0, 0.0, 0.0)
        backend_kw = {"simulator_config": sim_config, "tuner_sleep_time": sleep_time}
    else:
        backend_kw = {}
    backend = UserBlackboxBackend(blackbox=bb, elapsed_time_attr=meta["metric_elapsed_time"],
                                  **backend_kw)
    scheduler = make_scheduler(method, bb.configuration_space, metric=metric, fidelity_name=fid,
                               max_t=int(max(meta["fidelity_values"])), seed=seed,
                               grace_period=grace_period, reduction_factor=reduction_factor)
    callback = _counting_callback(metric, max_time)
    tuner = Tuner(trial_backend=backend, scheduler=scheduler,
                  stop_criterion=StoppingCriterion(max_wallclock_time=max_time),
                  n_workers=n_workers, sleep_time=0, callbacks=[callback], save_tuner=False,
                  results_update_interval=1e9, print_update_interval=1e9,
                  output_logger=_quiet_logger(), tuner_name=f"st-bench-{method}-{seed}")
    t0 = time.perf_counter()
    tuner.run()
    wall = time.perf_counter() - t0
    status = tuner.tuning_status
    return {
        "side": "syne_tune", "method": method, "seed": seed, "wall_seconds": wall,
        "n_reports": callback.n_reports, "n_reports_in_budget": callback.n_reports_in_budget,
        "n_trials": int(status.num_trials_started),
        "n_trials_reporting": len(callback.trials_reporting),
        "best": float(callback.best), "last_report_time": callback.last_time,
        "reports_per_s": callback.n_reports / wall if wall > 0 else float("nan"),
        "us_per_report": 1e6 * wall / max(1, callback.n_reports),
        "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status(), "delays": delays,
        "sleep_time": sleep_time if delays == "zero" else 5.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", type=Path, required=True)
    parser.add_argument("--method", choices=["RandomSearch", "ASHA"], required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-time", type=float, default=72_000.0)
    parser.add_argument("--delays", choices=["default", "zero"], default="default")
    parser.add_argument("--sleep-time", type=float, default=0.1)
    parser.add_argument("--grace-period", type=int, default=1)
    parser.add_argument("--reduction-factor", type=float, default=3.0)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # nothing printed: Syne Tune logs at INFO/WARNING
    workdir = tempfile.mkdtemp(prefix="st-bench-")
    os.environ["SYNETUNE_FOLDER"] = workdir  # the tuner still creates its folder; keep it private
    try:
        t0 = time.perf_counter()
        bb = st_blackbox_from_exchange(args.exchange)
        load_s = time.perf_counter() - t0
        meta = read_exchange_meta(args.exchange)
        rss_after_load = peak_rss_mb()
        mem_after_load = memory_status()
        for seed in args.seeds:
            rec = run_experiment(bb, meta, method=args.method, seed=seed, n_workers=args.n_workers,
                                 max_time=args.max_time, delays=args.delays,
                                 sleep_time=args.sleep_time, grace_period=args.grace_period,
                                 reduction_factor=args.reduction_factor)
            rec.update({"table_load_seconds": load_s, "rss_after_table_mb": rss_after_load,
                        "memory_after_table": mem_after_load,
                        "max_time": args.max_time, "n_workers": args.n_workers})
            emit(rec)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
