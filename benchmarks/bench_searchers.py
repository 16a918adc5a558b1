"""Model-based searchers: cost per suggestion, and hposim vs Syne Tune 0.13 per experiment (issue 9).

``micro``       hposim only: the cost of a suggestion as a user meets it, for
                ``BayesianOptimization`` (``methods.bayesopt.GPSearcher``), ``TPE``, ``REA`` and
                ``RandomSearch`` bound to an 8-hyperparameter mixed space (5 floats, 2 of them
                log-scaled, 1 integer, 2 categoricals) and fed 500 observations of a synthetic
                function one at a time through the scheduler protocol, with 0 and with 4 trials
                running at each suggestion. Figures: the mean cost of the suggestions made with
                450..499 observations INCLUDING the hyperparameter refits that fall in that window
                (targets: GP <= 50 ms, TPE <= 5 ms, REA <= 0.2 ms), the mean without the cycles
                that refit, one refit near n = 500 (in the schedule, and a fresh fit at exactly
                500, cold and warm), the refit schedule, and the amortized cost over the whole
                0..500 run. One fresh process per method and repeat (``hposim_searchers_side.py
                micro``), methods alternating.
``experiment``  side by side on the NAS-Bench-201-shaped table (``nb201_table.py``), 4 workers,
                21,600 simulated seconds, metric ``valid_error``, seeds 0..N-1: hposim
                ``BayesianOptimization``, ``TPE``, ``REA``, ``RandomSearch``
                (``hposim_searchers_side.py simulate``: ``make_scheduler`` + ``simulate``; the
                table's 15,625 rows are the methods' ``candidates``) against Syne Tune 0.13's
                ``BayesianOptimization``, ``KDE``, ``REA``, ``RandomSearch`` (``st_searchers_side.py``
                in ``benchmarks/.venv-syne-tune-013``, default delays; its searchers sample the
                whole 6-edge ``choice`` space, whose 15,625 configurations are exactly the table's
                rows). Each side runs ``--per-process`` seeds in its own fresh process, the sides
                alternate (and swap order every chunk). Per method pair: wall seconds per
                experiment (median [min..max]), the speed ratio (target >= 20x), mean final best
                +- standard error per side, the paired difference per seed and one-sided paired
                tests that hposim is worse (Wilcoxon signed-rank; with <= 10 seeds also a sign
                test); "no worse" means neither shows hposim worse at p < 0.05.

hposim runs from the work tree as it is (the searchers may be uncommitted): every JSON records
the SHA-256 of the method files before and after the run and flags a change mid-run.
``--blas-threads N`` sets ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` for
both sides' processes (default: unset, as a user runs them); a diagnostic, not the headline.

Example::

    .venv/bin/python benchmarks/bench_searchers.py micro --repeats 3
    .venv/bin/python benchmarks/bench_searchers.py experiment --n-seeds 10
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (BENCH_DIR, MAIN_PYTHON, ROOT, BenchmarkError, command_line,  # noqa: E402
                          machine, median, save_results, spread)

MICRO_METHODS = ("BayesianOptimization", "TPE", "REA", "RandomSearch")
#: hposim method -> Syne Tune 0.13 baseline
PAIRS = (("BayesianOptimization", "BayesianOptimization"), ("TPE", "KDE"), ("REA", "REA"),
         ("RandomSearch", "RandomSearch"))
#: per-suggestion budgets of the issue, seconds (window 450..499 observations, refits included)
TARGETS = {"BayesianOptimization": 0.050, "TPE": 0.005, "REA": 0.0002}
SPEED_TARGET = 20.0
METHOD_FILES = ("methods/bayesopt.py", "methods/gp.py", "methods/tpe.py", "methods/rea.py",
                "methods/searcher.py", "methods/history.py", "methods/fifo.py", "methods/sampling.py",
                "blackbox_repo/configspace.py", "simulator/simulate.py")


def code_state() -> dict:
    """git HEAD, the status of the method files, and their SHA-256 (the tree is run as is)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    status = subprocess.run(["git", "status", "--short", "--", *METHOD_FILES], cwd=ROOT, capture_output=True,
                            text=True).stdout.splitlines()
    hashes = {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:16] for f in METHOD_FILES
              if (ROOT / f).exists()}
    return {"head": head, "status": status, "sha256": hashes}


def child_env(blas_threads: int | None) -> dict:
    env = dict(os.environ)
    if blas_threads:
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = str(blas_threads)
    return env


def run_records(cmd: list, env: dict) -> list[dict]:
    """Run a side script printing one JSON record per run; each record gains the load average
    before and after the process."""
    before = [round(x, 2) for x in os.getloadavg()]
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=str(BENCH_DIR), env=env)
    after = [round(x, 2) for x in os.getloadavg()]
    recs = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not recs:
        raise BenchmarkError(f"command failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
                             f"stderr tail:\n{proc.stderr[-2000:]}")
    for i, r in enumerate(recs):
        r.setdefault("cold", i == 0)
        r["process_loadavg"] = {"before": before, "after": after}
    return recs


# ---------------------------------------------------------------------------------- micro
@dataclass
class MicroSummary:
    """Per (method, pending) figures of one micro run, in seconds (``summarize_micro``).

    Example:
        >>> rec = {"method": "REA", "pending": 0, "seed": 0, "obs_at_suggestion": [0, 1, 2],
        ...        "suggest_seconds": [1e-5, 2e-5, 3e-5], "bookkeeping_seconds": [0.0, 0.0, 1e-5],
        ...        "gp_calls": [], "best": 0.5, "run_seconds": 0.1,
        ...        "loadavg_before": [0.0], "loadavg_after": [0.0]}
        >>> s = summarize_micro(rec, 1, 3)
        >>> round(s.window_cycle * 1e6), s.window_refits
        (30, 0)
    """

    method: str
    pending: int
    seed: int
    window_suggest: float        # mean suggest() over the window, refits included
    window_cycle: float          # mean suggest + on_start + on_report + on_end over the window
    window_no_refit: float       # mean cycle over the window's cycles without a GP fit
    window_refits: int           # GP hyperparameter fits inside the window
    window_refit_seconds: list   # their seconds
    window_refit_n: list         # their numbers of observations
    amortized_cycle: float       # mean cycle over the whole run
    amortized_suggest: float
    refit_n: list                # the refit schedule (observations at each hyperparameter fit)
    refit_seconds_total: float
    add_mean: float              # mean seconds of an incremental add (GP)
    fresh_fit_cold: float        # median seconds of a fresh fit at n = 500 (GP)
    fresh_fit_warm: float
    best: float
    run_seconds: float
    loadavg: list


def summarize_micro(rec: dict, lo: int, hi: int) -> MicroSummary:
    obs = np.asarray(rec["obs_at_suggestion"])
    sug = np.asarray(rec["suggest_seconds"])
    cyc = sug + np.asarray(rec["bookkeeping_seconds"])
    win = (obs >= lo) & (obs < hi)
    fits = [c for c in rec["gp_calls"] if c["kind"] == "fit"]
    refit_cycles = {c["cycle"] for c in fits}
    win_idx = np.flatnonzero(win)
    no_refit = [cyc[i] for i in win_idx if int(i) not in refit_cycles]
    in_win = [c for c in fits if c["refit"] and lo <= obs[c["cycle"]] < hi]
    adds = [c["seconds"] for c in rec["gp_calls"] if c["kind"] == "add"]
    fresh = rec.get("fresh_fit_at_end") or {}
    return MicroSummary(
        method=rec["method"], pending=rec["pending"], seed=rec["seed"],
        window_suggest=float(sug[win].mean()), window_cycle=float(cyc[win].mean()),
        window_no_refit=float(np.mean(no_refit)) if no_refit else float("nan"),
        window_refits=len(in_win), window_refit_seconds=[c["seconds"] for c in in_win],
        window_refit_n=[c["n"] for c in in_win],
        amortized_cycle=float(cyc.mean()), amortized_suggest=float(sug.mean()),
        refit_n=[c["n"] for c in fits if c["refit"]],
        refit_seconds_total=float(sum(c["seconds"] for c in fits)),
        add_mean=float(np.mean(adds)) if adds else float("nan"),
        fresh_fit_cold=median(fresh["cold_seconds"]) if fresh else float("nan"),
        fresh_fit_warm=median(fresh["warm_seconds"]) if fresh else float("nan"),
        best=float(rec["best"]), run_seconds=float(rec["run_seconds"]),
        loadavg=[rec["loadavg_before"], rec["loadavg_after"]])


def ms(values) -> str:
    v = [1e3 * x for x in values if not math.isnan(x)]
    return spread(v) if v else "n/a"


def micro(args) -> dict:
    env = child_env(args.blas_threads)
    lo, hi = args.n_obs - 50, args.n_obs
    raw: list[dict] = []
    for r in range(args.repeats):
        for method in args.methods:
            cmd = [MAIN_PYTHON, "hposim_searchers_side.py", "micro", "--method", method, "--seed", r,
                   "--n-obs", args.n_obs, "--pending", *args.pending]
            recs = run_records(cmd, env)
            raw += recs
            for x in recs:
                s = summarize_micro(x, lo, hi)
                print(f"repeat {r + 1}/{args.repeats} {method} pending={s.pending}: window "
                      f"{1e3 * s.window_cycle:.3f} ms/suggestion ({s.window_refits} refits), run "
                      f"{s.run_seconds:.1f} s, load {s.loadavg[0][0]}->{s.loadavg[1][0]}", flush=True)
    summaries = [summarize_micro(x, lo, hi) for x in raw]
    print(f"\n{args.n_obs} observations, 8 hyperparameters; medians [min..max] over {args.repeats} "
          f"repeats (seeds); ms per suggestion")
    print(f"| method | pending | window {lo}..{hi - 1} obs, incl. refits | suggest() alone | "
          f"window without refit cycles | refits in window (n: ms) | amortized over 0..{hi} | target | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    table = []
    for method in args.methods:
        for pending in args.pending:
            ss = [s for s in summaries if s.method == method and s.pending == pending]
            win = [s.window_cycle for s in ss]
            target = TARGETS.get(method)
            met = None if target is None else median(win) <= target
            refits = "; ".join(", ".join(f"{n}: {1e3 * t:.0f}" for n, t in zip(s.window_refit_n,
                                                                              s.window_refit_seconds))
                               or "none" for s in ss) if method == "BayesianOptimization" else "no schedule"
            row = {"method": method, "pending": pending, "window_cycle_ms": ms(win),
                   "window_suggest_ms": ms([s.window_suggest for s in ss]),
                   "window_no_refit_ms": ms([s.window_no_refit for s in ss]), "refits": refits,
                   "amortized_ms": ms([s.amortized_cycle for s in ss]),
                   "target_ms": None if target is None else 1e3 * target, "met": met,
                   "median_window_s": median(win)}
            table.append(row)
            print(f"| {method} | {pending} | {row['window_cycle_ms']} | {row['window_suggest_ms']} | "
                  f"{row['window_no_refit_ms']} | {refits} | {row['amortized_ms']} | "
                  f"{'' if target is None else f'<= {1e3 * target:g}'} | "
                  f"{'' if met is None else ('yes' if met else 'NO')} |")
    gp = [s for s in summaries if s.method == "BayesianOptimization"]
    if gp:
        print("\nGP refit schedule (observations at each hyperparameter fit), pending=0: "
              f"{gp[0].refit_n}")
        for pending in args.pending:
            g = [s for s in gp if s.pending == pending]
            print(f"GP pending={pending}: fresh fit at n={args.n_obs} cold {ms([s.fresh_fit_cold for s in g])} "
                  f"ms, warm {ms([s.fresh_fit_warm for s in g])} ms; incremental add "
                  f"{ms([s.add_mean for s in g])} ms; all fits of the run "
                  f"{spread([s.refit_seconds_total for s in g])} s of {spread([s.run_seconds for s in g])} s")
    return {"records": raw, "summaries": [asdict(s) for s in summaries], "table": table,
            "window": [lo, hi]}


# ---------------------------------------------------------------------------------- experiment
def paired(h: np.ndarray, s: np.ndarray) -> dict:
    """Paired comparison of per-seed values (lower is better): differences hposim - Syne Tune,
    one-sided tests of "hposim is worse" (larger)."""
    from scipy.stats import binomtest, wilcoxon

    d = h - s
    nz = d[d != 0]
    p_w = float(wilcoxon(nz, alternative="greater").pvalue) if len(nz) else 1.0
    k = int((d > 0).sum())
    p_sign = float(binomtest(k, len(nz), 0.5, alternative="greater").pvalue) if len(nz) else 1.0

    def se(x):
        return float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")

    return {"hposim_mean": float(h.mean()), "hposim_se": se(h), "syne_tune_mean": float(s.mean()),
            "syne_tune_se": se(s), "diff": d.tolist(), "diff_mean": float(d.mean()), "diff_se": se(d),
            "n_worse": k, "n_better": int((d < 0).sum()), "n_ties": int((d == 0).sum()),
            "wilcoxon_p_hposim_worse": p_w, "sign_p_hposim_worse": p_sign}


def experiment(args) -> dict:
    from nb201_table import DEFAULT_DIR, ensure_exchange
    from syne_tune13_env import ensure as ensure_st13

    st_python = ensure_st13(quiet=True)
    exchange = ensure_exchange(args.table_seed, DEFAULT_DIR)
    hp_dir = DEFAULT_DIR / f"hposim-nb201-synthetic-seed{args.table_seed}"
    env = child_env(args.blas_threads)
    run_records([MAIN_PYTHON, "hposim_side.py", "prepare", "--exchange", exchange, "--folder", hp_dir], env)
    seeds = list(range(args.first_seed, args.first_seed + args.n_seeds))
    chunks = [seeds[i:i + args.per_process] for i in range(0, len(seeds), args.per_process)]
    pairs = [p for p in PAIRS if p[0] in args.methods]
    recs = {hp: {"hposim": [], "syne_tune": []} for hp, _ in pairs}
    for c, chunk in enumerate(chunks):
        for hp, st in pairs:
            cmds = {"hposim": [MAIN_PYTHON, "hposim_searchers_side.py", "simulate", "--folder", hp_dir,
                               "--method", hp, "--max-time", args.max_time, "--seeds", *chunk],
                    "syne_tune": [st_python, "st_searchers_side.py", "--exchange", exchange, "--method", st,
                                  "--max-time", args.max_time, "--seeds", *chunk]}
            order = ("hposim", "syne_tune") if c % 2 == 0 else ("syne_tune", "hposim")
            for side in order:
                out = run_records(cmds[side], env)
                recs[hp][side] += out
                walls = ", ".join(f"{x['wall_seconds']:.3f}" for x in out)
                print(f"chunk {c + 1}/{len(chunks)} {hp if side == 'hposim' else st} ({side}): {walls} s; "
                      f"load {out[0]['process_loadavg']['before'][0]}->{out[0]['process_loadavg']['after'][0]}",
                      flush=True)
    summary = {}
    for hp, st in pairs:
        summary[hp] = summarize_pair(hp, st, recs[hp])
    return {"records": recs, "summary": summary, "seeds": seeds, "exchange": str(exchange)}


def summarize_pair(hp: str, st: str, recs: dict) -> dict:
    by_seed = {side: {r["seed"]: r for r in recs[side]} for side in recs}
    seeds = sorted(set(by_seed["hposim"]) & set(by_seed["syne_tune"]))
    h_wall = [by_seed["hposim"][s]["wall_seconds"] for s in seeds]
    s_wall = [by_seed["syne_tune"][s]["wall_seconds"] for s in seeds]
    h_warm = [r["wall_seconds"] for r in recs["hposim"] if not r["cold"]] or h_wall
    s_warm = [r["wall_seconds"] for r in recs["syne_tune"] if not r["cold"]] or s_wall
    ratio = median(s_wall) / median(h_wall)
    out = {"pair": [hp, st], "seeds": seeds, "hposim_wall": h_wall, "syne_tune_wall": s_wall,
           "ratio": ratio, "ratio_warm": median(s_warm) / median(h_warm), "speed_met": ratio >= SPEED_TARGET}
    for key in ("best_final", "best"):
        out[key] = paired(np.array([by_seed["hposim"][s][key] for s in seeds], float),
                          np.array([by_seed["syne_tune"][s][key] for s in seeds], float))
    bf = out["best_final"]
    out["no_worse"] = bf["wilcoxon_p_hposim_worse"] >= 0.05 and (len(seeds) > 10 or bf["sign_p_hposim_worse"] >= 0.05)

    def mean_of(side, key):
        return float(np.mean([by_seed[side][s][key] for s in seeds]))

    obs = [max(by_seed["hposim"][s]["observations_at_start"]) for s in seeds]
    print(f"\n### {hp} (hposim) vs {st} (Syne Tune 0.13): {len(seeds)} seeds {seeds[0]}..{seeds[-1]}")
    print("| measure | hposim | Syne Tune 0.13 | |")
    print("|---|---|---|---|")
    print(f"| wall s / experiment, median [min..max] | {spread(h_wall)} | {spread(s_wall)} | "
          f"**{ratio:.1f}x** (target >= {SPEED_TARGET:g}x: {'met' if out['speed_met'] else 'MISSED'}) |")
    print(f"| same, warm (not the first experiment of a process) | {spread(h_warm)} | {spread(s_warm)} | "
          f"{out['ratio_warm']:.1f}x |")
    print(f"| hposim time in suggest() / experiment | "
          f"{spread([by_seed['hposim'][s]['suggest_seconds'] for s in seeds])} | | |")
    print(f"| trials started (mean) | {mean_of('hposim', 'n_trials'):.1f} | {mean_of('syne_tune', 'n_trials'):.1f} | |")
    print(f"| trials reaching epoch 200 in budget (mean) | {mean_of('hposim', 'n_trials_final'):.1f} | "
          f"{mean_of('syne_tune', 'n_trials_final'):.1f} | |")
    print(f"| observations when the last trial was chosen (median) | {median(obs):g} | | |")
    for key, label in (("best_final", "final best (lowest epoch-200 valid_error in budget)"),
                       ("best", "best valid_error at any epoch in budget")):
        p = out[key]
        print(f"| {label}, mean ± SE | {p['hposim_mean']:.5f} ± {p['hposim_se']:.5f} | "
              f"{p['syne_tune_mean']:.5f} ± {p['syne_tune_se']:.5f} | |")
        print(f"| {key}: paired difference hposim - Syne Tune, mean ± SE | "
              f"{p['diff_mean']:+.5f} ± {p['diff_se']:.5f} | worse/better/tied seeds "
              f"{p['n_worse']}/{p['n_better']}/{p['n_ties']} | one-sided p (hposim worse): Wilcoxon "
              f"{p['wilcoxon_p_hposim_worse']:.3g}, sign {p['sign_p_hposim_worse']:.3g} |")
    print(f"| per-seed difference of final best | {', '.join(f'{x:+.4f}' for x in bf['diff'])} | | |")
    print(f"| no worse results (p >= 0.05) | {'yes' if out['no_worse'] else 'NO'} | | |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    mi = sub.add_parser("micro", help="hposim: cost per suggestion at 450..500 observations")
    mi.add_argument("--repeats", type=int, default=3, help="fresh processes (seeds 0..) per method")
    mi.add_argument("--n-obs", type=int, default=500)
    mi.add_argument("--pending", type=int, nargs="+", default=[0, 4])
    mi.add_argument("--methods", nargs="+", choices=MICRO_METHODS, default=list(MICRO_METHODS))
    ex = sub.add_parser("experiment", help="hposim vs Syne Tune 0.13 per experiment, seeds paired")
    ex.add_argument("--n-seeds", type=int, default=10)
    ex.add_argument("--first-seed", type=int, default=0)
    ex.add_argument("--per-process", type=int, default=5, help="experiments per side process")
    ex.add_argument("--max-time", type=float, default=21_600.0)
    ex.add_argument("--table-seed", type=int, default=0)
    ex.add_argument("--methods", nargs="+", choices=[p[0] for p in PAIRS], default=[p[0] for p in PAIRS])
    for p in (mi, ex):
        p.add_argument("--blas-threads", type=int, default=None,
                       help="set OPENBLAS/OMP/MKL_NUM_THREADS in the side processes (default: unset)")
        p.add_argument("--tag", default="", help="suffix of the results file name")
    args = parser.parse_args(argv)
    code_before = code_state()
    mach = machine()
    out = micro(args) if args.what == "micro" else experiment(args)
    code_after = code_state()
    if code_after["sha256"] != code_before["sha256"]:
        print("\nWARNING: method files changed during the run; the figures mix code states", flush=True)
    out.update({"command": command_line(), "machine": mach,
                "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                "code_before": code_before, "code_after": code_after,
                "blas_threads": args.blas_threads})
    name = f"searchers_{args.what}" + (f"_{args.tag}" if args.tag else "")
    print(f"\nraw records: {save_results(name, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
