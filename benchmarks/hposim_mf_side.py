"""hposim side of the multi-fidelity model-based benchmark (issue 10); run by ``.venv/bin/python``.

One experiment per (seed, method) on the stored NAS-Bench-201-shaped table, as a user runs it:
``simulator.make_scheduler(name, bb, seed=seed, **args)`` (the table's rows become the method's
``candidates``) and ``simulate(bb, scheduler, n_workers=4, stop=Stop(max_time=21600), seed=seed)``,
timed as a whole (wall and CPU time of the process). The methods are the tutorial's names
(``METHODS``: the hposim method and arguments each stands for; the same as the presets of
``methods.presets`` where those exist). ``best``/``best_final`` as ``st_mf_side.py`` computes them:
the lowest metric among the reports at simulated time <= max_time, and among those at the last epoch;
``records_sha256`` hashes the run's records (to check that a change keeps the results).
``--profile-dir`` writes a cProfile of each experiment. Example::

    .venv/bin/python benchmarks/hposim_mf_side.py --folder benchmarks/data/hposim-nb201-synthetic-seed0 \\
        --methods MOBSTER-JOINT DEHB --seeds 0 1
"""
from __future__ import annotations

import argparse
import cProfile
import hashlib
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))     # this tree's hposim first
from st_common import emit, peak_rss_mb  # noqa: E402

#: tutorial name -> (hposim method, arguments), as in Syne Tune's multi-fidelity tutorial
METHODS = {
    "MOBSTER-JOINT": ("MOBSTER", {"type": "promotion", "model": "joint"}),
    "MOBSTER-INDEP": ("MOBSTER", {"type": "promotion", "model": "independent"}),
    "HYPERTUNE-INDEP": ("HyperTune", {"type": "promotion", "model": "independent", "brackets": 1}),
    "HYPERTUNE4-INDEP": ("HyperTune", {"type": "promotion", "model": "independent", "brackets": 4}),
    "HYPERTUNE-JOINT": ("HyperTune", {"type": "promotion", "model": "joint", "brackets": 1}),
    "SYNCMOBSTER": ("SyncMOBSTER", {}),
    "BOHB": ("BOHB", {}),
    "DEHB": ("DEHB", {}),
    "ASHA-PROM": ("ASHA", {"type": "promotion"}),
}


def records_sha256(results) -> str:
    """sha256 of the run's records as CSV, without the measured ``decision_time`` (equal for
    equal runs: a speed change that keeps the results keeps this hash)."""
    cols = [c for c in results.columns if c != "decision_time"]
    return hashlib.sha256(results[cols].to_csv(index=False).encode()).hexdigest()


def run(folder: Path, methods: list[str], seeds: list[int], n_workers: int, max_time: float,
        profile_dir: Path | None) -> None:
    from blackbox_repo.storage import load_tabular
    from simulator import Stop, make_scheduler, simulate

    bb = load_tabular(folder)
    metric = bb.metric
    max_fidelity = float(bb.fidelity_values[-1])
    for seed in seeds:
        for name in methods:
            method, args = METHODS[name]
            load_before = [round(x, 2) for x in os.getloadavg()]
            profiler = cProfile.Profile() if profile_dir else None
            t0, c0 = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            scheduler = make_scheduler(method, bb, seed=seed, **args)
            res = simulate(bb, scheduler, n_workers=n_workers, stop=Stop(max_time=max_time), seed=seed)
            if profiler is not None:
                profiler.disable()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if profiler is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(profile_dir / f"hposim-{name}-seed{seed}.prof"))
            results = res.results
            in_budget = results[results["time"] <= max_time]
            final = in_budget[in_budget["fidelity"] >= max_fidelity]
            emit({
                "side": "hposim", "method": name, "hposim_method": method, "args": args, "seed": seed,
                "wall_seconds": wall, "cpu_seconds": cpu,
                "suggest_seconds": float(res.metadata["suggest_seconds"]),
                "report_seconds": float(res.metadata["report_seconds"]),
                "n_trials": int(res.metadata["n_trials"]),
                "n_trials_final": int(len(final)), "n_reports_in_budget": int(len(in_budget)),
                "best": float(in_budget[metric].min()) if len(in_budget) else math.inf,
                "best_final": float(final[metric].min()) if len(final) else math.inf,
                "metric": metric, "max_time": max_time, "n_workers": n_workers, "profiled": profiler is not None,
                "loadavg_before": load_before, "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "peak_rss_mb": peak_rss_mb(),
                "records_sha256": records_sha256(results),
            })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="hposim table folder")
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-workers", type=int, default=4)
    parser.add_argument("--max-time", type=float, default=21_600.0)
    parser.add_argument("--profile-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    run(args.folder, args.methods, args.seeds, args.n_workers, args.max_time, args.profile_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
