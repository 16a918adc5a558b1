"""Does Syne Tune 0.16's ASHA, run through ``SyneTuneScheduler``, behave like hposim's ``ASHA``? (issue 13)

Three arms, each simulated by ``simulator.simulate`` with the same seeds (so the k-th trial of a run
draws the same table seed in every arm), 4 workers, a simulated-time budget:

- ``hposim``: ``make_scheduler("ASHA", bb, type="stopping", grace_period=1, reduction_factor=3)``;
- ``hposim+st-rule``: the same with Syne Tune 0.16's rung rule (``hposim_side.use_syne_tune_rank_rule``:
  continue iff (scores strictly better) / (scores recorded, own included) <= 1/rf, instead of
  "score <= the 1/rf quantile"), a control that isolates the rule;
- ``synetune``: ``make_scheduler("synetune", bb, scheduler="ASHA", grace_period=1, reduction_factor=3)``:
  Syne Tune's own ``ASHA`` class (``max_t`` = the largest fidelity), every report passed to it.

Per run: the final best (best metric value reported within the budget, at any fidelity; and at the
largest fidelity only), the number of trials started and the number of reports. Per task and
quantity: mean +- sd, and two-sided two-sample tests over the seeds (Mann-Whitney U and
Kolmogorov-Smirnov, ``scipy.stats``) of ``synetune`` against each hposim arm.

Tasks (offline): ``nb201-synthetic`` (``nb201_table.py``: 15,625 rows x 3 seeds x 200 epochs, budget
72,000 s as in the simulator agreement benchmark) and the embedded ``mlp-sklearn`` tables
(``breast_cancer``, ``digits``: 500 rows x 3 seeds x 27 epochs, budget ``--mlp-budget`` times the
median 27-epoch time of the table: 100-200 trials, fewer than the rows; ``wine`` on request only,
its validation error reaches 0 in every run).

Example::

    .venv/bin/python benchmarks/bench_adapters.py --seeds 40
    .venv/bin/python benchmarks/bench_adapters.py --seeds 3 --tasks mlp-sklearn/wine
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import command_line, machine, save_results  # noqa: E402

ARMS = ("hposim", "hposim+st-rule", "synetune")
QUANTITIES = ("best", "best_at_top", "trials", "reports")
TASKS = ("nb201-synthetic", "mlp-sklearn/breast_cancer", "mlp-sklearn/digits", "mlp-sklearn/wine")
#: the default tasks: wine is left out (its validation error reaches 0 within every budget)
DEFAULT_TASKS = TASKS[:3]


def load_task(task: str, mlp_budget: float, data_dir: Path | None = None):
    """``(blackbox, budget in simulated seconds)``."""
    if task == "nb201-synthetic":
        from hposim_side import tabular_from_exchange
        from nb201_table import DEFAULT_DIR, ensure_exchange
        return tabular_from_exchange(ensure_exchange(0, data_dir or DEFAULT_DIR)), 72_000.0
    from blackbox_repo import load_blackbox
    family, name = task.split("/")
    bb = load_blackbox(family, name)
    j = bb.objectives_names.index(bb.metric_elapsed_time)
    full = np.nanmedian(np.asarray(bb.objectives)[:, :, -1, j])
    return bb, float(mlp_budget * full)


def run_arm(bb, arm: str, seed: int, budget: float) -> dict:
    from hposim_side import use_syne_tune_rank_rule
    from simulator import Stop, make_scheduler, simulate

    if arm == "synetune":
        sched = make_scheduler("synetune", bb, seed=seed, scheduler="ASHA", grace_period=1, reduction_factor=3)
    else:
        sched = make_scheduler("ASHA", bb, seed=seed, type="stopping", grace_period=1, reduction_factor=3)
        if arm == "hposim+st-rule":
            use_syne_tune_rank_rule(sched)
    t0 = time.perf_counter()
    res = simulate(bb, sched, n_workers=4, stop=Stop(max_time=budget), seed=seed)
    wall = time.perf_counter() - t0
    r = res.results
    r = r[r["time"] <= budget]
    sign = 1.0 if bb.mode == "min" else -1.0
    top = r[r["fidelity"] == bb.fidelity_values[-1]][bb.metric]
    best = sign * float((sign * r[bb.metric]).min()) if len(r) else float("nan")
    best_top = sign * float((sign * top).min()) if len(top) else float("nan")
    return {"arm": arm, "seed": seed, "best": best, "best_at_top": best_top,
            "trials": int(r["trial_id"].nunique()), "reports": int(len(r)), "wall_seconds": wall,
            "us_per_report": 1e6 * wall / max(1, len(r))}


def compare(records: list[dict]) -> list[dict]:
    from scipy.stats import ks_2samp, mannwhitneyu

    rows = []
    for q in QUANTITIES:
        values = {a: np.array([r[q] for r in records if r["arm"] == a], dtype=float) for a in ARMS}
        row = {"quantity": q}
        for a in ARMS:
            v = values[a][~np.isnan(values[a])]
            row[a] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, int(len(v)))
        st = values["synetune"][~np.isnan(values["synetune"])]
        for a in ("hposim", "hposim+st-rule"):
            v = values[a][~np.isnan(values[a])]
            if len(v) > 1 and len(st) > 1:
                row[f"mw_p_{a}"] = float(mannwhitneyu(st, v, alternative="two-sided").pvalue)
                row[f"ks_p_{a}"] = float(ks_2samp(st, v).pvalue)
        rows.append(row)
    return rows


def markdown(task: str, rows: list[dict], n_seeds: int, budget: float) -> str:
    def fmt(m: tuple) -> str:
        mean, sd, _ = m
        return f"{mean:.4g} ± {sd:.2g}"

    out = [f"**{task}** ({n_seeds} seeds, budget {budget:,.0f} s, 4 workers)", "",
           "| quantity | hposim ASHA | hposim ASHA + ST rule | SyneTuneScheduler(ASHA) | MW p vs hposim | KS p vs hposim "
           "| MW p vs +ST rule | KS p vs +ST rule |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        out.append(f"| {row['quantity']} | {fmt(row['hposim'])} | {fmt(row['hposim+st-rule'])} | "
                   f"{fmt(row['synetune'])} | {row.get('mw_p_hposim', float('nan')):.3g} | "
                   f"{row.get('ks_p_hposim', float('nan')):.3g} | {row.get('mw_p_hposim+st-rule', float('nan')):.3g} | "
                   f"{row.get('ks_p_hposim+st-rule', float('nan')):.3g} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds 0..N-1 per arm and task (default 40)")
    parser.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS), choices=TASKS)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the NB201-shaped table is generated (default benchmarks/data)")
    parser.add_argument("--mlp-budget", type=float, default=8.0,
                        help="mlp-sklearn budget in median 27-epoch times (default 8)")
    args = parser.parse_args(argv)
    record = {"command": command_line(), "machine": machine(), "tasks": {}}
    for task in args.tasks:
        t0 = time.perf_counter()
        bb, budget = load_task(task, args.mlp_budget, args.data_dir)
        records = [run_arm(bb, arm, seed, budget) for seed in range(args.seeds) for arm in ARMS]
        rows = compare(records)
        walls = {a: float(np.median([r["us_per_report"] for r in records if r["arm"] == a])) for a in ARMS}
        record["tasks"][task] = {"budget": budget, "runs": records, "comparison": rows,
                                 "median_us_per_report": walls}
        print(markdown(task, rows, args.seeds, budget))
        print("\nwall per report (median, µs): " + ", ".join(f"{a} {w:.1f}" for a, w in walls.items())
              + f"; task took {time.perf_counter() - t0:.0f} s\n", flush=True)
    path = save_results("adapters", record)
    print(f"records: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
