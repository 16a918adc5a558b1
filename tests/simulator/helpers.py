"""Hand-built and synthetic tables for the simulator tests (and the timing script)."""
from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
import pandas as pd

from blackbox_repo.blackbox import TabularBlackbox
from methods.base import Decision, Scheduler, Suggestion

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def table(errors: np.ndarray, times: np.ndarray, fidelities: Sequence[Any] | None = None,
          hp: pd.DataFrame | None = None, **kw: Any) -> TabularBlackbox:
    """A blackbox from ``errors`` and cumulative ``times`` shaped (configs, seeds, fidelities)."""
    errors = np.asarray(errors, dtype=np.float32)
    times = np.asarray(times, dtype=np.float32)
    if errors.ndim == 2:
        errors, times = errors[:, None, :], times[:, None, :]
    n, _, f = errors.shape
    obj = np.stack([errors, times], axis=-1)
    if hp is None:
        hp = pd.DataFrame({"x": np.arange(n)})
    return TabularBlackbox(hp, obj, fidelities if fidelities is not None else list(range(1, f + 1)),
                           ["error", "elapsed"], metric_elapsed_time="elapsed", **kw)


def single_fidelity(runtimes: Sequence[float], errors: Sequence[float] | None = None) -> TabularBlackbox:
    rt = np.asarray(runtimes, dtype=float)[:, None]
    err = np.asarray(errors if errors is not None else np.linspace(1, 0, len(rt)), dtype=float)[:, None]
    return table(err, rt, fidelities=[1])


def nb201_like(n_seeds: int = 3, n_epochs: int = 200, ops: int = 6, seed: int = 0,
               nan_fraction: float = 0.0) -> TabularBlackbox:
    """NAS-Bench-201-shaped synthetic table: 5**ops configs x seeds x epochs, per-epoch times
    uniform in 10..60 s, decreasing error curves."""
    rng = np.random.default_rng(seed)
    configs = list(itertools.product(OPS, repeat=ops))
    hp = pd.DataFrame(configs, columns=[f"op{i}" for i in range(ops)])
    n = len(configs)
    per_epoch = rng.uniform(10, 60, size=(n, 1, 1)).astype(np.float32)
    jitter = rng.uniform(0.9, 1.1, size=(n, n_seeds, n_epochs)).astype(np.float32)
    times = np.cumsum(per_epoch * jitter, axis=2, dtype=np.float32)
    final = rng.uniform(0.05, 0.9, size=(n, 1, 1)).astype(np.float32)
    speed = rng.uniform(0.02, 0.2, size=(n, 1, 1)).astype(np.float32)
    ep = np.arange(1, n_epochs + 1, dtype=np.float32)
    err = final + (1 - final) * np.exp(-speed * ep) + rng.normal(0, 0.01, size=(n, n_seeds, n_epochs)).astype(np.float32)
    if nan_fraction:
        mask = rng.random(size=err.shape) < nan_fraction
        err[mask] = np.nan
    return table(err, times, fidelities=list(range(1, n_epochs + 1)), hp=hp,
                 metadata={"name": "nb201-like", "task": "synthetic"})


class Replay(Scheduler):
    """Starts given configurations in order (each with an optional max fidelity), then None.

    ``decide(trial_id, fidelity, metrics) -> Decision`` decides reports (default continue).
    ``levels`` is returned by ``report_levels`` (default: every level).
    """

    def __init__(self, space, *, metric: str = "error", mode: str = "min", fidelity_values=None,
                 plan: Sequence[Any] = (), decide=None, levels=None, sleep=None):
        super().__init__(space, metric=metric, mode=mode, fidelity_values=fidelity_values)
        self.plan = list(plan)
        self.decide = decide
        self.levels = levels
        self.sleep = sleep
        self.calls: list[tuple] = []
        self.ended: list[tuple] = []

    def suggest(self, time: float) -> Suggestion | None:
        if self.sleep:
            self.sleep()
        self.calls.append(("suggest", time))
        if not self.plan:
            return None
        item = self.plan[0]
        if callable(item):
            item = item(self, time)
            if item is None:
                return None
        self.plan.pop(0)
        return item

    def on_report(self, trial, fidelity, metrics, time) -> Decision:
        if self.sleep:
            self.sleep()
        self.calls.append(("report", trial.trial_id, fidelity, time))
        return self.decide(trial.trial_id, fidelity, metrics) if self.decide else Decision.CONTINUE

    def on_end(self, trial, status) -> None:
        self.ended.append((trial.trial_id, status.value))

    def report_levels(self):
        return self.levels
