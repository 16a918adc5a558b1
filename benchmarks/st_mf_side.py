"""Syne Tune 0.13 side of the multi-fidelity model-based benchmark; run by ``benchmarks/.venv-syne-tune-013/bin/python``.

One experiment per (seed, method): the methods of Syne Tune's multi-fidelity tutorial
(``docs/source/tutorials/multifidelity/code/hpo_main.py`` at v0.13.0), built exactly as there:
``MOBSTER(type="promotion")`` with ``search_options=None`` (MOBSTER-JOINT, ``gp_multitask``) or
``{"model": "gp_independent"}`` (MOBSTER-INDEP); ``HyperTune(type="promotion", brackets=1 or 4)``
(HYPERTUNE-INDEP, HYPERTUNE4-INDEP; ``{"model": "gp_multitask"}`` for HYPERTUNE-JOINT);
``SyncMOBSTER``, ``SyncBOHB`` (BOHB), ``DEHB`` and ``ASHA(type="promotion")`` (ASHA-PROM) with
their defaults; common arguments ``metric=valid_error``, ``mode="min"``, ``resource_attr=epoch``,
``random_seed=seed``, ``max_resource_attr="epochs"`` with the configuration space extended by
``epochs = 200`` (``configuration_space_with_max_resource_attr``), as the tutorial does.
``UserBlackboxBackend`` over the exchange table (same ``max_resource_attr``), ``Tuner`` + a counting
``SimulatorCallback``, ``n_workers`` workers, stopped at ``--max-time`` simulated seconds, default
simulator delays and tuner sleep time (as a user runs it). Nothing is stored.

Timed: ``tuner.run()`` only, wall and CPU time of the process (the machine is shared: CPU time
is the fairer figure under load). Prints one JSON record per experiment (append them to a file to
collect seeds over several runs). Never imports hposim. ``--profile`` writes a cProfile of each
experiment next to ``--profile-dir``. Example::

    .venv-syne-tune-013/bin/python st_mf_side.py --exchange data/nb201-synthetic-seed0 \\
        --methods MOBSTER-JOINT SYNCMOBSTER --seeds 0 1 --max-time 21600
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import (quiet_tuner, best_final_callback, emit, memory_status, peak_rss_mb,  # noqa: E402
                       private_synetune_folder, read_exchange_meta, st_blackbox_from_exchange)
from st_simulator_side import _counting_callback  # noqa: E402

METHODS = ("MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "HYPERTUNE4-INDEP", "HYPERTUNE-JOINT",
           "SYNCMOBSTER", "BOHB", "DEHB", "ASHA-PROM")
MAX_RESOURCE_ATTR = "epochs"
ST_MODULES = ("syne_tune.blackbox_repository", "syne_tune.blackbox_repository.simulated_tabular_backend",
              "syne_tune.optimizer.baselines", "syne_tune.tuner")


def make_scheduler(method: str, config_space: dict, metric: str, resource_attr: str, seed: int):
    """The scheduler of Syne Tune's multi-fidelity tutorial for ``method`` (see the module docstring)."""
    from syne_tune.optimizer import baselines as b

    kw = dict(metric=metric, mode="min", resource_attr=resource_attr, random_seed=seed,
              max_resource_attr=MAX_RESOURCE_ATTR)
    if method in ("MOBSTER-JOINT", "MOBSTER-INDEP"):
        so = {"model": "gp_independent"} if method == "MOBSTER-INDEP" else None
        return b.MOBSTER(config_space, search_options=so, type="promotion", **kw)
    if method in ("HYPERTUNE-INDEP", "HYPERTUNE4-INDEP", "HYPERTUNE-JOINT"):
        so = {"model": "gp_multitask"} if method == "HYPERTUNE-JOINT" else None
        return b.HyperTune(config_space, search_options=so, type="promotion",
                           brackets=4 if method == "HYPERTUNE4-INDEP" else 1, **kw)
    if method == "SYNCMOBSTER":
        return b.SyncMOBSTER(config_space, **kw)
    if method == "BOHB":
        return b.SyncBOHB(config_space, **kw)
    if method == "DEHB":
        return b.DEHB(config_space, **kw)
    if method == "ASHA-PROM":
        return b.ASHA(config_space, type="promotion", **kw)
    raise ValueError(f"unknown method {method!r}; allowed: {METHODS}")


def simulate(bb, meta: dict, method: str, seed: int, args: argparse.Namespace) -> dict:
    import syne_tune
    import syne_tune.tuner as st_tuner
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend

    st_tuner.print_best_metric_found = lambda *a, **k: None
    np.random.seed(seed)  # the backend draws each trial's table seed from NumPy's global stream
    metric, max_epoch = meta["metric"], int(max(meta["fidelity_values"]))
    backend = UserBlackboxBackend(blackbox=bb, elapsed_time_attr=meta["metric_elapsed_time"],
                                  max_resource_attr=MAX_RESOURCE_ATTR)
    config_space = bb.configuration_space_with_max_resource_attr(MAX_RESOURCE_ATTR)
    t_setup = time.perf_counter()
    scheduler = make_scheduler(method, config_space, metric, meta["fidelity_name"], seed)
    setup_s = time.perf_counter() - t_setup
    counting = _counting_callback(metric, args.max_time)
    finals = best_final_callback(metric, meta["fidelity_name"], max_epoch, args.max_time)
    tuner = quiet_tuner(backend, scheduler, [counting, finals], max_time=args.max_time,
                        n_workers=args.n_workers, name=f"st13-mf-{method}-{seed}")
    profiler = cProfile.Profile() if args.profile_dir else None
    t0, c0 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    tuner.run()
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if profiler is not None:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(str(args.profile_dir / f"st13-{method}-seed{seed}.prof"))
    return {
        "side": "syne_tune", "syne_tune_version": syne_tune.__version__, "method": method,
        "seed": seed, "wall_seconds": wall, "cpu_seconds": cpu, "scheduler_setup_seconds": setup_s,
        "n_trials": int(tuner.tuning_status.num_trials_started),
        "n_trials_reporting": len(counting.trials_reporting), "n_trials_final": finals.n_final,
        "n_reports": counting.n_reports, "n_reports_in_budget": counting.n_reports_in_budget,
        "best": float(counting.best), "best_final": finals.best_final,
        "last_report_time": counting.last_time, "metric": metric, "max_epoch": max_epoch,
        "max_time": args.max_time, "n_workers": args.n_workers, "profiled": profiler is not None,
        "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", type=Path, required=True, help="exchange folder of the table")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-time", type=float, default=21_600.0)
    parser.add_argument("--profile-dir", type=Path, default=None, help="cProfile each experiment into this folder")
    args = parser.parse_args(argv)
    with private_synetune_folder("st13-mf-bench-"):
        with contextlib.redirect_stdout(sys.stderr):
            for name in ST_MODULES:
                importlib.import_module(name)
        bb = st_blackbox_from_exchange(args.exchange)
        meta = read_exchange_meta(args.exchange)
        for seed in args.seeds:          # seeds outer: every method gets seed 0 before any gets seed 1
            for method in args.methods:
                with contextlib.redirect_stdout(sys.stderr):
                    record = simulate(bb, meta, method, seed, args)
                emit(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
