"""Simulator speed and agreement, hposim vs Syne Tune 0.16 (issue 3, requirement 5).

NAS-Bench-201-shaped synthetic table (``nb201_table.py``), 4 workers, 72,000 simulated seconds,
RandomSearch and ASHA (stopping, grace period 1, reduction factor 3, max 200 epochs).

``speed``      per experiment: wall time of the simulation (hposim: the whole ``simulate()`` call,
               i.e. loop + building the results table; Syne Tune: ``Tuner.run()`` with
               ``UserBlackboxBackend`` + ``SimulatorCallback``, nothing stored or printed, default
               ``SimulatorConfig`` and tuner sleep time), reports/s, peak memory (RSS of the
               process, and its increase over the RSS after opening the table). Every process runs
               ``--per-process`` experiments: the first is "cold" (first call in a fresh process),
               the others "warm"; ratios use the warm medians, the cold ones are reported too.
               ``--scale 10`` repeats it at 10x the budget (both sides).
``rule-control`` hposim's ASHA with Syne Tune's rung rule vs the saved Syne Tune agreement records.
``st-control`` hposim's ASHA with Syne Tune 0.16's behaviours switched on one by one (its rung rule,
               configurations drawn with replacement, the worker time lost to tuner ticks) on the
               seeds of both saved agreement batches, each variant compared with the pooled Syne
               Tune records by a KS test; ``--variants`` picks them (see ``CONTROL_VARIANTS``).
``linearity``  hposim only: wall time per report and per trial at budgets x1, x3, x10.
``agreement``  ``--n-seeds`` seeds per method on both sides (Syne Tune with zero ``SimulatorConfig``
               delays and tuner sleep time ``--sleep-time``); distributions of the final best metric
               (best validation error reported at simulated time <= 72,000 s) compared with a
               two-sample Kolmogorov-Smirnov test; numbers of trials and reports side by side.

Example::

    .venv/bin/python benchmarks/bench_simulator.py speed --repeats 5
    .venv/bin/python benchmarks/bench_simulator.py speed --repeats 3 --scale 10
    .venv/bin/python benchmarks/bench_simulator.py agreement --n-seeds 30 --sleep-time 2
    .venv/bin/python benchmarks/bench_simulator.py linearity --scales 1 3 10
    .venv/bin/python benchmarks/bench_simulator.py st-control
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (BENCH_DIR, MAIN_PYTHON, SIGNAL_DEATHS, BenchmarkError,  # noqa: E402
                          command_line, machine, median, run_json, save_results, spread)
from nb201_table import DEFAULT_DIR, ensure_exchange  # noqa: E402
from syne_tune_env import ensure as ensure_st_env  # noqa: E402

METHODS = ("RandomSearch", "ASHA")


CODE_ENV: dict = {}


def pin_code(ref: str, data: Path) -> str:
    """Export hposim's sources at git ``ref`` into ``data/code-<sha>`` and make the hposim side
    import them from there (``PYTHONPATH``), so uncommitted edits in the work tree cannot change
    the figures mid-run. Returns the commit sha."""
    import os
    import tarfile
    import tempfile

    root = BENCH_DIR.parent
    sha = subprocess.run(["git", "rev-parse", ref], cwd=root, capture_output=True, text=True,
                         check=True).stdout.strip()
    target = data / f"code-{sha[:12]}"
    if not (target / "simulator").is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            tar = Path(tmp) / "src.tar"
            subprocess.run(["git", "archive", "-o", str(tar), sha, "blackbox_repo", "simulator",
                            "methods", "studies"], cwd=root, check=True)
            with tarfile.open(tar) as tf:
                tf.extractall(target)
    CODE_ENV["PYTHONPATH"] = os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])
    return sha


def run_records(cmd: list) -> list[dict]:
    """Run a side script that prints one JSON record per experiment; return all of them."""
    import json
    import os

    env = dict(os.environ)
    if cmd and str(cmd[0]) == str(MAIN_PYTHON):
        env.update(CODE_ENV)
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=str(BENCH_DIR),
                          env=env)
    recs = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 and (proc.returncode > 0 or not recs):
        raise BenchmarkError(f"command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
                             f"stderr tail:\n{proc.stderr[-2000:]}")
    if proc.returncode < 0:
        SIGNAL_DEATHS.append({"cmd": " ".join(map(str, cmd)), "returncode": proc.returncode,
                              "records": len(recs)})
    return recs


class Sides:
    """Command builders for both sides over one table."""

    def __init__(self, data: Path, table_seed: int):
        self.st_python = ensure_st_env(quiet=True)
        self.exchange = ensure_exchange(table_seed, data)
        self.hp_dir = data / f"hposim-nb201-synthetic-seed{table_seed}"
        run_json([MAIN_PYTHON, "hposim_side.py", "prepare", "--exchange", self.exchange,
                  "--folder", self.hp_dir])

    def hposim(self, method: str, seeds: list[int], max_time: float) -> list:
        return [MAIN_PYTHON, "hposim_side.py", "simulate", "--folder", self.hp_dir, "--method", method,
                "--max-time", max_time, "--seeds", *seeds]

    def syne_tune(self, method: str, seeds: list[int], max_time: float, *, zero: bool = False,
                  sleep_time: float = 1.0) -> list:
        cmd = [self.st_python, "st_simulator_side.py", "--exchange", self.exchange, "--method", method,
               "--max-time", max_time, "--seeds", *seeds]
        if zero:
            cmd += ["--delays", "zero", "--sleep-time", sleep_time]
        return cmd


def speed(args, sides: Sides) -> dict:
    max_time = 72_000.0 * args.scale
    recs: dict = {m: {"hposim": [], "syne_tune": []} for m in METHODS}
    st_per_process = args.st_per_process or args.per_process
    for r in range(args.repeats):
        for method in METHODS:
            seeds = [r + 1000 * i for i in range(args.per_process)]
            hp = run_records(sides.hposim(method, seeds, max_time))
            st = run_records(sides.syne_tune(method, seeds[:st_per_process], max_time))
            for i, rec in enumerate(hp):
                rec["cold"] = i == 0
            for i, rec in enumerate(st):
                rec["cold"] = i == 0
            recs[method]["hposim"] += hp
            recs[method]["syne_tune"] += st
            hp_s = ", ".join(f"{x['wall_seconds']:.3f}" for x in hp)
            st_s = ", ".join(f"{x['wall_seconds']:.2f}" for x in st)
            print(f"repeat {r + 1}/{args.repeats} {method}: hposim {hp_s} s; Syne Tune {st_s} s",
                  flush=True)

    def pick(method, side, key, cold=None):
        return [x[key] for x in recs[method][side] if cold is None or x["cold"] == cold]

    def anon(method, side, increase=False):
        out = []
        for x in recs[method][side]:
            if not x["cold"] or "memory_at_end" not in x:
                continue
            v = x["memory_at_end"].get("RssAnon", float("nan"))
            if increase:
                v -= x["memory_after_table"].get("RssAnon", float("nan"))
            out.append(v)
        return out or [float("nan")]

    summary = []
    print(f"\nbudget {max_time:,.0f} simulated s, 4 workers; medians [min..max] over experiments")
    print("| method | measure | hposim | Syne Tune 0.16 | ratio |")
    print("|---|---|---|---|---|")
    for method in METHODS:
        st_warm = pick(method, "syne_tune", "wall_seconds", cold=False) or \
            pick(method, "syne_tune", "wall_seconds")
        hp_warm = pick(method, "hposim", "wall_seconds", cold=False) or pick(method, "hposim", "wall_seconds")
        hp_cold = pick(method, "hposim", "wall_seconds", cold=True)
        st_cold = pick(method, "syne_tune", "wall_seconds", cold=True)
        hp_loop = pick(method, "hposim", "loop_seconds", cold=False) or pick(method, "hposim", "loop_seconds")
        rows = [
            ("wall s / experiment (warm)", hp_warm, st_warm, median(st_warm) / median(hp_warm)),
            ("wall s / experiment (cold: first in a fresh process)", hp_cold, st_cold,
             median(st_cold) / median(hp_cold)),
            ("hposim event loop only (s)", hp_loop, st_warm, median(st_warm) / median(hp_loop)),
            ("reports / s", pick(method, "hposim", "reports_per_s", cold=False) or
             pick(method, "hposim", "reports_per_s"),
             pick(method, "syne_tune", "reports_per_s"), None),
            ("µs / report", pick(method, "hposim", "us_per_report", cold=False) or
             pick(method, "hposim", "us_per_report"),
             pick(method, "syne_tune", "us_per_report"), None),
            ("reports / experiment", pick(method, "hposim", "n_reports"),
             pick(method, "syne_tune", "n_reports"), None),
            ("trials / experiment", pick(method, "hposim", "n_trials"),
             pick(method, "syne_tune", "n_trials"), None),
            ("peak RSS MiB (process)", pick(method, "hposim", "peak_rss_mb", cold=True),
             pick(method, "syne_tune", "peak_rss_mb", cold=True), None),
            ("peak RSS increase over the opened table, MiB (incl. memory-mapped table pages)",
             [x["peak_rss_mb"] - x["rss_after_table_mb"] for x in recs[method]["hposim"] if x["cold"]],
             [x["peak_rss_mb"] - x["rss_after_table_mb"] for x in recs[method]["syne_tune"] if x["cold"]],
             None),
            ("private (anonymous) memory at end of experiment, MiB", anon(method, "hposim"),
             anon(method, "syne_tune"), None),
            ("private memory increase over the opened table, MiB", anon(method, "hposim", True),
             anon(method, "syne_tune", True), None),
        ]
        for label, h, s, ratio in rows:
            rtxt = f"{ratio:.0f}x" if ratio is not None else ""
            print(f"| {method} | {label} | {spread(h)} | {spread(s)} | {rtxt} |")
            summary.append({"method": method, "measure": label, "hposim_median": median(h),
                            "syne_tune_median": median(s), "ratio": ratio})
    return {"max_time": max_time, "records": recs, "summary": summary}


def agreement(args, sides: Sides) -> dict:
    from scipy.stats import ks_2samp

    seeds = list(range(args.first_seed, args.first_seed + args.n_seeds))
    half = (len(seeds) + 1) // 2
    jobs = {}
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for method in METHODS:
            jobs[(method, "hposim", 0)] = pool.submit(run_records, sides.hposim(method, seeds, 72_000.0))
            for part, chunk in enumerate((seeds[:half], seeds[half:])):
                if chunk:
                    jobs[(method, "syne_tune", part)] = pool.submit(
                        run_records, sides.syne_tune(method, chunk, 72_000.0, zero=True,
                                                     sleep_time=args.sleep_time))
        recs: dict = {m: {"hposim": [], "syne_tune": []} for m in METHODS}
        for (method, side, _), fut in sorted(jobs.items()):
            recs[method][side] += fut.result()
    summary = []
    print(f"\n{args.n_seeds} seeds per method; Syne Tune: zero SimulatorConfig delays, tuner sleep "
          f"time {args.sleep_time} s")
    print("| method | quantity | hposim mean ± sd (median) | Syne Tune mean ± sd (median) |")
    print("|---|---|---|---|")
    for method in METHODS:
        out = {"method": method}
        for key in ("best", "n_trials", "n_reports_in_budget"):
            h = np.array([x[key] for x in recs[method]["hposim"]], dtype=float)
            s = np.array([x[key] for x in recs[method]["syne_tune"]], dtype=float)
            out[key] = {"hposim": h.tolist(), "syne_tune": s.tolist()}
            print(f"| {method} | {key} | {h.mean():.4g} ± {h.std(ddof=1):.2g} ({np.median(h):.4g}) | "
                  f"{s.mean():.4g} ± {s.std(ddof=1):.2g} ({np.median(s):.4g}) |")
        h = np.array(out["best"]["hposim"])
        s = np.array(out["best"]["syne_tune"])
        ks = ks_2samp(h, s)
        out["ks_statistic"], out["ks_pvalue"] = float(ks.statistic), float(ks.pvalue)
        for key in ("n_trials", "n_reports_in_budget"):
            k2 = ks_2samp(out[key]["hposim"], out[key]["syne_tune"])
            out[f"ks_pvalue_{key}"] = float(k2.pvalue)
        summary.append(out)
    print()
    for out in summary:
        print(f"{out['method']}: KS on final best metric D = {out['ks_statistic']:.3f}, "
              f"p = {out['ks_pvalue']:.3g}; KS p on trials {out['ks_pvalue_n_trials']:.3g}, "
              f"on reports {out['ks_pvalue_n_reports_in_budget']:.3g}")
    return {"records": recs, "summary": summary, "sleep_time": args.sleep_time}


def linearity(args, sides: Sides) -> dict:
    """hposim only: cost per report and per trial at several budgets (warm experiments)."""
    out = {}
    print("| method | budget (simulated s) | wall s / experiment | reports | trials | µs / report | "
          "µs / trial | end |")
    print("|---|---|---|---|---|---|---|---|")
    for method in METHODS:
        for scale in args.scales:
            seeds = list(range(args.per_process))
            recs = run_records(sides.hposim(method, seeds, 72_000.0 * scale))[1:]  # drop the cold one
            out[f"{method}@{scale:g}"] = recs
            wall = median([r["wall_seconds"] for r in recs])
            reps = median([r["n_reports"] for r in recs])
            trials = median([r["n_trials"] for r in recs])
            us_rep = median([1e6 * r["wall_seconds"] / r["n_reports"] for r in recs])
            us_tr = median([1e6 * r["wall_seconds"] / r["n_trials"] for r in recs])
            exhausted = sum(r["n_trials"] >= 15_625 for r in recs)
            end = f"table exhausted in {exhausted}/{len(recs)}" if exhausted else "budget"
            print(f"| {method} | {72_000 * scale:,.0f} | {wall:.3f} | {reps:,.0f} | {trials:,.0f} | "
                  f"{us_rep:.2f} | {us_tr:.1f} | {end} |", flush=True)
    return {"records": out, "scales": args.scales}


def rule_control(args, sides: Sides) -> dict:
    """hposim's ASHA with Syne Tune's rung rule, compared with the Syne Tune records of the last
    ``agreement`` run (``results/simulator_agreement.json``), seed for seed the same settings."""
    import json

    from scipy.stats import ks_2samp

    from bench_common import RESULTS_DIR

    saved = json.loads((RESULTS_DIR / "simulator_agreement.json").read_text())
    st = saved["records"]["ASHA"]["syne_tune"]
    native = saved["records"]["ASHA"]["hposim"]
    seeds = [r["seed"] for r in native]
    cmd = sides.hposim("ASHA", seeds, 72_000.0) + ["--st-rank-rule"]
    ruled = run_records(cmd)
    print(f"ASHA, {len(seeds)} seeds; Syne Tune records from {saved['command']}")
    print("| quantity | hposim | hposim with Syne Tune's rung rule | Syne Tune | KS p (native vs ST) | "
          "KS p (rule vs ST) |")
    print("|---|---|---|---|---|---|")
    out = {}
    for key in ("best", "n_trials", "n_reports_in_budget"):
        a = np.array([r[key] for r in native], float)
        b = np.array([r[key] for r in ruled], float)
        c = np.array([r[key] for r in st], float)
        p_a, p_b = ks_2samp(a, c).pvalue, ks_2samp(b, c).pvalue
        out[key] = {"hposim": a.tolist(), "hposim_st_rule": b.tolist(), "syne_tune": c.tolist(),
                    "ks_p_native": float(p_a), "ks_p_rule": float(p_b)}
        print(f"| {key} | {a.mean():.4g} ± {a.std(ddof=1):.2g} | {b.mean():.4g} ± {b.std(ddof=1):.2g} | "
              f"{c.mean():.4g} ± {c.std(ddof=1):.2g} | {p_a:.3g} | {p_b:.3g} |")
    return {"records": ruled, "summary": out}


#: hposim-side controls for the ASHA agreement gap: name -> what is switched on.
#: ``st_rule``: Syne Tune 0.16's rung rule (``asha.py`` ``Bracket.on_result``);
#: ``duplicates``: configurations drawn uniformly *with* replacement from the table rows, as Syne
#: Tune's ``RandomSearcher.suggest`` does (no de-duplication); ``startup``: simulated seconds a
#: worker is busy before each trial trains -- the mean latency of a tuner tick of ``2 * startup``
#: seconds, which Syne Tune adds to every stop/completion before the worker gets its next trial;
#: ``blackbox_seed``: one fixed table seed for every trial (not Syne Tune's behaviour: a scale of
#: how much the seed choice can move the statistic); ``own_stream``: the sampler on the stream
#: ``duplicates`` uses, but without replacement (separates "with replacement" from "other stream").
CONTROL_VARIANTS: dict[str, dict] = {
    "native": {},
    "st-rule": {"st_rule": True},
    "st-rule+stream": {"st_rule": True, "own_stream": True},
    "st-rule+dup": {"st_rule": True, "duplicates": True},
    "st-rule+tick": {"st_rule": True, "startup": 1.0},
    "st-rule+dup+tick": {"st_rule": True, "duplicates": True, "startup": 1.0},
    "st-rule+dup+tick2": {"st_rule": True, "duplicates": True, "startup": 2.0},
    "native+dup+tick": {"duplicates": True, "startup": 1.0},
    "st-rule+seed0": {"st_rule": True, "blackbox_seed": 0},
}


def control_worker(args) -> int:
    """Run hposim's ASHA for one control variant on ``args.seeds``; one JSON line per seed.

    Runs in a child process (so ``--at-commit`` pinning applies through ``PYTHONPATH``).
    With duplicates the sampler gets its own stream, ``default_rng([seed, 1])``: the scheduler's
    stream (``default_rng(seed)``) is bit for bit the simulator's, whose first draws are the
    trials' table seeds, so ``integers(n_rows)`` on it would tie each row to one table seed.
    """
    import json
    import time

    from blackbox_repo.storage import load_tabular
    from hposim_side import use_syne_tune_rank_rule
    from methods.sampling import ConfigSampler
    from simulator import Stop, make_scheduler, simulate
    from simulator.overhead import Overhead

    spec = CONTROL_VARIANTS[args.variant]
    bb = load_tabular(args.folder)
    metric = bb.metric
    for seed in args.seeds:
        sched = make_scheduler("ASHA", bb, seed=seed, type="stopping", grace_period=1,
                               reduction_factor=3, max_fidelity=int(bb.fidelity_values[-1]))
        if spec.get("st_rule"):
            use_syne_tune_rank_rule(sched)
        if spec.get("duplicates") or spec.get("own_stream"):
            sched.sampler = ConfigSampler(sched.config_space, np.random.default_rng([seed, 1]),
                                          sched.candidates,
                                          allow_duplicates=bool(spec.get("duplicates")))
        overhead = Overhead(startup=spec["startup"]) if spec.get("startup") else None
        t0 = time.perf_counter()
        res = simulate(bb, sched, n_workers=4, stop=Stop(max_time=args.max_time), seed=seed,
                       blackbox_seed=spec.get("blackbox_seed"), overhead=overhead)
        wall = time.perf_counter() - t0
        r = res.results
        inb = r[r["time"] <= args.max_time]
        names = list(bb.configuration_space)
        trials = res.trials
        best_row = inb.loc[inb[metric].idxmin()]
        print(json.dumps({
            "side": "hposim", "variant": args.variant, "seed": seed, "wall_seconds": wall,
            "best": float(best_row[metric]), "best_epoch": int(best_row["fidelity"]),
            "n_trials": int(res.metadata["n_trials"]),
            "n_distinct_configs": int(trials[names].drop_duplicates().shape[0]),
            "n_reports_in_budget": int(len(inb)),
            "n_completed": int((trials["status"].astype(str).str.lower() == "completed").sum()),
        }), flush=True)
    return 0


def st_control(args, sides: Sides) -> dict:
    """hposim ASHA control variants vs the pooled Syne Tune ASHA records of both agreement batches."""
    import json

    from scipy.stats import ks_2samp, mannwhitneyu

    from bench_common import RESULTS_DIR

    st, seeds, sources = [], [], []
    for name in ("simulator_agreement.json", "simulator_agreement_from30.json"):
        path = RESULTS_DIR / name
        if not path.exists():
            continue
        saved = json.loads(path.read_text())
        st += saved["records"]["ASHA"]["syne_tune"]
        seeds += [r["seed"] for r in saved["records"]["ASHA"]["hposim"]]
        sources.append(saved["command"])
    if not st:
        raise BenchmarkError(f"no Syne Tune agreement records in {RESULTS_DIR}; run `agreement` first")
    unknown = [v for v in args.variants if v not in CONTROL_VARIANTS]
    if unknown:
        import difflib
        hint = difflib.get_close_matches(unknown[0], list(CONTROL_VARIANTS), n=1)
        raise BenchmarkError(f"unknown control variant {unknown[0]!r}"
                             f"{f' (did you mean {hint[0]!r}?)' if hint else ''}; "
                             f"allowed: {list(CONTROL_VARIANTS)}")
    if args.seeds:
        seeds = list(args.seeds)  # hposim side only: the Syne Tune side stays the saved records
    c = {k: np.array([r[k] for r in st], float) for k in ("best", "n_trials", "n_reports_in_budget")}
    n_st = c["n_trials"]
    # expected distinct rows among n uniform draws with replacement from the table's rows
    n_rows = 15_625
    st_distinct = n_rows * (1 - (1 - 1 / n_rows) ** n_st)
    jobs = {}
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for v in args.variants:
            jobs[v] = pool.submit(run_records, [MAIN_PYTHON, "bench_simulator.py", "control-worker",
                                                "--folder", sides.hp_dir, "--variant", v,
                                                "--max-time", 72_000.0, "--seeds", *seeds])
        recs = {v: fut.result() for v, fut in jobs.items()}
    print(f"ASHA, hposim seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), Syne Tune: {len(st)} records from: "
          + "; ".join(sources))
    print("| variant | final best, mean ± sd (median) | KS p vs ST | MW p vs ST | trials | distinct "
          "configs | reports | KS p trials |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| Syne Tune 0.16 | {c['best'].mean():.5f} ± {c['best'].std(ddof=1):.4f} "
          f"({np.median(c['best']):.4f}) | | | {n_st.mean():,.0f} | ~{st_distinct.mean():,.0f} "
          f"(expected) | {c['n_reports_in_budget'].mean():,.0f} | |")
    summary = {"syne_tune": {k: v.tolist() for k, v in c.items()},
               "syne_tune_expected_distinct": st_distinct.tolist(), "variants": {}}
    for v in args.variants:
        a = {k: np.array([r[k] for r in recs[v]], float)
             for k in ("best", "n_trials", "n_distinct_configs", "n_reports_in_budget")}
        ks = ks_2samp(a["best"], c["best"])
        mw = mannwhitneyu(a["best"], c["best"])
        ks_t = ks_2samp(a["n_trials"], c["n_trials"])
        summary["variants"][v] = {"spec": CONTROL_VARIANTS[v], "ks_p_best": float(ks.pvalue),
                                  "ks_d_best": float(ks.statistic), "mw_p_best": float(mw.pvalue),
                                  "ks_p_trials": float(ks_t.pvalue),
                                  **{k: x.tolist() for k, x in a.items()}}
        print(f"| {v} | {a['best'].mean():.5f} ± {a['best'].std(ddof=1):.4f} ({np.median(a['best']):.4f}) | "
              f"{ks.pvalue:.3g} | {mw.pvalue:.3g} | {a['n_trials'].mean():,.0f} | "
              f"{a['n_distinct_configs'].mean():,.0f} | {a['n_reports_in_budget'].mean():,.0f} | "
              f"{ks_t.pvalue:.3g} |", flush=True)
    return {"records": recs, "summary": summary, "seeds": seeds, "syne_tune_sources": sources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sp = sub.add_parser("speed", help="wall time, reports/s, peak memory, ratios")
    sp.add_argument("--repeats", type=int, default=5, help="fresh processes per side and method")
    sp.add_argument("--per-process", type=int, default=3, help="experiments per hposim process")
    sp.add_argument("--st-per-process", type=int, default=0,
                    help="experiments per Syne Tune process (default: --per-process)")
    sp.add_argument("--scale", type=float, default=1.0, help="budget multiplier (10: linearity)")
    ag = sub.add_parser("agreement", help="KS test of final best metric over seeds")
    ag.add_argument("--n-seeds", type=int, default=30)
    ag.add_argument("--first-seed", type=int, default=0)
    ag.add_argument("--sleep-time", type=float, default=1.0)
    ag.add_argument("--jobs", type=int, default=2, help="side processes run at once")
    li = sub.add_parser("linearity", help="hposim cost per report/trial at several budgets")
    li.add_argument("--scales", type=float, nargs="+", default=[1.0, 3.0, 10.0])
    li.add_argument("--per-process", type=int, default=6, help="experiments per process (1st dropped)")
    rc = sub.add_parser("rule-control", help="hposim ASHA with Syne Tune's rung rule vs the saved "
                        "agreement records")
    sc = sub.add_parser("st-control", help="hposim ASHA with Syne Tune's behaviours switched on, vs the "
                        "pooled agreement records")
    sc.add_argument("--variants", nargs="+", default=list(CONTROL_VARIANTS),
                    help=f"control variants (default: all of {list(CONTROL_VARIANTS)})")
    sc.add_argument("--jobs", type=int, default=1, help="variant processes run at once")
    sc.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="hposim seeds (default: the seeds of the saved agreement records)")
    cw = sub.add_parser("control-worker", help="(internal) one st-control variant, JSON lines")
    cw.add_argument("--folder", type=Path, required=True)
    cw.add_argument("--variant", choices=list(CONTROL_VARIANTS), required=True)
    cw.add_argument("--seeds", type=int, nargs="+", required=True)
    cw.add_argument("--max-time", type=float, default=72_000.0)
    for p in (sp, ag, li, rc, sc):
        p.add_argument("--at-commit", default="HEAD",
                       help="git ref whose hposim sources are benchmarked ('worktree': as is)")
        p.add_argument("--table-seed", type=int, default=0)
        p.add_argument("--data", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    if args.what == "control-worker":
        return control_worker(args)
    sha = pin_code(args.at_commit, args.data) if args.at_commit != "worktree" else "worktree"
    sides = Sides(args.data, args.table_seed)
    if args.what == "speed":
        out = speed(args, sides)
        name = "simulator_speed" if args.scale == 1 else f"simulator_speed_x{args.scale:g}"
    elif args.what == "st-control":
        out = st_control(args, sides)
        name = "simulator_st_control" + ("_seeds" if args.seeds else "")
    elif args.what == "rule-control":
        out = rule_control(args, sides)
        name = "simulator_rule_control"
    elif args.what == "linearity":
        out = linearity(args, sides)
        name = "simulator_linearity"
    else:
        out = agreement(args, sides)
        name = "simulator_agreement" + (f"_from{args.first_seed}" if args.first_seed else "")
    out.update({"command": command_line(), "machine": machine(), "signal_deaths": SIGNAL_DEATHS,
                "hposim_commit": sha})
    print(f"\nraw records: {save_results(name, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
