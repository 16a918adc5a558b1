"""Speed of simulating ASHA on a surrogate blackbox: hposim vs Syne Tune 0.16, same data, one run.

Data: the NAS-Bench-201-shaped synthetic table of ``nb201_table.py`` (table seed 0), restricted to a
random subset of ``--n-configs`` configurations chosen with ``numpy.random.default_rng(table_seed)``
as ``tables()`` in ``bench_surrogate.py`` does (the "fit table"), written as exchange files
(``nb201_table.write_exchange``). Each side, in its own venv and fresh process, reads those files,
fits its own surrogate on the same rows with the whole cell space (6 edges x 5 operations) as
configuration space, and simulates ASHA (stopping, grace period 1, reduction factor 3) with 4
workers until ``--max-time`` simulated seconds, one experiment per seed:

* Syne Tune: ``benchmarks/st_surrogate_side.py`` (``syne_tune.blackbox_repository.add_surrogate``
  + ``UserBlackboxBackend`` + ``SimulatorCallback``, timed ``tuner.run()``);
* hposim: ``benchmarks/hposim_surrogate_side.py`` (``blackbox_repo.surrogate.add_surrogate`` +
  ``simulator.simulate``, timed ``simulate``; the surrogate's cache is cleared per experiment).

The driver runs both sides for every model in one invocation (alternating the side that goes first
per model), prints per-experiment wall time, wall time per report and the ratio Syne Tune / hposim,
and saves the raw record as ``benchmarks/results/surrogate_syne_tune.json``
(``surrogate_syne_tune_delays_default.json`` with ``--delays default``).

Example::

    .venv/bin/python benchmarks/bench_surrogate_syne_tune.py --models knn,random_forest \\
        --seeds 0 1 2 --max-time 7200
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (BENCH_DIR, MAIN_PYTHON, SIGNAL_DEATHS, command_line, machine,  # noqa: E402
                          median, run_json, save_results)
from st_common import add_delay_args, add_run_args  # noqa: E402
from nb201_table import (DEFAULT_DIR, SyntheticTable, ensure_exchange, read_exchange,  # noqa: E402
                         write_exchange)

ST_PYTHON = BENCH_DIR / ".venv-syne-tune" / "bin" / "python"
MODELS = ("knn", "random_forest")


def fit_table_exchange(table_seed: int, n_configs: int, root: Path = DEFAULT_DIR) -> tuple[Path, list[int]]:
    """Write (once) the exchange files of the fit table: ``n_configs`` rows of the synthetic table
    of ``table_seed``, chosen as ``bench_surrogate.tables()`` chooses them. Returns the folder and
    the chosen row indices."""
    full = read_exchange(ensure_exchange(table_seed, root))
    n = full.shape[0]
    rows = np.sort(np.random.default_rng(table_seed).choice(n, size=min(n_configs, n), replace=False))
    folder = Path(root) / f"nb201-synthetic-seed{table_seed}-fit{len(rows)}-rng{table_seed}"
    meta_file = folder / "table.json"
    info = {**full.info, "subset_of": f"nb201-synthetic-seed{table_seed}",
            "subset_rng": f"numpy default_rng({table_seed}).choice({n}, {len(rows)}, replace=False), sorted",
            "n_configs": int(len(rows))}
    if not meta_file.exists() or read_exchange(folder).info != info:
        subset = SyntheticTable(
            hyperparameters=full.hyperparameters.iloc[rows].reset_index(drop=True),
            objectives=np.ascontiguousarray(full.objectives[rows]),
            fidelity_values=np.asarray(full.fidelity_values), objectives_names=full.objectives_names,
            metric=full.metric, mode=full.mode, metric_elapsed_time=full.metric_elapsed_time,
            fidelity_name=full.fidelity_name, info=info)
        write_exchange(subset, folder)
    return folder, rows.tolist()


def pooled_us(experiments: list[dict]) -> float:
    """Wall time per report over experiments: all their time over all their reports."""
    return 1e6 * sum(e["wall_seconds"] for e in experiments) / max(1, sum(e["n_reports"] for e in experiments))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="knn", help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("--n-configs", type=int, default=2000, help="rows of the fit table")
    parser.add_argument("--table-seed", type=int, default=0, help="seed of the synthetic table and subset")
    add_run_args(parser, default_seeds=[0, 1, 2])
    add_delay_args(parser)
    parser.add_argument("--timeout", type=float, default=1800.0, help="per side process (seconds)")
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; allowed: {','.join(MODELS)}")

    t0 = time.perf_counter()
    folder, rows = fit_table_exchange(args.table_seed, args.n_configs)
    record: dict = {"command": command_line(), "machine": machine(), "exchange": str(folder),
                    "fit_rows": len(rows), "exchange_s": round(time.perf_counter() - t0, 2),
                    "settings": {"method": "ASHA", "type": "stopping", "grace_period": 1,
                                 "reduction_factor": 3.0, "n_workers": args.n_workers,
                                 "max_time": args.max_time, "seeds": args.seeds,
                                 "st_delays": args.delays, "st_sleep_time": args.sleep_time},
                    "models": {}}
    print(f"fit table {folder.name}: {len(rows)} rows ({record['exchange_s']} s)", flush=True)
    common = ["--exchange", str(folder), "--seeds", *map(str, args.seeds),
              "--n-workers", str(args.n_workers), "--max-time", str(args.max_time)]
    for k, model in enumerate(models):
        cmds = {
            "hposim": [MAIN_PYTHON, BENCH_DIR / "hposim_surrogate_side.py", "--model", model, *common],
            "syne_tune": [ST_PYTHON, BENCH_DIR / "st_surrogate_side.py", "--model", model, *common,
                          "--delays", args.delays, "--sleep-time", str(args.sleep_time)],
        }
        order = ["hposim", "syne_tune"] if k % 2 == 0 else ["syne_tune", "hposim"]
        got = {side: run_json(cmds[side], timeout=args.timeout) for side in order}
        h, s = got["hposim"]["experiments"], got["syne_tune"]["experiments"]
        entry = {"order": order, "hposim": got["hposim"], "syne_tune": got["syne_tune"],
                 "pairs": []}
        print(f"\n{model}: fit hposim {got['hposim']['fit_seconds']:.3f} s, "
              f"Syne Tune {got['syne_tune']['fit_seconds']:.3f} s", flush=True)
        print(f"  {'seed':>4} {'side':>9} {'wall s':>8} {'reports':>8} {'trials':>7} {'us/report':>10}")
        for a, b in zip(h, s):
            pair = {"seed": a["seed"], "ratio_wall": b["wall_seconds"] / a["wall_seconds"],
                    "ratio_us_per_report": b["us_per_report"] / a["us_per_report"]}
            entry["pairs"].append(pair)
            for e in (a, b):
                print(f"  {e['seed']:>4} {e['side']:>9} {e['wall_seconds']:8.3f} {e['n_reports']:8d} "
                      f"{e['n_trials']:7d} {e['us_per_report']:10.1f}")
            print(f"  {'':>4} {'':>9} Syne Tune's surrogate calls: {b['surrogate_calls']} "
                  f"({b['surrogate_seconds']:.3f} s of its {b['wall_seconds']:.3f} s)")
            print(f"  {'':>4} {'ST/hposim':>9} {pair['ratio_wall']:8.1f} {'':>8} {'':>7} "
                  f"{pair['ratio_us_per_report']:10.1f}")
        h_us, s_us = pooled_us(h), pooled_us(s)
        entry["summary"] = {
            "hposim_us_per_report_pooled": h_us, "syne_tune_us_per_report_pooled": s_us,
            "ratio_us_per_report_pooled": s_us / h_us,
            "hposim_wall_median": median([e["wall_seconds"] for e in h]),
            "syne_tune_wall_median": median([e["wall_seconds"] for e in s]),
            "ratio_wall_median_of_pairs": median([p["ratio_wall"] for p in entry["pairs"]]),
            "syne_tune_surrogate_share": sum(e["surrogate_seconds"] for e in s)
            / sum(e["wall_seconds"] for e in s),
        }
        print(f"  pooled us/report: hposim {h_us:.1f}, Syne Tune {s_us:.1f}, ratio {s_us / h_us:.1f}",
              flush=True)
        record["models"][model] = entry
    record["signal_deaths"] = SIGNAL_DEATHS
    record["total_s"] = round(time.perf_counter() - t0, 1)
    name = "surrogate_syne_tune" if args.delays == "zero" else f"surrogate_syne_tune_delays_{args.delays}"
    path = save_results(name, record)
    print(f"\nresults: {path} (total {record['total_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
