"""Multi-fidelity model-based methods: hposim vs Syne Tune 0.13 per experiment (issue 10).

Side by side on the NAS-Bench-201-shaped table (``nb201_table.py``), 4 workers, 21,600 simulated
seconds, metric ``valid_error``, the tutorial's settings (Syne Tune's
``docs/source/tutorials/multifidelity/code/hpo_main.py``): MOBSTER-JOINT, MOBSTER-INDEP,
HYPERTUNE-INDEP (``type="promotion"``), SYNCMOBSTER, BOHB (``SyncBOHB``) and DEHB.

``run``     prepares the table for both sides, then starts the Syne Tune side
            (``st_mf_side.py`` in ``benchmarks/.venv-syne-tune-013``; slow, so in ``--st-processes``
            background processes, seeds first: every method gets seed 0 before any gets seed 1)
            and the hposim side (``hposim_mf_side.py``, this tree's code), all under ``nice -n 10``,
            appending one JSON record per experiment to ``--results-dir``; it waits for the hposim
            side and for the Syne Tune side up to ``--st-deadline`` seconds (then stops it: the
            Syne Tune seeds finished by then are the ones reported), then prints the report.
``report``  reads every ``*.jsonl`` of ``--results-dir`` and prints the markdown table: per method,
            the seeds per side, CPU and wall seconds per experiment (median), the speed ratios
            (Syne Tune median / hposim median; CPU time is the fair figure on a shared machine),
            the final best (lowest ``valid_error`` reported within the budget) mean +- standard
            error per side, and one-sided tests that hposim is worse: Mann-Whitney U over all
            seeds of both sides and, where both ran the same seeds, the paired Wilcoxon test.
            A method with no record on a side (e.g. BOHB before it is registered in hposim) gets
            a row saying so.

Example::

    .venv/bin/python benchmarks/bench_mf_gp.py run --hposim-seeds 10 --st-seeds 10 --st-deadline 3600
    .venv/bin/python benchmarks/bench_mf_gp.py run --methods BOHB DEHB --results-dir benchmarks/results/mf-bohb-dehb
    .venv/bin/python benchmarks/bench_mf_gp.py report --results-dir benchmarks/results/mf
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import BENCH_DIR, MAIN_PYTHON, median  # noqa: E402

METHODS = ("MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "SYNCMOBSTER", "BOHB", "DEHB")
GP_METHODS = ("MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "SYNCMOBSTER")
#: speed targets of the issue (Syne Tune time / hposim time)
TARGETS = {m: (50.0 if m in GP_METHODS else 10.0) for m in METHODS}
DEFAULT_RESULTS = BENCH_DIR / "results" / "mf"


def load(results_dir: Path) -> dict[str, dict[str, dict[int, dict]]]:
    """side -> method -> seed -> record (the first record of each (side, method, seed))."""
    out: dict[str, dict[str, dict[int, dict]]] = {"hposim": {}, "syne_tune": {}}
    for f in sorted(Path(results_dir).glob("*.jsonl")):
        for line in f.read_text().splitlines():
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("missing") or r.get("profiled"):
                continue
            out[r["side"]].setdefault(r["method"], {}).setdefault(int(r["seed"]), r)
    return out


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")


def compare(h: dict[int, dict], s: dict[int, dict], key: str = "best") -> dict:
    from scipy.stats import mannwhitneyu, wilcoxon

    hv = np.array([h[k][key] for k in sorted(h)], float)
    sv = np.array([s[k][key] for k in sorted(s)], float)
    out = {"hposim_mean": float(hv.mean()), "hposim_se": _se(hv), "syne_tune_mean": float(sv.mean()),
           "syne_tune_se": _se(sv), "mw_p_hposim_worse": float("nan"), "wilcoxon_p_hposim_worse": float("nan"),
           "paired_seeds": sorted(set(h) & set(s))}
    if len(hv) and len(sv):
        out["mw_p_hposim_worse"] = float(mannwhitneyu(hv, sv, alternative="greater").pvalue)
    common = out["paired_seeds"]
    d = np.array([h[k][key] - s[k][key] for k in common])
    nz = d[d != 0]
    if len(nz):
        out["wilcoxon_p_hposim_worse"] = float(wilcoxon(nz, alternative="greater").pvalue)
    return out


def report(results_dir: Path, methods: Sequence[str] = METHODS) -> str:
    data = load(results_dir)
    lines = ["| method | seeds hposim / Syne Tune | CPU s hposim | CPU s Syne Tune | CPU ratio | wall s hposim "
             "| wall s Syne Tune | wall ratio | target | best hposim (mean +- se) | best Syne Tune | "
             "p (MW, hposim worse) | p (Wilcoxon, paired seeds) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in methods:
        h, s = data["hposim"].get(m, {}), data["syne_tune"].get(m, {})
        if not h or not s:
            missing = "hposim" if not h else "Syne Tune"
            lines.append(f"| {m} | {len(h)} / {len(s)} | no {missing} record yet (run `bench_mf_gp.py run` "
                         f"once it is available) |" + " |" * 10)
            continue
        hc = median([r["cpu_seconds"] for r in h.values()])
        sc = median([r["cpu_seconds"] for r in s.values()])
        hw = median([r["wall_seconds"] for r in h.values()])
        sw = median([r["wall_seconds"] for r in s.values()])
        c = compare(h, s)
        wp = c["wilcoxon_p_hposim_worse"]
        lines.append(
            f"| {m} | {len(h)} / {len(s)} | {hc:.2f} | {sc:.1f} | {sc / hc:.0f}x | {hw:.2f} | {sw:.1f} | "
            f"{sw / hw:.0f}x | >= {TARGETS[m]:.0f}x | {c['hposim_mean']:.4f} +- {c['hposim_se']:.4f} | "
            f"{c['syne_tune_mean']:.4f} +- {c['syne_tune_se']:.4f} | {c['mw_p_hposim_worse']:.3f} | "
            f"{'n/a' if math.isnan(wp) else f'{wp:.3f}'} ({len(c['paired_seeds'])} seeds) |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> None:
    from hposim_side import prepare
    from nb201_table import DEFAULT_DIR, ensure_exchange
    from syne_tune13_env import ensure as ensure_st13

    st_python = ensure_st13(quiet=True)
    exchange = ensure_exchange(0, DEFAULT_DIR)
    hp_dir = DEFAULT_DIR / "hposim-nb201-synthetic-seed0"
    prepare(exchange, hp_dir)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    nice = ["nice", "-n", "10"]
    st_seeds = [str(i) for i in range(args.st_seeds)]
    methods = list(args.methods)
    groups = [g for g in (methods[i::args.st_processes] for i in range(args.st_processes)) if g]
    st = []
    for i, group in enumerate(groups):
        out = open(args.results_dir / f"st13_mf_{i}.jsonl", "a")
        st.append(subprocess.Popen(nice + [str(st_python), "st_mf_side.py", "--exchange", str(exchange),
                                           "--methods", *group, "--seeds", *st_seeds], cwd=BENCH_DIR,
                                   stdout=out, stderr=subprocess.DEVNULL, start_new_session=True))
    with open(args.results_dir / "hposim_mf.jsonl", "a") as out:
        subprocess.run(nice + [str(MAIN_PYTHON), "hposim_mf_side.py", "--folder", str(hp_dir), "--methods",
                               *methods, "--seeds", *[str(i) for i in range(args.hposim_seeds)]],
                       cwd=BENCH_DIR, stdout=out, check=True)
    deadline = time.monotonic() + args.st_deadline
    for p in st:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
    print(report(args.results_dir, methods))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--hposim-seeds", type=int, default=10)
    r.add_argument("--st-seeds", type=int, default=10)
    r.add_argument("--st-processes", type=int, default=2)
    r.add_argument("--st-deadline", type=float, default=3600.0, help="seconds to wait for the Syne Tune side")
    r.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    r.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="methods to run on both sides (default: all)")
    p = sub.add_parser("report")
    p.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    args = parser.parse_args(argv)
    if args.mode == "run":
        run(args)
    else:
        print(report(args.results_dir, args.methods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
