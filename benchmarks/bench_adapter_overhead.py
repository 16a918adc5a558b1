"""The adapters' overhead per decision against the wrapped library running alone (issue 13, requirement 5).

Each arm runs the same optimizer on the same table (``mlp-sklearn/digits``: 500 rows x 3 seeds x 27
epochs, metric ``valid_error``), the same number of trials, one worker (so that both sides see the
same sequence of calls: ask, reports, tell), side by side in one process, alternating, ``--reps`` times:

- **Optuna alone**: ``study.optimize(objective, n_trials=N)`` with the sampler (TPE, random,
  NSGA-II) and, for the pruned arms, the pruner. The objective asks for the parameters with
  ``trial.suggest_float/int/categorical`` (the same distributions the adapter uses), maps them to a
  row (the equal or nearest unused one, ``CandidateMatcher``, as the adapter does) and reads the
  row's curve at table seed 0: without a pruner it returns the value at the last epoch, with one it
  reports every epoch (``trial.report`` + ``trial.should_prune``, raising ``TrialPruned``).
- **Syne Tune alone**: the Tuner's calls made by a plain loop on the same table: ``suggest``,
  ``on_trial_add``, ``on_trial_result`` per epoch until the answer is not ``CONTINUE``
  (then ``on_trial_remove``), else ``on_trial_complete``; schedulers ``ASHA``, ``RandomSearch``, ``BOHB``.
- **through the adapter**: ``simulate(bb, make_scheduler("optuna"|"synetune", bb, ...), n_workers=1,
  stop=Stop(max_trials=N), blackbox_seed=0)``: the simulator, the adapter and the library.

A *decision* is one call that asks the optimizer something: a new configuration (one per trial) or a
verdict on a report (each ``trial.report``/``on_trial_result``; without a pruner Optuna sees one value
per trial, its ``tell``). Per arm: wall seconds per decision of the library alone **with the table
lookups taken out** (time inside the objective's lookup is measured and subtracted), and of the whole
simulated run (simulator + adapter + library, nothing taken out); the overhead is their difference
(absolute, and in % of the library alone). ``--profile`` adds a cProfile of one adapter run per arm,
its time grouped by where it goes (the library, the adapter, the simulator, numpy/pandas).

Run from the source tree (``PYTHONPATH=.``: the hposim code of this checkout). Example::

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/bench_adapter_overhead.py --reps 5 --profile
    .venv/bin/python benchmarks/bench_adapter_overhead.py --reps 1 --arms optuna-random --trials 50
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import command_line, machine, save_results  # noqa: E402


@dataclass(frozen=True)
class Arm:
    """One optimizer: its library, how the adapter is built and how it runs alone."""

    name: str
    library: str            # "optuna" or "synetune"
    optimizer: str          # sampler or Syne Tune scheduler name
    pruner: str | None = None
    trials: int = 300


ARMS = {a.name: a for a in (
    Arm("optuna-random", "optuna", "RandomSampler"),
    Arm("optuna-tpe", "optuna", "TPESampler", trials=200),
    Arm("optuna-nsga2", "optuna", "NSGAIISampler"),
    Arm("optuna-random+sha", "optuna", "RandomSampler", "SuccessiveHalvingPruner"),
    Arm("optuna-tpe+median", "optuna", "TPESampler", "MedianPruner", trials=200),
    Arm("st-random", "synetune", "RandomSearch"),
    Arm("st-asha", "synetune", "ASHA"),
    Arm("st-bohb", "synetune", "BOHB", trials=200),
)}


class Table:
    """The table's curves at seed 0, and a row matcher like the adapter's (fresh per run)."""

    def __init__(self, bb: Any):
        self.bb = bb
        self.configs = bb.configs()
        mi = bb.objectives_names.index(bb.metric)
        self.curves = np.asarray(bb.objectives)[:, 0, :, mi].astype(float)
        self.fidelities = [int(f) for f in bb.fidelity_values]
        self.lookup_seconds = 0.0

    def matcher(self) -> Any:
        from methods.adapters.candidates import CandidateMatcher
        return CandidateMatcher(self.bb.configuration_space, self.configs)

    def row(self, matcher: Any, config: dict) -> int:
        chosen = matcher.take(config)
        return next(i for i in matcher._rows[matcher._key(chosen)] if matcher.candidates[i] is chosen)


# ---------------------------------------------------------------------- the libraries alone
def optuna_alone(arm: Arm, table: Table, seed: int) -> dict:
    import optuna
    from methods.adapters.optuna_adapter import optuna_distributions

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists, _ = optuna_distributions(table.bb.configuration_space)
    space = table.bb.configuration_space
    ordinals = {n: d.values for n, d in space.items() if type(d).__name__ == "Ordinal"}
    sampler = getattr(optuna.samplers, arm.optimizer)(seed=seed)
    pruner = getattr(optuna.pruners, arm.pruner)() if arm.pruner else optuna.pruners.NopPruner()
    study = optuna.create_study(sampler=sampler, pruner=pruner, direction="minimize",
                                study_name=f"hposim-seed{seed}")
    matcher = table.matcher()
    counts = {"reports": 0}

    def objective(trial: Any) -> float:
        params = {}
        for name, d in dists.items():
            if isinstance(d, optuna.distributions.FloatDistribution):
                params[name] = trial.suggest_float(name, d.low, d.high, log=d.log)
            elif isinstance(d, optuna.distributions.IntDistribution):
                params[name] = trial.suggest_int(name, d.low, d.high, log=d.log)
            else:
                params[name] = trial.suggest_categorical(name, d.choices)
        t0 = time.perf_counter()
        config = {n: (ordinals[n][params[n]] if n in ordinals else params[n]) for n in space.names}
        curve = table.curves[table.row(matcher, config)]
        table.lookup_seconds += time.perf_counter() - t0
        if arm.pruner is None:
            return float(curve[-1])
        for step, value in zip(table.fidelities, curve):
            trial.report(float(value), step)
            counts["reports"] += 1
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(curve[-1])

    table.lookup_seconds = 0.0
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=arm.trials)
    wall = time.perf_counter() - t0
    decisions = arm.trials + (counts["reports"] if arm.pruner else arm.trials)
    return {"wall": wall, "lookup": table.lookup_seconds, "decisions": decisions, "trials": arm.trials}


def synetune_alone(arm: Arm, table: Table, seed: int) -> dict:
    import logging

    from syne_tune.backend.trial_status import Trial as STTrial
    from syne_tune.optimizer import baselines

    from methods.adapters.synetune_adapter import synetune_space

    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    cls = getattr(baselines, arm.optimizer)
    kw: dict = {"config_space": synetune_space(table.bb.configuration_space), "do_minimize": True,
                "random_seed": seed}
    if arm.optimizer == "RandomSearch":
        kw["metrics"] = ["valid_error"]
    else:
        kw["metric"] = "valid_error"
    if arm.optimizer in ("ASHA", "BOHB"):
        kw.update(time_attr="epoch", max_t=table.fidelities[-1], grace_period=1, reduction_factor=3)
    np.random.seed(seed)
    sched = cls(**kw)
    matcher = table.matcher()
    names = table.bb.configuration_space.names
    ranges = [(n, d.lower, d.upper) for n, d in table.bb.configuration_space.items() if hasattr(d, "lower")]
    reports = 0
    table.lookup_seconds = 0.0
    t0 = time.perf_counter()
    for tid in range(arm.trials):
        s = sched.suggest()
        config = {n: (v.item() if isinstance(v, np.generic) else v) for n, v in s.config.items() if n in names}
        for n, low, high in ranges:    # as the adapter does: BOHB can propose n_units=1 for [8, 64]
            config[n] = type(config[n])(min(max(config[n], low), high))
        t1 = time.perf_counter()
        curve = table.curves[table.row(matcher, config)]
        table.lookup_seconds += time.perf_counter() - t1
        trial = STTrial(trial_id=tid, config=dict(config), creation_time=None)
        sched.on_trial_add(trial)
        result = None
        for epoch, value in zip(table.fidelities, curve):
            result = {"valid_error": float(value), "epoch": epoch}
            reports += 1
            answer = sched.on_trial_result(trial, result)
            if answer != "CONTINUE":
                sched.on_trial_remove(trial)
                break
        else:
            sched.on_trial_complete(trial, result)
    wall = time.perf_counter() - t0
    return {"wall": wall, "lookup": table.lookup_seconds, "decisions": arm.trials + reports, "trials": arm.trials}


# ---------------------------------------------------------------------- through the adapter
def adapter_run(arm: Arm, table: Table, seed: int, profile: cProfile.Profile | None = None) -> dict:
    import optuna

    from simulator import Stop, make_scheduler, simulate

    bb = table.bb
    if arm.library == "optuna":
        sampler = getattr(optuna.samplers, arm.optimizer)(seed=seed)
        pruner = getattr(optuna.pruners, arm.pruner)() if arm.pruner else None
        args: dict = {"sampler": sampler, "pruner": pruner}
    else:
        args = {"scheduler": arm.optimizer}
        if arm.optimizer in ("ASHA", "BOHB"):
            args.update(grace_period=1, reduction_factor=3)

    def make() -> Any:
        return make_scheduler(arm.library, bb, seed=seed, **args)

    if profile is not None:
        profile.enable()
    t0 = time.perf_counter()
    sched = make()
    res = simulate(bb, sched, n_workers=1, stop=Stop(max_trials=arm.trials), seed=seed, blackbox_seed=0)
    wall = time.perf_counter() - t0
    if profile is not None:
        profile.disable()
    observed = len(res.results) if sched.report_levels() is None else res.results["trial_id"].nunique()
    trials = int(res.results["trial_id"].nunique())
    return {"wall": wall, "decisions": trials + int(observed), "trials": trials,
            "scheduler_seconds": float(res.metadata["suggest_seconds"] + res.metadata["report_seconds"])}


GROUPS = (("optuna", "Optuna"), ("syne_tune", "Syne Tune"), ("methods/adapters", "the adapter"),
          ("simulator", "the simulator"), ("numpy", "numpy"), ("pandas", "pandas"), ("scipy", "scipy"))


def grouped_profile(profile: cProfile.Profile) -> dict[str, float]:
    """Own (tottime) seconds grouped by where the code lives."""
    stats = pstats.Stats(profile)
    out: dict[str, float] = {}
    for (path, _, _), (_, _, tottime, _, _) in stats.stats.items():   # type: ignore[attr-defined]
        group = next((label for key, label in GROUPS if key in path.replace("\\", "/")), "other (Python, builtins)")
        out[group] = out.get(group, 0.0) + tottime
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


_ENTRY = ("suggest", "on_start", "on_report", "on_end", "on_discard")
#: (label, path fragment, function names, only when called from: a path fragment, or (path fragment,
#: function names), or None)
_PARTS = {
    "optuna": (
        ("library: study.ask", "optuna/study/study.py", ("ask",), "optuna_adapter.py"),
        ("library: trial.report + should_prune", "optuna/trial/_trial.py", ("report", "should_prune"),
         "optuna_adapter.py"),
        ("library: tell", "optuna/study/_tell.py", ("_tell_with_warning",), "optuna_adapter.py"),
        ("library: set_user_attr", "optuna/trial/_trial.py", ("set_user_attr",), "optuna_adapter.py"),
        ("adapter: proposal -> row (CandidateMatcher.take)", "methods/adapters/candidates.py", ("take",), None),
        ("adapter: the row's values into the study (_set_params)", "optuna_adapter.py", ("_set_params",), None),
    ),
    "synetune": (
        ("library: the scheduler's calls", "synetune_adapter.py", ("_call",), ("synetune_adapter.py", _ENTRY)),
        ("adapter: proposal -> row (CandidateMatcher.take)", "methods/adapters/candidates.py", ("take",), None),
    ),
}


def breakdown(profile: cProfile.Profile, library: str) -> dict[str, float]:
    """Cumulative seconds: the whole run, the scheduler calls (the adapter's protocol methods), the
    library's calls from the adapter and the adapter's own work inside them; the rest is the simulator's."""
    stats = pstats.Stats(profile).stats      # type: ignore[attr-defined]
    adapter_file = "optuna_adapter.py" if library == "optuna" else "synetune_adapter.py"

    def cum(path_part: str, names: tuple, caller_part: str | None) -> float:
        total = 0.0
        for (path, _, fn), (_, _, _, ct, callers) in stats.items():
            if path_part in path.replace("\\", "/") and fn in names:
                if caller_part is None:
                    total += ct
                else:
                    where, fns = caller_part if isinstance(caller_part, tuple) else (caller_part, None)
                    total += sum(c[3] for (cp, _, cf), c in callers.items()
                                 if where in cp and (fns is None or cf in fns))
        return total

    out = {"run (make_scheduler + simulate)": cum("simulator/simulate.py", ("simulate", "make_scheduler"), None),
           "in scheduler calls": cum(adapter_file, _ENTRY, ("simulator/simulate.py", ("_run",)))}
    for label, path_part, names, caller in _PARTS[library]:
        out[label] = cum(path_part, names, caller)
    if library == "synetune":      # _call seeds numpy's generator (not seen by cProfile), then calls Syne Tune
        import timeit
        n_calls = sum(v[1] for (path, _, fn), v in stats.items() if fn == "_call" and adapter_file in path)
        per_seed = min(timeit.repeat("seed(12345)", globals={"seed": np.random.seed}, number=2000, repeat=3)) / 2000
        out["adapter: seeding numpy's global generator"] = n_calls * per_seed
        out["library: the scheduler's calls"] -= out["adapter: seeding numpy's global generator"]
    lib = sum(v for k, v in out.items() if k.startswith("library"))
    own = sum(v for k, v in out.items() if k.startswith("adapter"))
    out["adapter: the rest (translation, bookkeeping)"] = out["in scheduler calls"] - lib - own
    out["simulator and make_scheduler (outside scheduler calls)"] = \
        out["run (make_scheduler + simulate)"] - out["in scheduler calls"]
    return out


def top_functions(profile: cProfile.Profile, n: int = 12) -> list[str]:
    stats = pstats.Stats(profile)
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:n]   # type: ignore[attr-defined]
    return [f"{tt * 1e3:8.1f} ms {calls:>8} calls  {Path(path).name}:{line} {fn}"
            for (path, line, fn), (calls, _, tt, _, _) in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per arm and side (default 5)")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--trials", type=int, default=None, help="trials per run (default: per arm, 200-300)")
    parser.add_argument("--profile", action="store_true", help="profile one adapter run per arm")
    args = parser.parse_args(argv)
    from blackbox_repo import load_blackbox

    table = Table(load_blackbox("mlp-sklearn", "digits"))
    record: dict = {"command": command_line(), "machine": machine(), "arms": {}}
    lines = ["| arm | trials | decisions | alone µs/decision | through the adapter µs/decision | in scheduler calls "
             "µs/decision | overhead µs/decision | overhead % |", "|---|---|---|---|---|---|---|---|"]
    for name in args.arms:
        arm = ARMS[name]
        if args.trials:
            arm = Arm(arm.name, arm.library, arm.optimizer, arm.pruner, args.trials)
        alone_fn = optuna_alone if arm.library == "optuna" else synetune_alone
        runs: dict[str, list] = {"alone": [], "adapter": []}
        for rep in range(args.reps):
            order = (("alone", "adapter") if rep % 2 == 0 else ("adapter", "alone"))
            for side in order:
                runs[side].append(alone_fn(arm, table, rep) if side == "alone" else adapter_run(arm, table, rep))
        alone = [1e6 * (r["wall"] - r["lookup"]) / r["decisions"] for r in runs["alone"]]
        through = [1e6 * r["wall"] / r["decisions"] for r in runs["adapter"]]
        in_sched = [1e6 * r["scheduler_seconds"] / r["decisions"] for r in runs["adapter"]]
        a, t, s = float(np.median(alone)), float(np.median(through)), float(np.median(in_sched))
        entry = {"runs": runs, "alone_us": alone, "adapter_us": through, "in_scheduler_us": in_sched,
                 "median_alone_us": a, "median_adapter_us": t, "median_in_scheduler_us": s,
                 "overhead_us": t - a, "overhead_pct": 100 * (t - a) / a}
        decisions = int(np.median([r["decisions"] for r in runs["adapter"]]))
        lines.append(f"| {name} | {arm.trials} | {decisions} | {a:.0f} ({min(alone):.0f}-{max(alone):.0f}) | "
                     f"{t:.0f} ({min(through):.0f}-{max(through):.0f}) | {s:.0f} | {t - a:+.0f} | "
                     f"{100 * (t - a) / a:+.0f}% |")
        if args.profile:
            prof = cProfile.Profile()
            adapter_run(arm, table, 0, prof)
            entry["profile_groups"] = grouped_profile(prof)
            entry["profile_breakdown"] = parts = breakdown(prof, arm.library)
            run = parts["run (make_scheduler + simulate)"]
            print(f"\n{name}: where one adapter run's time goes (cProfile, cumulative, {run:.2f} s): " + "; ".join(
                f"{k} {100 * v / run:.0f}%" for k, v in parts.items() if not k.startswith("run")))
            entry["profile_top"] = top_functions(prof)
            total = sum(entry["profile_groups"].values())
            print(f"\n{name}: profile of one adapter run ({total:.2f} s under cProfile): " + ", ".join(
                f"{g} {100 * v / total:.0f}%" for g, v in entry["profile_groups"].items()))
            print("\n".join("    " + r for r in entry["profile_top"]))
        record["arms"][name] = entry
        print(lines[-1], flush=True)
    print("\n" + "\n".join(lines))
    print(f"\nrecords: {save_results('adapter_overhead', record)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
