"""A stand-in run function for runner tests that must not depend on the simulator's numbers.

It produces a results table with the documented columns, deterministic in the run's seed.
Method argument ``crash=True`` raises, ``sleep=<s>`` waits (to kill runs mid-way),
``log=<path>`` appends ``<run name> <pid>`` to a file (to count how often each run is computed).
"""
from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd


def fake_run(run) -> tuple[pd.DataFrame, dict]:
    args = dict(run.method_args)
    if args.get("crash"):
        raise RuntimeError(f"method {run.method} crashed on purpose (seed {run.seed})")
    if args.get("log"):
        fd = os.open(args["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{run.name} {os.getpid()}\n".encode())
        os.close(fd)
    if args.get("sleep"):
        time.sleep(float(args["sleep"]))
    rng = np.random.default_rng([run.seed, len(run.method), len(run.benchmark)])
    n_trials = int(run.stop.get("max_trials", 8))
    rows = []
    t = 0.0
    for trial in range(n_trials):
        x = float(rng.uniform())
        for fid in (1, 2, 3):
            t += float(rng.uniform(1, 3))
            err = (x - 0.3) ** 2 + 0.3 / fid + float(rng.normal(0, 0.01))
            rows.append({"trial_id": trial, "x": x, "fidelity": fid, "valid_error": err,
                         "elapsed_time": fid * 2.0, "time": t, "worker": trial % run.n_workers,
                         "decision": "complete" if fid == 3 else "continue", "blackbox_seed": 0,
                         "decision_time": 1e-5})
    df = pd.DataFrame(rows)
    meta = {"simulation": {"seed": run.seed, "n_trials": n_trials}, "metric": "valid_error", "mode": "min",
            "benchmark_info": {"metric": "valid_error", "mode": "min", "optimum": 0.05, "worst": 0.8,
                               "fidelity_name": "epoch", "max_fidelity": 3},
            "blackbox_cache_hit": False}
    return df, meta


def fake_study_dict(name: str = "fake", seeds=3, methods=None, max_trials: int = 6) -> dict:
    return {
        "name": name,
        "seeds": seeds,
        "methods": methods or {"A": {"method": "RandomSearch"}, "B": {"method": "RandomSearch"}},
        "benchmarks": {"b1": {"blackbox": "toy/t1", "max_trials": max_trials, "n_workers": 2},
                       "b2": {"blackbox": "toy/t2", "max_trials": max_trials, "n_workers": 2}},
    }


def make_toy_blackbox(task: str, n_configs: int = 48, n_fid: int = 9, seed: int = 0):
    """A small tabular blackbox with learning curves: valid_error decreases with epochs, at a
    config-dependent rate; elapsed_time is cumulative."""
    from blackbox_repo.blackbox import TabularBlackbox

    rng = np.random.default_rng([seed, sum(map(ord, task))])
    lr = np.round(np.geomspace(1e-3, 1.0, n_configs // 3), 6)
    width = [16, 32, 64]
    hp = pd.DataFrame([(a, w) for a in lr for w in width], columns=["lr", "width"])
    n = len(hp)
    epochs = np.arange(1, n_fid + 1)
    quality = np.abs(np.log10(hp["lr"].to_numpy()) + 1.5) / 1.5 + rng.uniform(0, 0.3, n)
    obj = np.zeros((n, 2, n_fid, 2), np.float32)
    for s in range(2):
        noise = rng.normal(0, 0.01, (n, n_fid))
        err = 0.05 + 0.4 * quality[:, None] / 2 + 0.5 / epochs[None, :] ** (0.5 + rng.uniform(0, 1, (n, 1)))
        obj[:, s, :, 0] = np.clip(err + noise, 0, 1)
        per_epoch = (hp["width"].to_numpy() / 16.0)[:, None] * rng.uniform(0.8, 1.2, (n, 1))
        obj[:, s, :, 1] = np.cumsum(np.repeat(per_epoch, n_fid, axis=1), axis=1)
    return TabularBlackbox(hp, obj, fidelity_values=epochs, objectives_names=["valid_error", "elapsed_time"],
                           metric_elapsed_time="elapsed_time", metric="valid_error", mode="min")
