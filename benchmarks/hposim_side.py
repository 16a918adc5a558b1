"""hposim side of the side-by-side benchmarks; run by the main venv's python (``.venv/bin/python``).

Mirror of ``st_blackbox_side.py`` / ``st_simulator_side.py`` so both sides are timed the same way,
each in its own fresh process:

``prepare``   convert the exchange table into hposim's storage (``blackbox_repo.storage.save_tabular``);
``open``      time ``load_tabular`` of the stored folder (its memory-mapped cache);
``lookup``    whole-curve lookups: ``TabularBlackbox.curves(ids, seeds)`` (vectorized, batches of
              ``--batch`` ids; fancy indexing copies every curve, so every byte is read),
              ``curve(i, s)`` one call per lookup, and ``evaluate(config)`` by configuration dict;
``simulate``  run one experiment (RandomSearch or ASHA) with ``simulator.simulate`` and report wall
              time, reports, trials, peak memory and the best metric found.

Example::

    .venv/bin/python benchmarks/hposim_side.py open --folder benchmarks/data/hposim-nb201-synthetic-seed0
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from st_common import emit, lookup_rate as _rate, memory_status, peak_rss_mb  # noqa: E402

NAME, TASK = "nb201-synthetic", "cifar10-like"


def tabular_from_exchange(exchange: Path):
    """A hposim ``TabularBlackbox`` over the exchange files (same hyperparameters and objectives)."""
    from blackbox_repo.blackbox import TabularBlackbox
    from blackbox_repo.configspace import ConfigurationSpace, choice
    from nb201_table import read_exchange

    t = read_exchange(exchange, mmap=False)
    space = ConfigurationSpace({name: choice(list(t.info["ops"])) for name in t.hyperparameters.columns})
    return TabularBlackbox(
        t.hyperparameters, t.objectives, fidelity_values=t.fidelity_values,
        objectives_names=list(t.objectives_names), configuration_space=space,
        fidelity_name=t.fidelity_name, metric_elapsed_time=t.metric_elapsed_time,
        metric=t.metric, mode=t.mode,
        metadata={"source": "benchmarks/nb201_table.py", **t.info},
    )


def prepare(exchange: Path, folder: Path) -> dict:
    from blackbox_repo.storage import save_tabular

    if (folder / "metadata.json").exists():
        return {"mode": "prepare", "cached": True}
    t0 = time.perf_counter()
    save_tabular(tabular_from_exchange(exchange), folder, name=NAME, task=TASK)
    return {"mode": "prepare", "cached": False, "seconds": time.perf_counter() - t0}


def open_table(folder: Path) -> dict:
    from blackbox_repo.storage import load_tabular

    t0 = time.perf_counter()
    bb = load_tabular(folder)
    seconds = time.perf_counter() - t0
    return {"mode": "open", "seconds": seconds, "shape": list(bb.shape), "peak_rss_mb": peak_rss_mb()}


def lookup(folder: Path, *, n_batch: int, batch: int, n_single: int, seed: int,
           min_seconds: float) -> dict:
    from blackbox_repo.storage import load_tabular

    bb = load_tabular(folder)
    n_configs, n_seeds = bb.shape[:2]
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_configs, n_batch)
    seeds = rng.integers(0, n_seeds, n_batch)
    chunks = [(ids[i:i + batch], seeds[i:i + batch]) for i in range(0, n_batch, batch)]
    single_ids, single_seeds = ids[:n_single].tolist(), seeds[:n_single].tolist()
    n_config = max(1, n_single // 10)
    configs = [bb.config(i) for i in single_ids[:n_config]]
    checksum = float(bb.curve(single_ids[0], single_seeds[0]).sum())
    bb.objectives[...].sum()  # page the memory map in once, as the Syne Tune side has it in memory

    def vectorized():
        for c_ids, c_seeds in chunks:
            bb.curves(c_ids, c_seeds)

    def by_id():
        for i, s in zip(single_ids, single_seeds):
            bb.curve(i, s)

    def by_config():
        for c, s in zip(configs, single_seeds):
            bb.evaluate(c, seed=s)

    return {
        "mode": "lookup",
        "vectorized_per_s": _rate(vectorized, n_batch, min_seconds),
        "batch": batch,
        "by_id_per_s": _rate(by_id, n_single, min_seconds),
        "by_config_per_s": _rate(by_config, n_config, min_seconds),
        "checksum": checksum,
        "peak_rss_mb": peak_rss_mb(),
    }


def use_syne_tune_rank_rule(scheduler) -> None:
    """Experiment (benchmarks only): make hposim's stopping-ASHA rungs decide with Syne Tune 0.16's
    rule — continue iff (number of recorded scores strictly better) / (number recorded, own
    included) <= 1/rf — instead of hposim's "score <= the 1/rf quantile (linear interpolation)".
    The two agree for large rungs; Syne Tune is more lenient on small ones (the top rungs)."""
    import bisect

    from methods.rungs import StoppingRung

    class SyneTuneRankRung(StoppingRung):
        def record_and_decide(self, score: float, quantile: float) -> bool:
            n_better = bisect.bisect_left(self.scores, score)
            bisect.insort(self.scores, score)
            return n_better / len(self.scores) <= quantile

    for bracket in scheduler._stopping:
        for rung in bracket:
            rung.__class__ = SyneTuneRankRung


def simulate_runs(folder: Path, *, method: str, seeds: list[int], n_workers: int, max_time: float,
                  grace_period: int, reduction_factor: float, st_rank_rule: bool = False) -> list[dict]:
    """One experiment per seed; ``simulate()`` is timed as a whole (loop + results table)."""
    from blackbox_repo.storage import load_tabular
    from simulator import Stop, make_scheduler, simulate

    t0 = time.perf_counter()
    bb = load_tabular(folder)
    load_s = time.perf_counter() - t0
    rss_after_load = peak_rss_mb()
    mem_after_load = memory_status()
    kwargs = {}
    if method == "ASHA":
        kwargs = {"type": "stopping", "grace_period": grace_period,
                  "reduction_factor": reduction_factor, "max_fidelity": int(bb.fidelity_values[-1])}
    records = []
    for seed in seeds:
        t0 = time.perf_counter()
        scheduler = make_scheduler(method, bb, seed=seed, **kwargs)
        if st_rank_rule and method == "ASHA":
            use_syne_tune_rank_rule(scheduler)
        setup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = simulate(bb, scheduler, n_workers=n_workers, stop=Stop(max_time=max_time), seed=seed)
        wall = time.perf_counter() - t0
        results = res.results
        in_budget = results[results["time"] <= max_time]
        metric = bb.metric
        n_reports = int(len(results))
        records.append({
            "side": "hposim", "st_rank_rule": st_rank_rule, "method": method, "seed": seed,
            "wall_seconds": wall,
            "loop_seconds": float(res.metadata["wall_seconds"]), "setup_seconds": setup_s,
            "n_reports": n_reports, "n_reports_in_budget": int(len(in_budget)),
            "n_trials": int(res.metadata["n_trials"]),
            "n_trials_reporting": int(in_budget["trial_id"].nunique()),
            "best": float(in_budget[metric].min()) if len(in_budget) else float("nan"),
            "last_report_time": float(in_budget["time"].max()) if len(in_budget) else 0.0,
            "reports_per_s": n_reports / wall if wall > 0 else float("nan"),
            "us_per_report": 1e6 * wall / max(1, n_reports),
            "decisions": {str(k): int(v) for k, v in results["decision"].value_counts().items()},
            "peak_rss_mb": peak_rss_mb(), "memory_at_end": memory_status(),
            "table_load_seconds": load_s, "rss_after_table_mb": rss_after_load,
            "memory_after_table": mem_after_load, "max_time": max_time, "n_workers": n_workers,
        })
        emit(records[-1])
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["prepare", "open", "lookup", "simulate"])
    parser.add_argument("--exchange", type=Path, help="exchange folder (for prepare)")
    parser.add_argument("--folder", type=Path, required=True, help="hposim blackbox folder")
    parser.add_argument("--n-batch", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--n-single", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--method", choices=["RandomSearch", "ASHA"], default="RandomSearch")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-time", type=float, default=72_000.0)
    parser.add_argument("--grace-period", type=int, default=1)
    parser.add_argument("--reduction-factor", type=float, default=3.0)
    parser.add_argument("--st-rank-rule", action="store_true",
                        help="ASHA rungs decide with Syne Tune's rank rule (experiment)")
    args = parser.parse_args(argv)
    if args.mode == "prepare":
        if args.exchange is None:
            parser.error("prepare needs --exchange")
        emit(prepare(args.exchange, args.folder))
    elif args.mode == "open":
        emit(open_table(args.folder))
    elif args.mode == "simulate":
        simulate_runs(args.folder, method=args.method, seeds=args.seeds, n_workers=args.n_workers,
                      max_time=args.max_time, grace_period=args.grace_period,
                      reduction_factor=args.reduction_factor, st_rank_rule=args.st_rank_rule)
    else:
        emit(lookup(args.folder, n_batch=args.n_batch, batch=args.batch, n_single=args.n_single,
                    seed=args.seed, min_seconds=args.min_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
