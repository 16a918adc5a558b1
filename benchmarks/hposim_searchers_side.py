"""hposim side of the model-based searcher benchmark (issue 9); run by ``.venv/bin/python``.

Two modes, each printing one JSON record per run (the driver is ``bench_searchers.py``):

``simulate``  one experiment per seed on the stored NAS-Bench-201-shaped table, as a user runs it:
              ``simulator.make_scheduler(method, bb, seed=seed)`` (the table's rows become the
              method's ``candidates``) and ``simulate(bb, scheduler, n_workers=4,
              stop=Stop(max_time=21600), seed=seed)``, timed as a whole. ``best`` and ``best_final``
              are computed as ``st_searchers_side.py`` computes them: the lowest metric among the
              reports at simulated time <= max_time, and among those at the last epoch.
``micro``     the cost of one searcher's suggestions on an 8-hyperparameter mixed space
              (``MICRO_SPACE``: 5 floats of which 2 log-scaled, 1 integer, 2 categoricals) and
              500 observations of a synthetic function (``micro_objective``), fed one at a time
              through the scheduler protocol (``suggest``, ``on_start``, ``on_report``,
              ``on_end``), with 0 or ``--pending`` trials running while each suggestion is made.
              Every call is timed; the GP's fits and incremental updates are recorded by wrapping
              ``methods.gp.GaussianProcess.fit``/``add`` (benchmark instrumentation only).

Example::

    .venv/bin/python benchmarks/hposim_searchers_side.py simulate \\
        --folder benchmarks/data/hposim-nb201-synthetic-seed0 --method TPE --seeds 0 1
    .venv/bin/python benchmarks/hposim_searchers_side.py micro --method TPE --seed 0
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import emit, memory_status, peak_rss_mb  # noqa: E402

METHODS = ("BayesianOptimization", "TPE", "REA", "RandomSearch")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------------- simulate
def observations_at_start(trials, results, metric: str, max_fidelity: float, max_time: float) -> list[int]:
    """For every trial (in trial-id order): the number of final (last-epoch) reports made at or
    before its start, i.e. the observations a single-fidelity searcher had when it chose it."""
    final = results[(results["fidelity"] >= max_fidelity) & (results["time"] <= max_time)]
    done = np.sort(final["time"].to_numpy())
    starts = trials.sort_values("trial_id")["start_time"].to_numpy()
    return np.searchsorted(done, starts, side="right").tolist()


def simulate_runs(folder: Path, *, method: str, seeds: list[int], n_workers: int,
                  max_time: float) -> None:
    from blackbox_repo.storage import load_tabular
    from simulator import Stop, make_scheduler, simulate

    t0 = time.perf_counter()
    bb = load_tabular(folder)
    load_s = time.perf_counter() - t0
    metric = bb.metric
    max_fidelity = float(bb.fidelity_values[-1])
    for i, seed in enumerate(seeds):
        load_before = load_average()
        t0 = time.perf_counter()
        scheduler = make_scheduler(method, bb, seed=seed)
        setup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = simulate(bb, scheduler, n_workers=n_workers, stop=Stop(max_time=max_time), seed=seed)
        wall = time.perf_counter() - t0
        results = res.results
        in_budget = results[results["time"] <= max_time]
        final = in_budget[in_budget["fidelity"] >= max_fidelity]
        emit({
            "side": "hposim", "method": method, "seed": seed, "cold": i == 0,
            "wall_seconds": wall, "setup_seconds": setup_s,
            "loop_seconds": float(res.metadata["wall_seconds"]),
            "suggest_seconds": float(res.metadata["suggest_seconds"]),
            "report_seconds": float(res.metadata["report_seconds"]),
            "n_trials": int(res.metadata["n_trials"]),
            "n_trials_reporting": int(in_budget["trial_id"].nunique()),
            "n_trials_final": int(len(final)),
            "n_reports": int(len(results)), "n_reports_in_budget": int(len(in_budget)),
            "best": float(in_budget[metric].min()) if len(in_budget) else math.inf,
            "best_final": float(final[metric].min()) if len(final) else math.inf,
            "observations_at_start": observations_at_start(res.trials, results, metric, max_fidelity,
                                                           max_time),
            "n_candidates": len(scheduler.candidates) if scheduler.candidates is not None else None,
            "metric": metric, "max_epoch": max_fidelity, "max_time": max_time, "n_workers": n_workers,
            "loadavg_before": load_before, "loadavg_after": load_average(),
            "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status(),
            "table_load_seconds": load_s,
            "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
        })


# ---------------------------------------------------------------------------------- micro
def micro_space():
    """The 8-hyperparameter mixed space of the micro benchmark."""
    from blackbox_repo.configspace import ConfigurationSpace, choice, loguniform, randint, uniform

    return ConfigurationSpace({
        "lr": loguniform(1e-5, 1e-1),
        "weight_decay": loguniform(1e-6, 1e-2),
        "momentum": uniform(0.8, 0.99),
        "dropout": uniform(0.0, 0.5),
        "warmup": uniform(0.0, 0.2),
        "layers": randint(1, 8),
        "activation": choice(["relu", "tanh", "gelu", "elu"]),
        "optimizer": choice(["sgd", "adam", "adamw"]),
    })


_ACT = {"relu": 0.0, "tanh": 0.2, "gelu": 0.05, "elu": 0.1}
_OPT = {"sgd": 0.1, "adam": 0.0, "adamw": -0.05}


def micro_objective(config: dict, seed: int, trial_id: int) -> float:
    """A smooth synthetic loss (lower is better) with interactions and a little seeded noise."""
    lr = math.log10(config["lr"])
    wd = math.log10(config["weight_decay"])
    loss = ((lr + 3.0) ** 2 / 4.0 + (wd + 4.0) ** 2 / 8.0 + 10.0 * (config["momentum"] - 0.9) ** 2
            + 2.0 * (config["dropout"] - 0.2) ** 2 + config["warmup"]
            + 0.0125 * (config["layers"] - 4) ** 2 * (1.0 + 0.2 * (lr + 3.0) ** 2)
            + _ACT[config["activation"]] + _OPT[config["optimizer"]]
            + (0.1 * (lr + 3.0) if config["optimizer"] == "sgd" else 0.0))
    return loss + 0.01 * float(np.random.default_rng([seed, trial_id]).standard_normal())


class FitRecorder:
    """While active (a context manager), wraps ``GaussianProcess.fit``/``add`` to record every
    call: the number of observations, whether the hyperparameters were refitted, the seconds
    and the suggestion cycle (``cycle``, set by the caller). The methods are restored on exit.

    Example:
        >>> from methods.gp import GaussianProcess
        >>> with FitRecorder() as rec:
        ...     GaussianProcess(rng=np.random.default_rng(0)).fit(np.eye(3), np.arange(3.0))
        >>> rec.calls[0]["kind"], rec.calls[0]["n"], rec.calls[0]["refit"]
        ('fit', 3, True)
    """

    def __init__(self):
        self.calls: list[dict] = []
        self.cycle = -1                      # index of the suggestion cycle being run

    def __enter__(self) -> FitRecorder:
        from methods.gp import GaussianProcess

        fit, add = self._originals = GaussianProcess.fit, GaussianProcess.add
        rec = self

        def timed_fit(gp, X, y, *args, **kwargs):
            t0 = time.perf_counter()
            out = fit(gp, X, y, *args, **kwargs)
            rec.calls.append({"kind": "fit", "n": int(len(y)),
                              "refit": bool(kwargs.get("refit_hyperparameters", True)),
                              "seconds": time.perf_counter() - t0, "cycle": rec.cycle})
            return out

        def timed_add(gp, X_new, y_new, *args, **kwargs):
            t0 = time.perf_counter()
            out = add(gp, X_new, y_new, *args, **kwargs)
            rec.calls.append({"kind": "add", "n": int(len(gp._X)), "m": int(len(y_new)),
                              "seconds": time.perf_counter() - t0, "cycle": rec.cycle})
            return out

        GaussianProcess.fit, GaussianProcess.add = timed_fit, timed_add
        return self

    def __exit__(self, *exc) -> None:
        from methods.gp import GaussianProcess

        GaussianProcess.fit, GaussianProcess.add = self._originals


def micro_run(method: str, seed: int, n_obs: int, pending: int, recorder: FitRecorder | None) -> dict:
    """Feed ``n_obs`` observations one at a time, with ``pending`` trials running at each
    suggestion; per cycle the seconds of ``suggest`` and of ``on_start``+``on_report``+``on_end``.
    BLAS threads are limited as ``simulator.simulate`` limits them (``Scheduler.blas_threads``)."""
    import methods
    from threadpoolctl import threadpool_limits

    sched = methods.create(method, micro_space(), metric="loss", mode="min", seed=seed,
                           fidelity_values=[1])
    threads = sched.blas_threads
    with threadpool_limits(limits=threads, user_api="blas") if threads else contextlib.nullcontext():
        return _micro_loop(method, sched, seed, n_obs, pending, recorder)


def _micro_loop(method: str, sched, seed: int, n_obs: int, pending: int, recorder: FitRecorder | None) -> dict:
    from methods.base import Trial, TrialStatus

    perf = time.perf_counter
    running: list[Trial] = []
    obs_at, suggest_s, book_s = [], [], []
    n_done = tid = 0
    best = math.inf
    while n_done < n_obs:
        if recorder is not None:
            recorder.cycle = tid
        obs_at.append(n_done)
        t0 = perf()
        s = sched.suggest(0.0)
        t1 = perf()
        trial = Trial(tid, s.config)
        sched.on_start(trial)
        book = perf() - t1
        running.append(trial)
        tid += 1
        if len(running) > pending:
            done = running.pop(0)
            loss = micro_objective(done.config, seed, done.trial_id)   # not timed
            best = min(best, loss)
            t2 = perf()
            sched.on_report(done, 1, {"loss": loss}, 0.0)
            sched.on_end(done, TrialStatus.COMPLETED)
            book += perf() - t2
            n_done += 1
        suggest_s.append(t1 - t0)
        book_s.append(book)
    out = {"method": method, "seed": seed, "pending": pending, "n_obs": n_obs,
           "obs_at_suggestion": obs_at, "suggest_seconds": suggest_s, "bookkeeping_seconds": book_s,
           "gp_calls": list(recorder.calls) if recorder is not None else [], "best": best}
    searcher = getattr(sched, "searcher", None)
    if method == "BayesianOptimization" and searcher is not None:
        out["fresh_fit_at_end"] = fresh_fits(searcher)
    return out


def fresh_fits(searcher, repeats: int = 3) -> dict:
    """Seconds of one hyperparameter fit on the searcher's final data with the searcher's number
    of restarts (public ``GaussianProcess`` API): cold (from Syne Tune's initial values, as the
    first fit) and warm (again on the same data, from the fitted values, as a scheduled refit)."""
    from methods.gp import GaussianProcess

    fidelity = searcher.history.model_fidelity(1)
    X, y, _ = searcher.history.data(fidelity)
    restarts = int(getattr(searcher, "fit_restarts", 1))
    cold, warm = [], []
    for r in range(repeats):
        gp = GaussianProcess(restarts=restarts, rng=np.random.default_rng(r))
        t0 = time.perf_counter()
        gp.fit(X, y)
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gp.fit(X, y)
        warm.append(time.perf_counter() - t0)
    return {"n": int(len(y)), "restarts": restarts, "cold_seconds": cold, "warm_seconds": warm}


def micro(method: str, seed: int, n_obs: int, pendings: list[int]) -> None:
    for pending in pendings:
        load_before = load_average()
        t0 = time.perf_counter()
        if method == "BayesianOptimization":
            with FitRecorder() as recorder:
                rec = micro_run(method, seed, n_obs, pending, recorder)
        else:
            rec = micro_run(method, seed, n_obs, pending, None)
        rec.update({"side": "hposim", "mode": "micro", "run_seconds": time.perf_counter() - t0,
                    "loadavg_before": load_before, "loadavg_after": load_average(),
                    "blas_threads_env": os.environ.get("OPENBLAS_NUM_THREADS")})
        emit(rec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["simulate", "micro"])
    parser.add_argument("--method", choices=METHODS, required=True)
    parser.add_argument("--folder", type=Path, help="hposim blackbox folder (simulate)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="simulate: one experiment each")
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-time", type=float, default=21_600.0)
    parser.add_argument("--seed", type=int, default=0, help="micro: the scheduler's seed")
    parser.add_argument("--n-obs", type=int, default=500, help="micro: observations fed")
    parser.add_argument("--pending", type=int, nargs="+", default=[0, 4],
                        help="micro: trials running at each suggestion (one run per value)")
    args = parser.parse_args(argv)
    if args.mode == "simulate":
        if args.folder is None:
            parser.error("simulate needs --folder")
        simulate_runs(args.folder, method=args.method, seeds=args.seeds, n_workers=args.n_workers,
                      max_time=args.max_time)
    else:
        micro(args.method, args.seed, args.n_obs, args.pending)
    return 0


if __name__ == "__main__":
    sys.exit(main())
