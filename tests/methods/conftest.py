"""Shared helpers for method tests: a toy multi-fidelity problem and a small event loop.

The loop is a deliberately simple, independent re-implementation of the simulator's trial
life cycle (start, report, pause at a segment's end, resume, stop, complete, fail on NaN). It
checks the protocol as it goes and raises ``ProtocolViolation`` when a method resumes a trial
that is not paused or returns something that is not a ``Suggestion``.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from blackbox_repo.configspace import ConfigurationSpace, choice, uniform
from methods import Decision, Scheduler, Suggestion, Trial, TrialStatus


class ProtocolViolation(AssertionError):
    """A method broke the scheduler protocol."""


@dataclass
class ToyProblem:
    """``n`` configurations x in [0, 1] and c in {a, b}; loss curves over fidelities 1..n_fid.

    ``loss[i, k]`` decreases with the fidelity; about ``nan_fraction`` of the configurations
    have NaN cells from some level on (failed evaluations; before level index ``fail_by`` when
    given). ``acc = -loss`` for mode tests.
    """

    n: int = 300
    n_fid: int = 27
    nan_fraction: float = 0.1
    seed: int = 0
    fail_by: int | None = None       # failures start before this level index (default: anywhere)
    space: ConfigurationSpace = field(init=False)
    configs: list[dict] = field(init=False)
    loss: np.ndarray = field(init=False)
    runtime: np.ndarray = field(init=False)
    index: dict = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.space = ConfigurationSpace({"x": uniform(0, 1), "c": choice(["a", "b"])})
        xs = rng.random(self.n)
        cs = rng.integers(2, size=self.n)
        self.configs = [{"x": float(x), "c": "ab"[c]} for x, c in zip(xs, cs)]
        f = np.arange(1, self.n_fid + 1)
        final = (xs - 0.3) ** 2 + 0.1 * cs + 0.05 * rng.random(self.n)
        self.loss = final[:, None] + (0.5 + rng.random(self.n))[:, None] / f[None, :]
        bad = rng.random(self.n) < self.nan_fraction
        start = rng.integers(0, self.fail_by or self.n_fid, size=self.n)
        for i in np.flatnonzero(bad):
            self.loss[i, start[i]:] = np.nan
        self.runtime = 1.0 + rng.random(self.n)
        self.index = {(c["x"], c["c"]): i for i, c in enumerate(self.configs)}

    @property
    def fidelities(self) -> list[int]:
        return list(range(1, self.n_fid + 1))

    def lookup(self, config: dict) -> int:
        return self.index[(config["x"], config["c"])]


@dataclass
class _Run:
    trial: Trial
    cfg: int
    level: int = -1          # index of the last level reached
    target: int = 0          # index of the segment's last level
    status: str = "running"  # running, paused, stopped, completed, failed


@dataclass
class LoopLog:
    """What happened: one row per report (trial, fidelity, value, time, decision) and more."""

    reports: list[tuple] = field(default_factory=list)
    suggestions: list[tuple] = field(default_factory=list)
    statuses: dict[int, str] = field(default_factory=dict)
    configs: dict[int, int] = field(default_factory=dict)
    max_running: int = 0
    nothing_now: int = 0

    def best(self, mode: str = "min") -> float:
        """Best metric value seen at any report."""
        vals = [r[2] for r in self.reports]
        return (min if mode == "min" else max)(vals)


def run_loop(scheduler: Scheduler, problem: ToyProblem, *, n_workers: int = 4, metric: str = "loss",
             max_trials: int = 100, max_time: float = math.inf) -> LoopLog:
    """Drive ``scheduler`` on ``problem`` until ``max_trials`` have started and all stopped
    running, ``max_time`` passes, or nothing runs and the scheduler has nothing to start."""
    fids = problem.fidelities
    last = len(fids) - 1
    pos = {f: k for k, f in enumerate(fids)}
    levels = scheduler.report_levels()
    must = None if levels is None else {pos[f] for f in levels}
    runs: dict[int, _Run] = {}
    events: list[tuple] = []
    log = LoopLog()
    free = n_workers
    t = 0.0
    seq = 0

    def schedule(run: _Run, now: float) -> None:
        nonlocal seq
        heapq.heappush(events, (now + problem.runtime[run.cfg], seq, run.trial.trial_id))
        seq += 1

    def fill(now: float) -> None:
        nonlocal free
        while free > 0:
            if len(runs) >= max_trials and not any(r.status == "paused" for r in runs.values()):
                return
            s = scheduler.suggest(now)
            if s is None:
                log.nothing_now += 1
                return
            if not isinstance(s, Suggestion):
                raise ProtocolViolation(f"suggest returned {s!r}, not a Suggestion or None")
            target = last if s.max_fidelity is None else pos[s.max_fidelity]
            if s.config is not None:
                if len(runs) >= max_trials:
                    return
                tid = len(runs)
                cfg = problem.lookup(s.config)
                run = runs[tid] = _Run(Trial(tid, dict(s.config), s.meta), cfg)
                log.configs[tid] = cfg
            else:
                run = runs.get(s.resume)
                if run is None or run.status != "paused":
                    state = None if run is None else run.status
                    raise ProtocolViolation(f"resume of trial {s.resume} whose status is {state}")
                if target <= run.level:
                    raise ProtocolViolation(f"resume of trial {s.resume} to level {target} <= {run.level}")
            run.target = target
            run.status = "running"
            log.suggestions.append((run.trial.trial_id, s.resume is not None, fids[target]))
            free -= 1
            schedule(run, now)
        log.max_running = max(log.max_running, n_workers - free)

    fill(t)
    while events:
        t, _, tid = heapq.heappop(events)
        if t > max_time:
            break
        run = runs[tid]
        run.level += 1
        k = run.level
        value = problem.loss[run.cfg, k]
        if np.isnan(value):
            run.status = "failed"
            scheduler.on_end(run.trial, TrialStatus.FAILED)
            free += 1
            fill(t)
            continue
        metrics = {"loss": float(value), "acc": float(-value)}
        decision = Decision.CONTINUE
        if must is None or k in must or k == run.target or k == last:
            decision = scheduler.on_report(run.trial, fids[k], metrics, t)
            if not isinstance(decision, Decision):
                raise ProtocolViolation(f"on_report returned {decision!r}, not a Decision")
        if k == last:
            run.status = "completed"
            scheduler.on_end(run.trial, TrialStatus.COMPLETED)
        elif decision == Decision.STOP:
            run.status = "stopped"
            scheduler.on_end(run.trial, TrialStatus.STOPPED)
        elif decision == Decision.PAUSE or k == run.target:
            run.status = "paused"
        else:
            schedule(run, t)
            log.reports.append((tid, fids[k], metrics[metric], t, decision.value))
            continue
        log.reports.append((tid, fids[k], metrics[metric], t, run.status))
        free += 1
        fill(t)
    log.statuses = {tid: r.status for tid, r in runs.items()}
    return log


@pytest.fixture(scope="session")
def toy() -> ToyProblem:
    """300 configurations, fidelities 1..27, about 10% failing from some level on."""
    return ToyProblem()


@pytest.fixture(name="run_loop")
def run_loop_fixture():
    """The event loop ``run_loop(scheduler, problem, n_workers=, metric=, max_trials=, max_time=)``."""
    return run_loop


@pytest.fixture
def make_trial():
    """``make_trial(trial_id, meta=None)``: a bare trial for hand-driven tests."""
    def make(tid: int, meta: Any = None) -> Trial:
        return Trial(tid, {"x": 0.5}, meta)
    return make
