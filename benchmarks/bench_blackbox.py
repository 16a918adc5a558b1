"""Blackbox speed, hposim vs Syne Tune 0.16 (issue 2, requirement 8).

On the NAS-Bench-201-shaped synthetic table (15,625 configs x 3 seeds x 200 epochs x 6 objectives):

* **open**: time to open the cached table — hposim ``load_tabular`` (memory-mapped ``objectives.npy``)
  vs Syne Tune ``deserialize`` of its own serialized folder; each repeat in a fresh process,
  imports excluded, OS page cache warm (both files were just written/read);
* **lookups**: whole curves (200 epochs x 6 objectives) by config id — hposim's vectorized
  ``curves(ids, seeds)`` in batches vs Syne Tune's ``objective_function(id)`` called once per lookup
  (it has no batch lookup); plus one-by-one lookups on both sides and lookups by configuration dict.

Both sides read the same exchange files (``hyperparameters.parquet`` + ``objectives.npy``) produced by
``nb201_table.py``; Syne Tune runs in its own venv (``syne_tune_env.py``). Sides alternate within each
repeat and medians are reported, since the machine is shared.

Example::

    .venv/bin/python benchmarks/bench_blackbox.py --repeats 7
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (MAIN_PYTHON, SIGNAL_DEATHS, command_line, machine, median, run_json,  # noqa: E402
                          save_results, spread)
from nb201_table import DEFAULT_DIR, ensure_exchange  # noqa: E402
from syne_tune_env import ensure as ensure_st_env  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--table-seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1024, help="ids per vectorized hposim call")
    parser.add_argument("--n-lookups", type=int, default=100_000)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)

    st_python = ensure_st_env(quiet=True)
    exchange = ensure_exchange(args.table_seed, args.data)
    hp_dir = args.data / f"hposim-nb201-synthetic-seed{args.table_seed}"
    st_dir = args.data / f"st-nb201-synthetic-seed{args.table_seed}"
    hp_side = [MAIN_PYTHON, "hposim_side.py"]
    st_side = [st_python, "st_blackbox_side.py"]
    run_json([*hp_side, "prepare", "--exchange", exchange, "--folder", hp_dir])
    run_json([*st_side, "prepare", "--exchange", exchange, "--st-dir", st_dir])

    lookup_args = ["--n-batch", args.n_lookups, "--batch", args.batch,
                   "--min-seconds", args.min_seconds]
    opens = {"hposim": [], "syne_tune": []}
    looks = {"hposim": [], "syne_tune": []}
    for r in range(args.repeats):
        opens["hposim"].append(run_json([*hp_side, "open", "--folder", hp_dir]))
        opens["syne_tune"].append(run_json([*st_side, "open", "--st-dir", st_dir]))
        looks["hposim"].append(run_json([*hp_side, "lookup", "--folder", hp_dir, "--seed", r,
                                         *lookup_args]))
        looks["syne_tune"].append(run_json([*st_side, "lookup", "--st-dir", st_dir, "--seed", r,
                                            *lookup_args]))
        print(f"repeat {r + 1}/{args.repeats}: open hposim {opens['hposim'][-1]['seconds']:.3f} s, "
              f"syne tune {opens['syne_tune'][-1]['seconds']:.3f} s; vectorized hposim "
              f"{looks['hposim'][-1]['vectorized_per_s']:,.0f}/s, syne tune one-by-one "
              f"{looks['syne_tune'][-1]['by_id_per_s']:,.0f}/s", flush=True)

    def col(side: str, key: str, source: dict) -> list[float]:
        return [rec[key] for rec in source[side]]

    hp_open, st_open = col("hposim", "seconds", opens), col("syne_tune", "seconds", opens)
    rows = [
        ("open cached table (s, lower is better)", hp_open, st_open, median(st_open) / median(hp_open)),
    ]
    hv = col("hposim", "vectorized_per_s", looks)
    sv = col("syne_tune", "by_id_per_s", looks)
    rows.append((f"whole-curve lookups/s by id: hposim curves() batches of {args.batch} vs "
                 "Syne Tune objective_function(id) per call", hv, sv, median(hv) / median(sv)))
    hi, si = col("hposim", "by_id_per_s", looks), col("syne_tune", "by_id_per_s", looks)
    rows.append(("whole-curve lookups/s by id, one call per lookup (both return a view)", hi, si,
                 median(hi) / median(si)))
    hc, sc = col("hposim", "by_config_per_s", looks), col("syne_tune", "by_config_per_s", looks)
    rows.append(("whole-curve lookups/s by configuration dict, one call per lookup", hc, sc,
                 median(hc) / median(sc)))
    sn = col("syne_tune", "numpy_fancy_index_per_s", looks)
    rows.append((f"(floor) raw NumPy fancy indexing of the in-memory array, batches of {args.batch}",
                 hv, sn, median(hv) / median(sn)))
    curve_bytes = 200 * 6 * 4

    print("\n| measure | hposim | Syne Tune 0.16 | ratio (hposim advantage) |")
    print("|---|---|---|---|")
    for label, h, s, ratio in rows:
        print(f"| {label} | {spread(h)} | {spread(s)} | {ratio:.1f}x |")
    print(f"\nvectorized hposim: {median(hv) * curve_bytes / 1e9:.2f} GB/s of curves copied "
          f"({curve_bytes} bytes per whole curve)")
    print(f"peak RSS after open: hposim {median(col('hposim', 'peak_rss_mb', opens)):.0f} MiB, "
          f"Syne Tune {median(col('syne_tune', 'peak_rss_mb', opens)):.0f} MiB")
    path = save_results("blackbox", {
        "command": command_line(), "machine": machine(), "repeats": args.repeats,
        "open": opens, "lookup": looks, "signal_deaths": SIGNAL_DEATHS,
        "summary": [{"measure": label, "hposim_median": median(h), "syne_tune_median": median(s),
                     "ratio": ratio} for label, h, s, ratio in rows],
    })
    print(f"\nraw records: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
