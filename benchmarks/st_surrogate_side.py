"""Syne Tune 0.16 side of the surrogate simulation benchmark; run by ``benchmarks/.venv-syne-tune/bin/python``.

Reads a fit table from exchange files (``nb201_table.write_exchange``), builds a ``BlackboxTabular``
from it and wraps it with Syne Tune's own ``syne_tune.blackbox_repository.add_surrogate`` (default
settings: ``predict_curves=True`` for a tabular blackbox, one model over all seeds' rows), with the
whole cell space (each hyperparameter a choice over the operations) as configuration space, so most
configurations ASHA samples are new to the surrogate. Then, per seed, ASHA (stopping, from
``syne_tune.optimizer.baselines``) is simulated exactly as in ``st_simulator_side.py``:
``UserBlackboxBackend`` + ``Tuner`` + a counting ``SimulatorCallback``, quiet logger, ``n_workers``
workers, stopped at ``--max-time`` simulated seconds. Timed: ``tuner.run()`` per experiment, the
surrogate fit once, and, within ``tuner.run()``, the calls of the backend into the surrogate
(``objective_function``: one whole-curve prediction per trial start or resume).

Prints one JSON line: the fit time and one record per experiment. Never imports hposim. Example::

    .venv-syne-tune/bin/python st_surrogate_side.py --exchange data/nb201-synthetic-seed0-fit2000-rng0 \\
        --model knn --seeds 0 1 2 --max-time 7200 --delays zero
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import (add_delay_args, add_run_args, emit, memory_status, peak_rss_mb,  # noqa: E402
                       read_exchange_meta, st_blackbox_from_exchange)
from st_simulator_side import run_experiment  # noqa: E402

MODELS = ("knn", "random_forest")


def make_regressor(model: str):
    """The scikit-learn model handed to Syne Tune's ``add_surrogate``.

    ``knn``: ``KNeighborsRegressor(n_neighbors=1)`` (Syne Tune's default surrogate).
    ``random_forest``: 50 trees with the settings hposim's ``random_forest`` uses by default
    (``max_features=0.5``, ``min_samples_leaf=1``, one thread, ``random_state=0``)."""
    if model == "knn":
        from sklearn.neighbors import KNeighborsRegressor

        return KNeighborsRegressor(n_neighbors=1)
    if model == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=50, max_features=0.5, min_samples_leaf=1,
                                     n_jobs=1, random_state=0)
    raise ValueError(f"unknown model {model!r}; allowed: {MODELS}")


def fit_surrogate(exchange: Path, model: str):
    """(Syne Tune surrogate blackbox, fit seconds) of the exchange table."""
    from syne_tune.blackbox_repository import add_surrogate

    table = st_blackbox_from_exchange(exchange)
    t0 = time.perf_counter()
    # ``table.configuration_space`` is already the whole cell space (``st_common.st_spaces``:
    # one ``choice`` over all operations per edge), passed explicitly as the surrogate's space
    sur = add_surrogate(table, surrogate=make_regressor(model),
                        configuration_space=dict(table.configuration_space))
    return sur, time.perf_counter() - t0


def time_predictions(sur) -> dict:
    """Wrap ``sur.objective_function`` (the backend's only call into the surrogate) to count its
    calls and their wall time; returns the counter dict, reset by the caller per experiment."""
    counter = {"calls": 0, "seconds": 0.0}
    inner = sur.objective_function

    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            counter["seconds"] += time.perf_counter() - t0
            counter["calls"] += 1

    sur.objective_function = timed
    return counter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", type=Path, required=True,
                        help="exchange folder of the fit table (both sides read the same one)")
    parser.add_argument("--model", choices=MODELS, default="knn", help="surrogate regressor")
    add_run_args(parser, default_seeds=[0])
    add_delay_args(parser)
    parser.add_argument("--grace-period", type=int, default=1, help="ASHA grace period")
    parser.add_argument("--reduction-factor", type=float, default=3.0, help="ASHA reduction factor")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # nothing printed: Syne Tune logs at INFO/WARNING
    workdir = tempfile.mkdtemp(prefix="st-sur-bench-")
    os.environ["SYNETUNE_FOLDER"] = workdir  # the tuner still creates its folder; keep it private
    try:
        meta = read_exchange_meta(args.exchange)
        sur, fit_s = fit_surrogate(args.exchange, args.model)
        counter = time_predictions(sur)
        experiments = []
        for seed in args.seeds:
            counter.update(calls=0, seconds=0.0)
            rec = run_experiment(sur, meta, method="ASHA", seed=seed, n_workers=args.n_workers,
                                 max_time=args.max_time, delays=args.delays,
                                 sleep_time=args.sleep_time, grace_period=args.grace_period,
                                 reduction_factor=args.reduction_factor)
            rec.update({"model": args.model, "max_time": args.max_time, "n_workers": args.n_workers,
                        "surrogate_calls": counter["calls"], "surrogate_seconds": counter["seconds"]})
            experiments.append(rec)
        emit({"side": "syne_tune", "model": args.model, "fit_seconds": fit_s,
              "fit_rows": int(meta["shape"][0]), "experiments": experiments,
              "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status()})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
